package permalink_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/postmill/postmill/internal/permalink"
)

func TestSlugify(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"punctuation runs become one hyphen", "Continuous deployment using GitLab CI/CD, SSH", "continuous-deployment-using-gitlab-ci-cd-ssh"},
		{"em dash with spaces is one hyphen", "Podcasts — 2019 edition", "podcasts-2019-edition"},
		{"mixed case is lowered", "DevOps", "devops"},
		{"spaces become hyphens", "infrastructure as code", "infrastructure-as-code"},
		{"accented letters are kept", "Über Café", "über-café"},
		{"decomposed accents give the composed slug", "U\u0308ber Cafe\u0301", "über-café"},
		{"japanese letters are kept", "日本語 タグ", "日本語-タグ"},
		{"cyrillic is lowered", "Москва 2019", "москва-2019"},
		{"greek final sigma folds like capital sigma", "ΟΔΟΣ οδος", "οδοσ-οδοσ"},
		{"hindi vowel signs stay with their letters", "हिन्दी ब्लॉग", "हिन्दी-ब्लॉग"},
		{"letter and mark that compose only in lower case", "Y\u030a", "ẙ"},
		{"a mark with no letter before it is dropped", "\u0301abc", "abc"},
		{"a mark after a separator is dropped", "a \u0301b", "a-b"},
		{"non-ascii digits are kept", "٣ things", "٣-things"},
		{"leading and trailing hyphens are dropped", "--a--", "a"},
		{"symbols are dropped", "C++", "c"},
		{"underscores and dots separate words", "hello_world.v2", "hello-world-v2"},
		{"control characters separate words", "tab\tand\nnewline", "tab-and-newline"},
		{"invisible format characters separate words", "zero\u200bwidth", "zero-width"},
		{"emoji are dropped", "I ❤️ Go", "i-go"},
		{"path characters are dropped", "../../etc/passwd", "etc-passwd"},
		{"empty", "", ""},
		{"only punctuation", "!!!", ""},
		{"only spaces", "   ", ""},
		{"invalid utf-8 is a separator", "a\xffb", "a-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permalink.Slugify(tt.in); got != tt.want {
				t.Errorf("Slugify(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// day is 1 November 2019, 09:00 in UTC.
var day = time.Date(2019, 11, 1, 9, 0, 0, 0, time.UTC)

func TestExpand(t *testing.T) {
	velocity := permalink.Fields{Date: day, Slug: "velocity", Title: "Velocity Amsterdam 2019", Filename: "velocity-2019", Section: "posts"}
	noSlug := velocity
	noSlug.Slug = ""
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	lateNight := velocity
	lateNight.Date = time.Date(2019, 10, 31, 23, 30, 0, 0, time.UTC).In(ams)
	tests := []struct {
		name    string
		pattern string
		fields  permalink.Fields
		want    string
	}{
		{"default pattern with slug", permalink.Default, velocity, "/2019/11/01/velocity/"},
		{"default pattern without slug uses the title", permalink.Default, noSlug, "/2019/11/01/velocity-amsterdam-2019/"},
		{"year", "/:year/:slug/", velocity, "/2019/velocity/"},
		{"month is two digits", "/:month/:slug/", permalink.Fields{Date: time.Date(2019, 3, 5, 0, 0, 0, 0, time.UTC), Slug: "x"}, "/03/x/"},
		{"day is two digits", "/:day/:slug/", permalink.Fields{Date: time.Date(2019, 3, 5, 0, 0, 0, 0, time.UTC), Slug: "x"}, "/05/x/"},
		{"title ignores the slug", "/:title/", velocity, "/velocity-amsterdam-2019/"},
		{"filename", "/:filename/", velocity, "/velocity-2019/"},
		{"section", "/:section/:slug/", velocity, "/posts/velocity/"},
		{"slug is slugified", "/:slug/", permalink.Fields{Slug: "Hello World!"}, "/hello-world/"},
		{"tokens side by side", "/:year:month:day-:slug/", velocity, "/20191101-velocity/"},
		{"literal text around tokens", "/blog/:year/:slug.page/", velocity, "/blog/2019/velocity.page/"},
		{"date is read in the zone it is given in", permalink.Default, lateNight, "/2019/11/01/velocity/"},
		{"trailing slash is added", "/:slug", velocity, "/velocity/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := permalink.Expand(tt.pattern, tt.fields)
			if err != nil {
				t.Fatalf("Expand(%q) error: %v", tt.pattern, err)
			}
			if got != tt.want {
				t.Errorf("Expand(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	f := permalink.Fields{Date: day, Slug: "x", Title: "X", Filename: "x", Section: "posts"}
	tests := []struct {
		name    string
		pattern string
		fields  permalink.Fields
		wantMsg string
		unsafe  bool
	}{
		{"slug and title without letters", "/:slug/", permalink.Fields{Title: "!!!"}, "token :slug is empty", false},
		{"empty filename", "/:filename/", permalink.Fields{}, "token :filename is empty", false},
		{"empty section", "/:section/:slug/", permalink.Fields{Slug: "x"}, "token :section is empty", false},
		{"unknown token", "/:slugx/", f, `unknown token ":slugx"`, false},
		{"hugo token we do not expand", "/:monthname/:slug/", f, `unknown token ":monthname"`, false},
		{"colon alone", "/a:/:slug/", f, `unknown token ":"`, false},
		{"expansion in a reserved folder", "/tags/:slug/", f, "the site keeps /tags/", true},
		{"dot dot in the pattern", "/../:slug/", f, ". or ..", true},
		{"pattern without leading slash", ":slug/", f, "must start with /", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := permalink.Expand(tt.pattern, tt.fields)
			if err == nil {
				t.Fatalf("Expand(%q) = %q, want an error", tt.pattern, got)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Expand(%q) error = %q, want it to contain %q", tt.pattern, err, tt.wantMsg)
			}
			if got := errors.Is(err, permalink.ErrUnsafePath); got != tt.unsafe {
				t.Errorf("errors.Is(%v, ErrUnsafePath) = %v, want %v", err, got, tt.unsafe)
			}
		})
	}
}

func TestValidatePattern(t *testing.T) {
	t.Run("accepted", func(t *testing.T) {
		for _, p := range []string{
			permalink.Default,
			"/:section/:slug/",
			"/:year/:title/",
			"/blog/:filename/",
			"/:year:month/:slug/",
			"/:section/:year/:month/:day/:filename/",
		} {
			if err := permalink.ValidatePattern(p); err != nil {
				t.Errorf("ValidatePattern(%q) = %v, want nil", p, err)
			}
		}
	})
	tests := []struct {
		name    string
		pattern string
		wantMsg string
	}{
		{"empty", "", "must start and end with /"},
		{"no leading slash", ":year/:slug/", "must start and end with /"},
		{"no trailing slash", "/:year/:slug", "must start and end with /"},
		{"unknown token", "/:slugx/", `unknown token ":slugx"`},
		{"hugo token we do not expand", "/:monthname/:slug/", `unknown token ":monthname"`},
		{"colon alone", "/a:/:slug/", `unknown token ":"`},
		{"no token", "/posts/", "no :slug, :title or :filename"},
		{"only date tokens", "/:year/:month/", "no :slug, :title or :filename"},
		{"reserved folder", "/tags/:slug/", "the site keeps /tags/"},
		{"dot dot", "/../:slug/", ". or .."},
		{"protocol-relative", "//evil.example/:slug/", "not an absolute URL"},
		{"empty segment", "/a//:slug/", "empty segment"},
		{"percent", "/%2e/:slug/", "must not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := permalink.ValidatePattern(tt.pattern)
			if err == nil {
				t.Fatalf("ValidatePattern(%q) = nil, want an error", tt.pattern)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("ValidatePattern(%q) = %q, want it to contain %q", tt.pattern, err, tt.wantMsg)
			}
		})
	}
}

func TestCleanPage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"folder", "/about/", "/about/"},
		{"missing trailing slash is added", "/about", "/about/"},
		{"deep folder", "/2019/11/01/velocity/", "/2019/11/01/velocity/"},
		{"dot inside a folder written with its slash", "/v1.2/", "/v1.2/"},
		{"unicode letters", "/über/日本語/", "/über/日本語/"},
		{"hyphens and inner underscores", "/a-b_c/", "/a-b_c/"},
		{"colon inside a segment", "/a:b/", "/a:b/"},
		{"name starting like a reserved folder", "/tagsoup/", "/tagsoup/"},
		{"reserved folder deeper down", "/blog/tags/", "/blog/tags/"},
		{"name starting like a reserved file", "/index-of-things/", "/index-of-things/"},
		{"upper case is kept", "/About/", "/About/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := permalink.CleanPage(tt.in)
			if err != nil {
				t.Fatalf("CleanPage(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("CleanPage(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again, err := permalink.CleanPage(got); err != nil || again != got {
				t.Errorf("CleanPage(%q) = %q, %v; want it unchanged", got, again, err)
			}
		})
	}
}

// rejects are paths no post may use, as page or alias, each named for the
// reason it is refused; wantMsg is part of that reason.
var rejects = []struct {
	name    string
	in      string
	wantMsg string
}{
	{"empty", "", "empty"},
	{"relative", "about/", "must start with /"},
	{"absolute url", "https://evil.example/x", "not an absolute URL"},
	{"protocol-relative url", "//evil/x", "not an absolute URL"},
	{"scheme inside the path", "/x/https://evil.example/", "not an absolute URL"},
	{"dot dot", "/a/../b/", ". or .."},
	{"dot dot at the root", "/../", ". or .."},
	{"dot dot at the end", "/a/..", ". or .."},
	{"single dot", "/./a/", ". or .."},
	{"hidden segment", "/.git/", "must not start with . or _"},
	{"underscore segment", "/_drafts/x/", "must not start with . or _"},
	{"backslash", `/a\b/`, `must not contain \`},
	{"backslash escape to the root", `/\evil/`, `must not contain \`},
	{"percent encoding", "/%2e%2e/", "must not contain"},
	{"query", "/a?b=1", "must not contain"},
	{"fragment", "/a#b", "must not contain"},
	{"space", "/a b/", "spaces"},
	{"tab", "/a\tb/", "spaces"},
	{"newline", "/a\n/", "spaces"},
	{"nul", "/a\x00b/", "control"},
	{"delete", "/a\x7fb/", "control"},
	{"c1 control", "/a\u0085b/", "control"},
	{"zero-width space", "/a\u200bb/", "invisible"},
	{"bidirectional override", "/a\u202eb/", "invisible"},
	{"invalid utf-8", "/a\xffb/", "not valid UTF-8"},
	{"empty segment", "/a//b/", "empty segment"},
	{"trailing double slash", "/a//", "empty segment"},
	{"site root", "/", "the site root belongs to the home page"},
	{"tag pages", "/tags/x/", "the site keeps /tags/"},
	{"tag index", "/tags/", "the site keeps /tags/"},
	{"tag index without slash", "/tags", "the site keeps /tags/"},
	{"tag pages in upper case", "/TAGS/x/", "the site keeps /tags/"},
	{"archive", "/archive/2019/", "the site keeps /archive/"},
	{"stylesheets", "/css/x/", "the site keeps /css/"},
	{"sitemaps", "/sitemaps/", "the site keeps /sitemaps/"},
	{"state", "/_postmill/", "must not start with . or _"},
	{"feed folder", "/index.xml/", "the site keeps /index.xml"},
	{"json feed folder", "/index.json/", "the site keeps /index.json"},
	{"sitemap folder", "/sitemap.xml/", "the site keeps /sitemap.xml"},
	{"not-found page folder", "/404.html/", "the site keeps /404.html"},
	{"longer than 512 bytes", "/" + strings.Repeat("a", 600) + "/", "longer than 512 bytes"},
}

func TestCleanPageRejects(t *testing.T) {
	tests := append(rejects[:len(rejects):len(rejects)], []struct {
		name    string
		in      string
		wantMsg string
	}{
		{"file", "/about.html", "names a folder"},
		{"feed file", "/index.xml", "names a folder"},
		{"sitemap file", "/sitemap.xml", "names a folder"},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkUnsafe(t, "CleanPage", permalink.CleanPage, tt.in, tt.wantMsg)
		})
	}
}

// checkUnsafe checks that clean refuses in with an ErrUnsafePath whose
// message holds wantMsg and is valid UTF-8 on one line.
func checkUnsafe(t *testing.T, name string, clean func(string) (string, error), in, wantMsg string) {
	t.Helper()
	got, err := clean(in)
	if err == nil {
		t.Fatalf("%s(%q) = %q, want an error", name, in, got)
	}
	if !errors.Is(err, permalink.ErrUnsafePath) {
		t.Errorf("%s(%q) error %v is not ErrUnsafePath", name, in, err)
	}
	if !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("%s(%q) error = %q, want it to contain %q", name, in, err, wantMsg)
	}
	if msg := err.Error(); !utf8.ValidString(msg) || strings.Contains(msg, "\n") {
		t.Errorf("%s(%q) error %q is not one line of valid UTF-8", name, in, msg)
	}
}

func TestCleanAlias(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"folder", "/old/", "/old/"},
		{"folder without slash", "/old", "/old/"},
		{"html file", "/old.html", "/old.html"},
		{"htm file in upper case", "/old.HTM", "/old.HTM"},
		{"html file in a folder", "/2019/old-post/index.html", "/2019/old-post/index.html"},
		{"folder named like a file", "/old.html/", "/old.html/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := permalink.CleanAlias(tt.in)
			if err != nil {
				t.Fatalf("CleanAlias(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("CleanAlias(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanAliasRejects(t *testing.T) {
	tests := append(rejects[:len(rejects):len(rejects)], []struct {
		name    string
		in      string
		wantMsg string
	}{
		{"other file type", "/old.php", "an alias must be a folder"},
		{"feed file", "/index.xml", "an alias must be a folder"},
		{"home page file", "/index.html", "the site keeps /index.html"},
		{"not-found page", "/404.html", "the site keeps /404.html"},
		{"not-found page in upper case", "/404.HTML", "the site keeps /404.html"},
		{"html file in tag pages", "/tags/x.html", "the site keeps /tags/"},
		{"html file in stylesheets", "/css/x.html", "the site keeps /css/"},
		{"html file named only by its extension", "/.html", "must not start with . or _"},
		{"html file above the root", "/../x.html", ". or .."},
		{"absolute url to an html file", "https://evil.example/x.html", "not an absolute URL"},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkUnsafe(t, "CleanAlias", permalink.CleanAlias, tt.in, tt.wantMsg)
		})
	}
}

func TestFile(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"folder is its index file", "/a/b/", "a/b/index.html"},
		{"html alias is itself", "/old.html", "old.html"},
		{"root is the home page", "/", "index.html"},
		{"empty is the home page", "", "index.html"},
		{"path without slash is a file", "/about", "about"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permalink.File(tt.in); got != tt.want {
				t.Errorf("File(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzSlugify(f *testing.F) {
	for _, s := range []string{"Continuous deployment using GitLab CI/CD, SSH", "Über Café", "日本語 タグ", "हिन्दी", "--a--", "ΟΔΟΣ", "\u0301x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slug := permalink.Slugify(s)
		if again := permalink.Slugify(slug); again != slug {
			t.Fatalf("Slugify(%q) = %q, but Slugify(%q) = %q", s, slug, slug, again)
		}
		if slug == "" {
			return
		}
		if strings.HasPrefix(slug, "-") || strings.HasSuffix(slug, "-") || strings.Contains(slug, "--") {
			t.Fatalf("Slugify(%q) = %q has a stray hyphen", s, slug)
		}
		if len(slug) > 500 {
			return
		}
		p, err := permalink.CleanPage("/x/" + slug + "/")
		if err != nil || p != "/x/"+slug+"/" {
			t.Fatalf("slug %q of %q is not a safe path segment: %v", slug, s, err)
		}
	})
}
