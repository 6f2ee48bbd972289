package markdown

import (
	"net/url"
	"testing"
)

func TestAbsolutize(t *testing.T) {
	base := mustParse(t, "https://blog.example/2019/11/01/velocity/")
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"dot relative image", `<img src="./img.png" alt="x">`, `<img src="https://blog.example/2019/11/01/velocity/img.png" alt="x">`},
		{"bare relative", `<a href="slides.pdf">s</a>`, `<a href="https://blog.example/2019/11/01/velocity/slides.pdf">s</a>`},
		{"parent", `<a href="../x">x</a>`, `<a href="https://blog.example/2019/11/01/x">x</a>`},
		{"above the root", `<a href="../../../../../x">x</a>`, `<a href="https://blog.example/x">x</a>`},
		{"root relative", `<a href="/abs">x</a>`, `<a href="https://blog.example/abs">x</a>`},
		{"fragment", `<a href="#fn:1">1</a>`, `<a href="https://blog.example/2019/11/01/velocity/#fn:1">1</a>`},
		{"unicode fragment kept as written", `<a href="#über-die-konferenz">x</a>`, `<a href="https://blog.example/2019/11/01/velocity/#über-die-konferenz">x</a>`},
		{"query", `<a href="?page=2">x</a>`, `<a href="https://blog.example/2019/11/01/velocity/?page=2">x</a>`},
		{"protocol relative", `<img src="//cdn.example/i.png">`, `<img src="https://cdn.example/i.png">`},
		{"https untouched", `<a href="https://other.example/a?b=1&amp;c=2">x</a>`, `<a href="https://other.example/a?b=1&amp;c=2">x</a>`},
		{"mailto untouched", `<a href="mailto:a@example.com">x</a>`, `<a href="mailto:a@example.com">x</a>`},
		{"data untouched", `<img src="data:image/png;base64,AAAA">`, `<img src="data:image/png;base64,AAAA">`},
		{"empty untouched", `<a href="">x</a>`, `<a href="">x</a>`},
		{"malformed untouched", `<a href="%zz">x</a>`, `<a href="%zz">x</a>`},
		{"surrounding spaces trimmed", `<a href=" ./x ">x</a>`, `<a href="https://blog.example/2019/11/01/velocity/x">x</a>`},
		{"entity decoded and re-escaped", `<a href="a?x=1&amp;y=2">x</a>`, `<a href="https://blog.example/2019/11/01/velocity/a?x=1&amp;y=2">x</a>`},
		{"poster and source", `<video poster="p.jpg"><source src="v.mp4"></video>`, `<video poster="https://blog.example/2019/11/01/velocity/p.jpg"><source src="https://blog.example/2019/11/01/velocity/v.mp4"></video>`},
		{
			"srcset",
			`<img srcset="a.png 1x, /b.png 2x,https://c.example/c.png 3x" src="a.png">`,
			`<img srcset="https://blog.example/2019/11/01/velocity/a.png 1x, https://blog.example/b.png 2x,https://c.example/c.png 3x" src="https://blog.example/2019/11/01/velocity/a.png">`,
		},
		{
			"srcset without descriptors",
			`<img srcset="a.png, b.png">`,
			`<img srcset="https://blog.example/2019/11/01/velocity/a.png, https://blog.example/2019/11/01/velocity/b.png">`,
		},
		{
			// As in browsers: a comma inside a run without spaces is
			// part of the URL.
			"srcset comma without space",
			`<img srcset="a.png,b.png">`,
			`<img srcset="https://blog.example/2019/11/01/velocity/a.png,b.png">`,
		},
		{
			"srcset with a data url",
			`<img srcset="data:image/png;base64,AA== 1x, hi.png 2x">`,
			`<img srcset="data:image/png;base64,AA== 1x, https://blog.example/2019/11/01/velocity/hi.png 2x">`,
		},
		{"upper-case attribute", `<A HREF="x">x</A>`, `<a href="https://blog.example/2019/11/01/velocity/x">x</A>`},
		{"self-closing", `<img src="x"/>`, `<img src="https://blog.example/2019/11/01/velocity/x"/>`},
		{"other attributes untouched", `<a title="./x" data-src="./y" href="https://e.example/">t</a>`, `<a title="./x" data-src="./y" href="https://e.example/">t</a>`},
		{"text untouched", `<p>href="./x" &amp; &lt;b&gt;</p>`, `<p>href="./x" &amp; &lt;b&gt;</p>`},
		{"comments untouched", `<!-- <a href="./x"> -->`, `<!-- <a href="./x"> -->`},
		{"script content untouched", `<script>var a = "<a href='./x'>";</script>`, `<script>var a = "<a href='./x'>";</script>`},
		{"unterminated tag untouched", `text <a href="./x`, `text <a href="./x`},
		{"empty", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Absolutize(tt.in, base)
			if err != nil {
				t.Fatalf("Absolutize(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Absolutize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAbsolutizeBaseWithFragmentAndQuery(t *testing.T) {
	base := mustParse(t, "https://blog.example/p/?lang=de#top")
	got, err := Absolutize(`<a href="#fn:1">1</a><a href="x">x</a>`, base)
	if err != nil {
		t.Fatal(err)
	}
	want := `<a href="https://blog.example/p/?lang=de#fn:1">1</a><a href="https://blog.example/p/x">x</a>`
	if got != want {
		t.Errorf("Absolutize = %q, want %q", got, want)
	}
}

func TestAbsolutizeRejectsRelativeBase(t *testing.T) {
	for _, base := range []*url.URL{nil, mustParse(t, "/2019/11/01/velocity/"), mustParse(t, "https:relative")} {
		if _, err := Absolutize(`<a href="x">x</a>`, base); err == nil {
			t.Errorf("Absolutize with base %v: no error", base)
		}
	}
}

func mustParse(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
