package markdown

import (
	"net/url"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// FuzzRender checks that rendering never fails or panics, is deterministic,
// and never lets script through. The seeds are kept small: the fuzzer
// minimizes every new interesting input, and minimizing the kilobyte-long
// golden inputs took the whole fuzzing time.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"",
		"# Title {#id .class}\n\nText with a footnote[^1].\n\n[^1]: Note.",
		"- [ ] task\n  > quote\n  > ```go\n  > x\n  > ```",
		"a | b\n-|-\n1 | 2\n\n<!--more-->\n\nTerm\n: Def",
		"<img src=x onerror=alert(1)><script>x</script>[a](javascript:b)",
		"```go {hl_lines=[1-2] linenos=table}\nfunc f() {}\n```",
		"## \"Über\" -- *x* [y](./z)\n\n## Über\n\n1. www.example.com\n2. ~~s~~ <b>raw</b>",
		"> > nested\n>\n> - list\n>   1. deeper\n\n    indented code",
	} {
		f.Add([]byte(s))
	}
	safe, unsafe := New(), New(WithUnsafeHTML(true), WithSummaryWords(5))
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, r := range []*Renderer{safe, unsafe} {
			res, err := r.Render(src)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			checkSafe(t, res.HTML)
			checkSafe(t, res.Summary)
			again, err := r.Render(src)
			if err != nil || again != res {
				t.Fatalf("second Render differs (err %v)", err)
			}
			sum, err := r.RenderSummary(string(src))
			if err != nil {
				t.Fatalf("RenderSummary: %v", err)
			}
			checkSafe(t, sum)
		}
	})
}

// checkSafe fails the test if fragment has an element or attribute that
// could run script.
func checkSafe(t *testing.T, fragment string) {
	t.Helper()
	z := xhtml.NewTokenizer(strings.NewReader(fragment))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.DataAtom {
		case atom.Script, atom.Iframe, atom.Object, atom.Embed, atom.Style, atom.Form, atom.Base, atom.Meta, atom.Link:
			t.Fatalf("output has <%s>: %q", tok.Data, fragment)
		}
		for _, a := range tok.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Fatalf("output has %s attribute: %q", a.Key, fragment)
			}
			v := strings.ToLower(strings.TrimSpace(a.Val))
			if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") {
				t.Fatalf("output has %s=%q: %q", a.Key, a.Val, fragment)
			}
		}
	}
}

func FuzzAbsolutize(f *testing.F) {
	for _, s := range []string{
		``,
		`<a href="./x">x</a> <img src="../i.png" srcset="a.png 1x, b.png 2x"> <a href="#fn:1">1</a>`,
		`<a href="mailto:a@example.com">m</a><video poster="p.jpg"></video>`,
		`<A HREF=x>`,
		`<img src="x"/><!-- <a href="y"> --><script>"<a href='z'>"</script>`,
		`<img srcset="data:image/png;base64,AA== 1x, x (y,z) 2x,,, ,">`,
		`text <a href="./x`,
	} {
		f.Add(s, "https://blog.example/2019/11/01/velocity/")
	}
	f.Add(`<a href="x">`, "http://[::1]:8080/a/b?c#d")
	f.Fuzz(func(t *testing.T, fragment, baseURL string) {
		base, err := url.Parse(baseURL)
		if err != nil {
			return
		}
		out, err := Absolutize(fragment, base)
		if err != nil {
			if base.IsAbs() && base.Host != "" {
				t.Fatalf("Absolutize with base %q: %v", baseURL, err)
			}
			return
		}
		lower := strings.ToLower(fragment)
		if !strings.Contains(lower, "href") && !strings.Contains(lower, "src") && !strings.Contains(lower, "poster") && out != fragment {
			t.Fatalf("Absolutize changed a fragment without URLs:\n in %q\nout %q", fragment, out)
		}
		again, err := Absolutize(out, base)
		if err != nil || again != out {
			t.Fatalf("Absolutize is not idempotent (err %v):\n once %q\ntwice %q", err, out, again)
		}
	})
}
