package post_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/frontmatter"
	"github.com/postmill/postmill/internal/permalink"
	"github.com/postmill/postmill/internal/post"
)

const key = "posts/x.md"

// toml and yaml wrap front matter lines in their fences, with a body.
func toml(lines ...string) string {
	return "+++\n" + strings.Join(lines, "\n") + "\n+++\nBody text.\n"
}

func yaml(lines ...string) string {
	return "---\n" + strings.Join(lines, "\n") + "\n---\nBody text.\n"
}

// at parses an RFC 3339 time.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func amsterdam(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	return loc
}

func mustParse(t *testing.T, src string, opts post.Options) *post.Post {
	t.Helper()
	p, err := post.Parse(key, []byte(src), opts)
	if err != nil {
		t.Fatalf("Parse(%q) error:\n%v", src, err)
	}
	return p
}

func TestParseFields(t *testing.T) {
	title := func(p *post.Post) any { return p.Title }
	tests := []struct {
		name string
		src  string
		got  func(*post.Post) any
		want any
	}{
		{"title from toml", toml(`title = "Hello"`), title, "Hello"},
		{"title from yaml", yaml(`title: Hello`), title, "Hello"},
		{"title from json", `{"title": "Hello"}` + "\nBody\n", title, "Hello"},
		{"title is trimmed", toml(`title = "  Hello  "`), title, "Hello"},
		{"title that is a number", toml(`title = 2019`), title, "2019"},
		{"keys are case-insensitive", toml(`TITLE = "Hello"`), title, "Hello"},
		{"all-lower-case key wins over its twin", `{"Title": "a", "title": "b"}`, title, "b"},
		{"format", yaml(`title: x`), func(p *post.Post) any { return p.Format }, frontmatter.YAML},
		{"description", toml(`title = "x"`, `description = " About things "`), func(p *post.Post) any { return p.Description }, "About things"},
		{"summary", toml(`title = "x"`, `summary = "In *short*"`), func(p *post.Post) any { return p.Summary }, "In *short*"},
		{"draft true", toml(`title = "x"`, `draft = true`), func(p *post.Post) any { return p.Draft }, true},
		{"draft absent is false", toml(`title = "x"`), func(p *post.Post) any { return p.Draft }, false},
		{"draft yes in yaml", yaml(`title: x`, `draft: yes`), func(p *post.Post) any { return p.Draft }, true},
		{"draft false as text", toml(`title = "x"`, `draft = "false"`), func(p *post.Post) any { return p.Draft }, false},
		{"slug as written", toml(`title = "x"`, `slug = " My Slug "`), func(p *post.Post) any { return p.Slug }, "My Slug"},
		{"slug makes the path", toml(`title = "x"`, `date = 2019-11-01`, `slug = "My Slug"`), func(p *post.Post) any { return p.Path }, "/2019/11/01/my-slug/"},
		{"title makes the path without slug", toml(`title = "Velocity: Amsterdam!"`, `date = 2019-11-01`), func(p *post.Post) any { return p.Path }, "/2019/11/01/velocity-amsterdam/"},
		{"url is cleaned", toml(`title = "x"`, `url = "/about"`), func(p *post.Post) any { return p.URL }, "/about/"},
		{"url overrides the pattern", toml(`title = "x"`, `date = 2019-11-01`, `slug = "s"`, `url = "/about/"`), func(p *post.Post) any { return p.Path }, "/about/"},
		{"url is trimmed", toml(`title = "x"`, `url = " /about/ "`), func(p *post.Post) any { return p.Path }, "/about/"},
		{"no url is empty", toml(`title = "x"`), func(p *post.Post) any { return p.URL }, ""},
		{"aliases cleaned, one per file, first spelling kept", toml(`title = "x"`, `aliases = ["/old", "/old/index.html", "/old.html", "/old/"]`), func(p *post.Post) any { return p.Aliases }, []string{"/old/", "/old.html"}},
		{"alias as a single string", yaml(`title: x`, `aliases: /old/`), func(p *post.Post) any { return p.Aliases }, []string{"/old/"}},
		{"no aliases", toml(`title = "x"`), func(p *post.Post) any { return p.Aliases }, []string(nil)},
		{"tags deduplicated by slug keeping the first spelling", toml(`title = "x"`, `tags = ["DevOps", "devops", "Infrastructure as code", "infrastructure-as-code", "DEVOPS"]`), func(p *post.Post) any { return p.Tags }, []string{"DevOps", "Infrastructure as code"}},
		{"tags trimmed, empty ones dropped", yaml(`title: x`, `tags: [" go ", "", "  "]`), func(p *post.Post) any { return p.Tags }, []string{"go"}},
		{"tag as a single string", yaml(`title: x`, `tags: go`), func(p *post.Post) any { return p.Tags }, []string{"go"}},
		{"null tags are skipped", yaml(`title: x`, `tags: [go, ~, null]`), func(p *post.Post) any { return p.Tags }, []string{"go"}},
		{"numeric tags", toml(`title = "x"`, `tags = [2019, 1.5]`), func(p *post.Post) any { return p.Tags }, []string{"2019", "1.5"}},
		{"no tags", toml(`title = "x"`, `tags = []`), func(p *post.Post) any { return p.Tags }, []string(nil)},
		{"many duplicate tags are one", toml(`title = "x"`, `tags = [`+strings.Repeat(`"Go", "go", `, post.MaxTags)+`"GO"]`), func(p *post.Post) any { return p.Tags }, []string{"Go"}},
		{"categories deduplicated like tags", yaml(`title: x`, `categories: [Talks, talks, Podcasts]`), func(p *post.Post) any { return p.Categories }, []string{"Talks", "Podcasts"}},
		{"author as a name", toml(`title = "x"`, `author = " Ann Example "`), func(p *post.Post) any { return p.Author }, post.Author{Name: "Ann Example"}},
		{"author as a toml table", toml(`title = "x"`, `[author]`, `name = "Ann"`, `email = "ann@example.com"`, `uri = "https://ann.example/"`), func(p *post.Post) any { return p.Author }, post.Author{Name: "Ann", Email: "ann@example.com", URI: "https://ann.example/"}},
		{"author as a yaml mapping with url", yaml(`title: x`, `author:`, `  name: Ann`, `  url: http://ann.example/`), func(p *post.Post) any { return p.Author }, post.Author{Name: "Ann", URI: "http://ann.example/"}},
		{"author uri wins over url", yaml(`title: x`, `author: {name: Ann, url: "https://a.example/", uri: "https://b.example/"}`), func(p *post.Post) any { return p.Author }, post.Author{Name: "Ann", URI: "https://b.example/"}},
		{"author keys in any case", `{"title": "x", "author": {"Name": "Ann", "EMAIL": "a@x"}}`, func(p *post.Post) any { return p.Author }, post.Author{Name: "Ann", Email: "a@x"}},
		{"author lower-case key wins", `{"title": "x", "author": {"Name": "Bob", "name": "Ann"}}`, func(p *post.Post) any { return p.Author }, post.Author{Name: "Ann"}},
		{"author null fields are empty", yaml(`title: x`, `author: {name: Ann, email: ~}`), func(p *post.Post) any { return p.Author }, post.Author{Name: "Ann"}},
		{"author unknown keys ignored", yaml(`title: x`, `author: {name: Ann, twitter: "@ann"}`), func(p *post.Post) any { return p.Author }, post.Author{Name: "Ann"}},
		{"no author", toml(`title = "x"`), func(p *post.Post) any { return p.Author }, post.Author{}},
		{"body after the front matter", toml(`title = "x"`), func(p *post.Post) any { return string(p.Body) }, "Body text.\n"},
		{"body line", toml(`title = "x"`, `draft = false`), func(p *post.Post) any { return p.BodyLine }, 5},
		{"key", toml(`title = "x"`), func(p *post.Post) any { return p.Key }, key},
		{"multi-line title text is kept", yaml(`title: |`, `  Two`, `  lines`), title, "Two\nlines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.src, post.Options{ModTime: at(t, "2024-01-01T00:00:00Z")})
			if got := tt.got(p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// dates are a post's four resolved dates.
type dates struct {
	Date, Publish, Lastmod, Expiry time.Time
}

func (d dates) equal(o dates) bool {
	return d.Date.Equal(o.Date) && d.Publish.Equal(o.Publish) && d.Lastmod.Equal(o.Lastmod) && d.Expiry.Equal(o.Expiry)
}

func TestParseDateFallbacks(t *testing.T) {
	var (
		modTime = at(t, "2024-01-01T00:00:00Z")
		d1      = at(t, "2019-11-01T00:00:00Z")
		d2      = at(t, "2019-11-02T00:00:00Z")
		d3      = at(t, "2019-11-03T00:00:00Z")
		d4      = at(t, "2019-11-04T00:00:00Z")
		zero    time.Time
	)
	tests := []struct {
		name  string
		lines []string
		want  dates
	}{
		{"date: the date field", []string{`date = 2019-11-01`}, dates{d1, d1, d1, zero}},
		{"date: falls back to publishDate", []string{`publishDate = 2019-11-02`}, dates{d2, d2, d2, zero}},
		{"date: falls back to pubdate", []string{`pubdate = 2019-11-02`}, dates{d2, d2, d2, zero}},
		{"date: falls back to published", []string{`published = 2019-11-02`}, dates{d2, d2, d2, zero}},
		{"date: falls back to lastmod", []string{`lastmod = 2019-11-03`}, dates{d3, d3, d3, zero}},
		{"date: falls back to modified", []string{`modified = 2019-11-03`}, dates{d3, d3, d3, zero}},
		{"date: falls back to the file's modification time", nil, dates{modTime, modTime, modTime, zero}},
		{"date: an empty date is unset", []string{`date = ""`, `lastmod = 2019-11-03`}, dates{d3, d3, d3, zero}},
		{"publishDate: the publishDate field", []string{`date = 2019-11-01`, `publishDate = 2019-11-02`}, dates{d1, d2, d2, zero}},
		{"publishDate: the pubdate alias", []string{`date = 2019-11-01`, `pubdate = 2019-11-02`}, dates{d1, d2, d2, zero}},
		{"publishDate: the published alias", []string{`date = 2019-11-01`, `published = 2019-11-02`}, dates{d1, d2, d2, zero}},
		{"publishDate: publishDate wins over its aliases", []string{`date = 2019-11-01`, `published = 2019-11-03`, `pubdate = 2019-11-04`, `publishDate = 2019-11-02`}, dates{d1, d2, d2, zero}},
		{"publishDate: pubdate wins over published", []string{`date = 2019-11-01`, `published = 2019-11-03`, `pubdate = 2019-11-02`}, dates{d1, d2, d2, zero}},
		{"publishDate: falls back to date", []string{`date = 2019-11-01`, `lastmod = 2019-11-03`}, dates{d1, d1, d3, zero}},
		{"publishDate: falls back to lastmod through date", []string{`lastmod = 2019-11-03`}, dates{d3, d3, d3, zero}},
		{"lastmod: the lastmod field", []string{`date = 2019-11-01`, `lastmod = 2019-11-03`}, dates{d1, d1, d3, zero}},
		{"lastmod: the modified alias", []string{`date = 2019-11-01`, `modified = 2019-11-03`}, dates{d1, d1, d3, zero}},
		{"lastmod: lastmod wins over modified", []string{`date = 2019-11-01`, `modified = 2019-11-04`, `lastmod = 2019-11-03`}, dates{d1, d1, d3, zero}},
		{"lastmod: falls back to date", []string{`date = 2019-11-01`}, dates{d1, d1, d1, zero}},
		{"lastmod: falls back to publishDate through date", []string{`publishDate = 2019-11-02`}, dates{d2, d2, d2, zero}},
		{"lastmod: before publishDate is raised to it", []string{`publishDate = 2019-11-03`, `lastmod = 2019-11-01`}, dates{d3, d3, d3, zero}},
		{"lastmod: before publishDate with a date is raised to it", []string{`date = 2019-11-01`, `publishDate = 2019-11-03`, `lastmod = 2019-11-02`}, dates{d1, d3, d3, zero}},
		{"lastmod: a date after publishDate falls back as lastmod", []string{`date = 2019-11-04`, `publishDate = 2019-11-02`}, dates{d4, d2, d4, zero}},
		{"expiryDate: the expiryDate field", []string{`date = 2019-11-01`, `expiryDate = 2019-11-04`}, dates{d1, d1, d1, d4}},
		{"expiryDate: the unpublishdate alias", []string{`date = 2019-11-01`, `unpublishdate = 2019-11-04`}, dates{d1, d1, d1, d4}},
		{"expiryDate: none means never", []string{`date = 2019-11-01`}, dates{d1, d1, d1, zero}},
		{"expiryDate: does not fall back", []string{`lastmod = 2019-11-03`}, dates{d3, d3, d3, zero}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := toml(append([]string{`title = "x"`}, tt.lines...)...)
			p := mustParse(t, src, post.Options{ModTime: modTime})
			got := dates{p.Date, p.PublishDate, p.Lastmod, p.ExpiryDate}
			if !got.equal(tt.want) {
				t.Errorf("dates of %q\n got %+v\nwant %+v", src, got, tt.want)
			}
		})
	}
}

func TestParseDateFormats(t *testing.T) {
	ams := amsterdam(t)
	tests := []struct {
		name string
		src  string
		loc  *time.Location
		want string // RFC 3339 in UTC
	}{
		{"yaml offset-less time is in the site zone", yaml(`title: x`, `date: 2019-11-01T09:00:00`), ams, "2019-11-01T08:00:00Z"},
		{"toml local datetime is in the site zone", toml(`title = "x"`, `date = 2019-11-01T09:00:00`), ams, "2019-11-01T08:00:00Z"},
		{"toml local date is midnight in the site zone", toml(`title = "x"`, `date = 2019-11-01`), ams, "2019-10-31T23:00:00Z"},
		{"yaml date only is midnight in the site zone", yaml(`title: x`, `date: 2019-11-01`), ams, "2019-10-31T23:00:00Z"},
		{"summer time in the site zone", yaml(`title: x`, `date: 2019-07-01 09:00`), ams, "2019-07-01T07:00:00Z"},
		{"json offset-less time with a space", `{"title": "x", "date": "2019-11-01 09:00:00"}`, ams, "2019-11-01T08:00:00Z"},
		{"rfc 3339 offset wins over the site zone", yaml(`title: x`, `date: 2019-11-01T09:00:00Z`), ams, "2019-11-01T09:00:00Z"},
		{"toml offset datetime wins over the site zone", toml(`title = "x"`, `date = 2019-11-01T09:00:00-05:00`), ams, "2019-11-01T14:00:00Z"},
		{"text offset datetime in toml", toml(`title = "x"`, `date = "2019-11-01T09:00:00+01:00"`), time.UTC, "2019-11-01T08:00:00Z"},
		{"offset without colon", yaml(`title: x`, `date: 2019-11-01T09:00:00+0100`), time.UTC, "2019-11-01T08:00:00Z"},
		{"space and numeric offset", yaml(`title: x`, `date: 2019-11-01 09:00:00 +0100`), time.UTC, "2019-11-01T08:00:00Z"},
		{"fractional seconds", yaml(`title: x`, `date: 2019-11-01T09:00:00.25+01:00`), time.UTC, "2019-11-01T08:00:00.25Z"},
		{"yaml lower-case t and z", yaml(`title: x`, `date: 2019-11-01t09:00:00z`), ams, "2019-11-01T09:00:00Z"},
		{"default zone is utc", yaml(`title: x`, `date: 2019-11-01T09:00:00`), nil, "2019-11-01T09:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.src, post.Options{Location: tt.loc})
			if want := at(t, tt.want); !p.Date.Equal(want) {
				t.Errorf("Date = %v, want %v", p.Date.UTC(), want)
			}
		})
	}
}

func TestParsePath(t *testing.T) {
	ams := amsterdam(t)
	tests := []struct {
		name string
		key  string
		src  string
		opts post.Options
		want string
	}{
		{"default pattern", key, toml(`title = "Velocity"`, `date = 2019-11-01T09:00:00Z`), post.Options{}, "/2019/11/01/velocity/"},
		{"date tokens in the site zone", key, toml(`title = "Velocity"`, `date = 2019-10-31T23:30:00Z`), post.Options{Location: ams}, "/2019/11/01/velocity/"},
		{"date tokens in utc by default", key, toml(`title = "Velocity"`, `date = 2019-10-31T23:30:00Z`), post.Options{}, "/2019/10/31/velocity/"},
		{"file mod time gives the date", key, toml(`title = "Velocity"`), post.Options{ModTime: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)}, "/2024/02/03/velocity/"},
		{"filename and section", "posts/velocity-2019.md", toml(`title = "x"`), post.Options{Permalink: "/:section/:filename/"}, "/posts/velocity-2019/"},
		{"bundle filename is its folder", "posts/talk/index.md", toml(`title = "x"`), post.Options{Permalink: "/:filename/"}, "/talk/"},
		{"slug pattern", key, toml(`title = "Continuous deployment using GitLab CI/CD, SSH"`), post.Options{Permalink: "/:slug/"}, "/continuous-deployment-using-gitlab-ci-cd-ssh/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := post.Parse(tt.key, []byte(tt.src), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if p.Path != tt.want {
				t.Errorf("Path = %q, want %q", p.Path, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	manyTags := make([]string, 5000)
	for i := range manyTags {
		manyTags[i] = fmt.Sprintf("%q", fmt.Sprint("tag", i))
	}
	tests := []struct {
		name     string
		src      string
		opts     post.Options
		wantLine int
		wantMsg  string
	}{
		{"empty file", "", post.Options{}, 1, "the file is empty"},
		{"no front matter", "# Hello\n\ntext\n", post.Options{}, 1, "no front matter"},
		{"only a byte order mark", "\ufeff", post.Options{}, 1, "no front matter"},
		{"no title", toml(`draft = false`), post.Options{}, 1, "the front matter has no title"},
		{"no title after blank lines points at the fence", "\n\n" + yaml(`draft: false`), post.Options{}, 3, "the front matter has no title"},
		{"no title in json", "{\"draft\": false}\n", post.Options{}, 1, "the front matter has no title"},
		{"blank title", toml(`draft = false`, `title = "  "`), post.Options{}, 3, "the front matter has no title"},
		{"null title", yaml(`title: ~`), post.Options{}, 2, "the front matter has no title"},
		{"title in a table is not the post's title", toml(`draft = false`, `[params]`, `title = "y"`), post.Options{}, 1, "the front matter has no title"},
		{"title that is a list", toml(`draft = false`, `title = [1, 2]`), post.Options{}, 3, "title: want text, got a list"},
		{"title that is a date", toml(`title = 2019-11-01`), post.Options{}, 2, "title: want text, got a date"},
		{"title with a control character", toml(`title = "a\u0007b"`), post.Options{}, 2, "title: contains the control character U+0007"},
		{"title longer than MaxFieldBytes", toml(`title = "` + strings.Repeat("x", post.MaxFieldBytes+1) + `"`), post.Options{}, 2, "title: longer than 4096 bytes"},
		{"title without letters makes no path", toml(`title = "!!!"`), post.Options{}, 2, "cannot make the post's path: permalink token :slug is empty"},
		{"title whose slug is reserved", toml(`draft = false`, `title = "Tags"`), post.Options{Permalink: "/:slug/"}, 3, "the site keeps /tags/"},
		{"bad date", toml(`title = "x"`, `date = "2019-13-45"`), post.Options{}, 3, `date: cannot read "2019-13-45" as a date`},
		{"bad publish date alias in yaml", yaml(`title: x`, `draft: false`, `pubdate: soon`), post.Options{}, 4, `pubdate: cannot read "soon" as a date`},
		{"date that is a number", toml(`title = "x"`, `date = 5`), post.Options{}, 3, "date: want a date, got a number"},
		{"bad date in json", "{\n  \"title\": \"x\",\n  \"date\": \"yesterday\"\n}\n", post.Options{}, 3, `date: cannot read "yesterday"`},
		{"bad date in a crlf file", "+++\r\ntitle = \"x\"\r\ndate = \"bad\"\r\n+++\r\n", post.Options{}, 3, `date: cannot read "bad"`},
		{"bad date after a byte order mark", "\ufeff---\ntitle: x\ndate: bad\n---\n", post.Options{}, 3, `date: cannot read "bad"`},
		{"bad date after leading blank lines", "\n\n" + toml(`title = "x"`, `date = "bad"`), post.Options{}, 5, `date: cannot read "bad"`},
		{"bad date under a quoted key", toml(`"title" = "x"`, `"date" = "bad"`), post.Options{}, 3, `date: cannot read "bad"`},
		{"bad toml", toml(`title = "x"`, `draft = true`, `bad = = 1`), post.Options{}, 4, "invalid TOML front matter"},
		{"bad yaml", yaml(`title: x`, `tags: [a`, `draft: true`), post.Options{}, 3, "invalid YAML front matter: did not find expected ',' or ']'"},
		{"bad json", "{\n  \"title\": \"x\",\n  \"draft\": tru\n}\n", post.Options{}, 3, "invalid JSON front matter"},
		{"unterminated toml", "+++\ntitle = \"x\"\nBody\n", post.Options{}, 1, "never closed"},
		{"unterminated yaml after blank lines", "\n\n---\ntitle: x\n", post.Options{}, 3, "never closed"},
		{"unterminated json", "{\"title\": \"x\"\n", post.Options{}, 1, "never closed"},
		{"yaml alias bomb", "---\ntitle: x\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n---\n", post.Options{}, 6, "expands aliases"},
		{"deeply nested yaml", yaml(`title: x`, `a: `+strings.Repeat("[", 1000)+strings.Repeat("]", 1000)), post.Options{}, 3, "nested"},
		{"deeply nested toml", toml(`title = "x"`, `a = `+strings.Repeat("[", 1000)+strings.Repeat("]", 1000)), post.Options{}, 2, "nested"},
		{"deeply nested json", `{"title": "x", "a": ` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + "}", post.Options{}, 1, "nested"},
		{"url with dot dot", toml(`title = "x"`, `url = "/a/../b/"`), post.Options{}, 3, "url: unsafe path"},
		{"absolute url", toml(`title = "x"`, `url = "https://evil.example/x"`), post.Options{}, 3, "not an absolute URL"},
		{"protocol-relative url", yaml(`title: x`, `url: //evil/x`), post.Options{}, 3, "not an absolute URL"},
		{"url with a backslash", toml(`title = "x"`, `url = '/a\b/'`), post.Options{}, 3, `must not contain \`},
		{"url with a control character", toml(`title = "x"`, `url = "/a\u0001/"`), post.Options{}, 3, "url: contains the control character"},
		{"url in tag pages", toml(`title = "x"`, `url = "/tags/x/"`), post.Options{}, 3, "the site keeps /tags/"},
		{"url of the home page", toml(`title = "x"`, `url = "/"`), post.Options{}, 3, "the site root belongs to the home page"},
		{"url of the feed", toml(`title = "x"`, `url = "/index.xml"`), post.Options{}, 3, "names a folder"},
		{"relative url", toml(`title = "x"`, `url = "about/"`), post.Options{}, 3, "must start with /"},
		{"slug with no letters", toml(`title = "x"`, `slug = "---"`), post.Options{}, 3, `slug "---" has no letters or digits`},
		{"slug with dot dot", toml(`title = "x"`, `slug = "../../etc"`), post.Options{}, 3, "must be one path segment"},
		{"slug with a slash", toml(`title = "x"`, `slug = "a/b"`), post.Options{}, 3, "must be one path segment"},
		{"slug with a backslash", toml(`title = "x"`, `slug = 'a\b'`), post.Options{}, 3, "must be one path segment"},
		{"slug with a control character", toml(`title = "x"`, `slug = "a\u001bb"`), post.Options{}, 3, "slug: contains the control character"},
		{"too many tags", toml(`title = "x"`, `tags = [`+strings.Join(manyTags[:post.MaxTags+1], ", ")+`]`), post.Options{}, 3, "tags: 101 different values; at most 100 are allowed"},
		{"thousands of tags", toml(`title = "x"`, `tags = [`+strings.Join(manyTags, ", ")+`]`), post.Options{}, 3, "tags: 5000 different values"},
		{"tag without letters", toml(`title = "x"`, `tags = ["go", "!!"]`), post.Options{}, 3, `tags: "!!" has no letters or digits`},
		{"tag longer than 200 bytes", toml(`title = "x"`, `tags = ["`+strings.Repeat("é", 101)+`"]`), post.Options{}, 3, "is longer than 200 bytes"},
		{"tags that are a number", toml(`title = "x"`, `tags = 5`), post.Options{}, 3, "tags: want a list of text, got a number"},
		{"tags holding a list", toml(`title = "x"`, `tags = [["a"]]`), post.Options{}, 3, "tags: want a list of text, found a list in it"},
		{"tags holding a boolean", yaml(`title: x`, `tags: [a, true]`), post.Options{}, 3, "tags: want a list of text, found a boolean in it"},
		{"tags holding a control character", yaml(`title: x`, `tags: ["a\x07"]`), post.Options{}, 3, "tags: contains the control character"},
		{"draft that is maybe", toml(`title = "x"`, `draft = "maybe"`), post.Options{}, 3, `draft: want true or false, got "maybe"`},
		{"draft that is a number", toml(`title = "x"`, `draft = 1`), post.Options{}, 3, "draft: want true or false, got a number"},
		{"author that is a number", toml(`title = "x"`, `author = 5`), post.Options{}, 3, "author: want a name, or a table"},
		{"author name that is a number", toml(`title = "x"`, `author = {name = 5}`), post.Options{}, 3, `author: "name": want text, got a number`},
		{"author uri that is not http", toml(`title = "x"`, `author = {name = "a", uri = "javascript:alert(1)"}`), post.Options{}, 3, "must be an http or https URL"},
		{"author table with a bad uri", toml(`title = "x"`, `date = 2020-01-02`, ``, `[author]`, `name = "a"`, `uri = "ftp://x"`), post.Options{}, 5, "must be an http or https URL"},
		{"author uri without host", toml(`title = "x"`, `author = {name = "a", uri = "https://"}`), post.Options{}, 3, "must be an http or https URL"},
		{"author key with a newline stays on one line", yaml(`title: x`, `author:`, `  ? "a\nb"`, `  : 5`), post.Options{}, 3, `author: "a\nb": want text`},
		{"aliases that are a table", toml(`title = "x"`, `aliases = {a = 1}`), post.Options{}, 3, "aliases: want a list of text, got a table"},
		{"alias above the root", toml(`title = "x"`, `aliases = ["/../x/"]`), post.Options{}, 3, "alias: unsafe path"},
		{"alias over a feed", toml(`title = "x"`, `aliases = ["/index.html"]`), post.Options{}, 3, "the site keeps /index.html"},
		{"alias equal to the post's own path", toml(`title = "Velocity"`, `date = 2019-11-01`, `aliases = ["/2019/11/01/velocity/"]`), post.Options{}, 4, `alias "/2019/11/01/velocity/" is the post's own path`},
		{"alias equal to the post's own page file", toml(`title = "Velocity"`, `date = 2019-11-01`, `aliases = ["/2019/11/01/velocity/index.html"]`), post.Options{}, 4, "is the post's own path"},
		{"alias equal to the post's url", toml(`title = "x"`, `url = "/about/"`, `aliases = ["/about"]`), post.Options{}, 4, `alias "/about/" is the post's own path`},
		{"too many aliases", toml(`title = "x"`, `aliases = [`+strings.Repeat(`"/a/", `, post.MaxAliases)+`"/b/"]`), post.Options{}, 3, "101 aliases; at most 100 are allowed"},
		{"nul byte", "+++\ntitle = \"x\"\n\x00\n+++\n", post.Options{}, 3, "NUL byte"},
		{"invalid utf-8", "+++\ntitle = \"x\xff\"\n+++\n", post.Options{}, 2, "not valid UTF-8"},
		{"binary data", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", post.Options{}, 1, "not valid UTF-8"},
		{"utf-16 text", "\xff\xfe+\x00+\x00+\x00", post.Options{}, 1, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := post.Parse(key, []byte(tt.src), tt.opts)
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", p)
			}
			if p != nil {
				t.Errorf("Parse returned a post with its error")
			}
			e := asError(t, err)
			want := fmt.Sprintf("%s:%d: ", key, tt.wantLine)
			for _, l := range e.Lines() {
				if strings.HasPrefix(l, want) && strings.Contains(l, tt.wantMsg) {
					return
				}
			}
			t.Errorf("error:\n%v\nwant a line starting %q and containing %q", err, want, tt.wantMsg)
		})
	}
}

// asError checks that err is a *post.Error, every line of which names the
// file and a line, and returns it.
func asError(t *testing.T, err error) *post.Error {
	t.Helper()
	var e *post.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *post.Error", err, err)
	}
	if len(e.Problems) == 0 {
		t.Fatalf("error %v has no problems", err)
	}
	for _, l := range e.Lines() {
		var line int
		if _, err := fmt.Sscanf(strings.TrimPrefix(l, e.Key+":"), "%d:", &line); err != nil || line < 1 || !strings.HasPrefix(l, e.Key+":") {
			t.Errorf("error line %q is not %q:LINE: problem", l, e.Key)
		}
	}
	if got, want := len(e.Lines()), len(e.Problems); got != want {
		t.Errorf("error has %d lines for %d problems:\n%v", got, want, err)
	}
	return e
}

func TestParseReportsEveryProblem(t *testing.T) {
	src := toml(`draft = "maybe"`, `date = "bad"`, `url = "/../x/"`, `tags = 5`)
	_, err := post.Parse(key, []byte(src), post.Options{})
	e := asError(t, err)
	want := []string{
		key + `:1: the front matter has no title`,
		key + `:2: draft: want true or false, got "maybe"`,
		key + `:5: tags: want a list of text, got a number`,
		key + `:3: date: cannot read "bad" as a date; use RFC 3339 like 2019-11-01T09:00:00+01:00, or 2019-11-01`,
	}
	got := e.Lines()
	if len(got) != len(want)+1 {
		t.Fatalf("got %d problems, want %d:\n%v", len(got), len(want)+1, err)
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("problem %d = %q, want %q", i, got[i], w)
		}
	}
	if !strings.HasPrefix(got[4], key+":4: url: unsafe path") {
		t.Errorf("problem 4 = %q, want the url's", got[4])
	}
}

func TestVisibleAt(t *testing.T) {
	now := at(t, "2019-11-01T12:00:00Z")
	before, after := now.Add(-time.Hour), now.Add(time.Hour)
	tests := []struct {
		name string
		p    post.Post
		want post.Visibility
	}{
		{"published", post.Post{PublishDate: before}, post.Visibility{Published: true}},
		{"published at the moment of its publish date", post.Post{PublishDate: now}, post.Visibility{Published: true}},
		{"published without any date", post.Post{}, post.Visibility{Published: true}},
		{"published before its expiry", post.Post{PublishDate: before, ExpiryDate: after}, post.Visibility{Published: true}},
		{"draft", post.Post{Draft: true, PublishDate: before}, post.Visibility{Reason: "draft"}},
		{"draft wins over scheduled", post.Post{Draft: true, PublishDate: after}, post.Visibility{Reason: "draft"}},
		{"draft wins over expired", post.Post{Draft: true, PublishDate: before, ExpiryDate: before}, post.Visibility{Reason: "draft"}},
		{"scheduled", post.Post{PublishDate: after}, post.Visibility{Reason: "scheduled"}},
		{"scheduled one nanosecond ahead", post.Post{PublishDate: now.Add(1)}, post.Visibility{Reason: "scheduled"}},
		{"scheduled wins over expired", post.Post{PublishDate: after, ExpiryDate: before}, post.Visibility{Reason: "scheduled"}},
		{"expired", post.Post{PublishDate: before, ExpiryDate: before}, post.Visibility{Reason: "expired"}},
		{"expired at the moment of its expiry", post.Post{PublishDate: before, ExpiryDate: now}, post.Visibility{Reason: "expired"}},
		{"same moment in another zone", post.Post{PublishDate: now.In(time.FixedZone("", 3600))}, post.Visibility{Published: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.VisibleAt(now); got != tt.want {
				t.Errorf("VisibleAt(%v) = %+v, want %+v", now, got, tt.want)
			}
		})
	}
}

func TestVisibleAtParsed(t *testing.T) {
	now := at(t, "2019-11-01T12:00:00Z")
	tests := []struct {
		name string
		src  string
		want post.Visibility
	}{
		{"draft", toml(`title = "x"`, `date = 2019-01-01`, `draft = true`), post.Visibility{Reason: "draft"}},
		{"scheduled by publishDate", toml(`title = "x"`, `date = 2019-01-01`, `publishDate = 2019-12-01`), post.Visibility{Reason: "scheduled"}},
		{"scheduled by a future date", toml(`title = "x"`, `date = 2019-12-01`), post.Visibility{Reason: "scheduled"}},
		{"expired", toml(`title = "x"`, `date = 2019-01-01`, `expiryDate = 2019-06-01`), post.Visibility{Reason: "expired"}},
		{"published", toml(`title = "x"`, `date = 2019-01-01`, `expiryDate = 2020-01-01`), post.Visibility{Published: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.src, post.Options{})
			if got := p.VisibleAt(now); got != tt.want {
				t.Errorf("VisibleAt(%v) = %+v, want %+v", now, got, tt.want)
			}
		})
	}
}

func TestNextChange(t *testing.T) {
	now := at(t, "2019-11-01T12:00:00Z")
	before, after, later := now.Add(-time.Hour), now.Add(time.Hour), now.Add(2*time.Hour)
	tests := []struct {
		name string
		p    post.Post
		want time.Time
	}{
		{"draft never changes by itself", post.Post{Draft: true, PublishDate: after}, time.Time{}},
		{"scheduled changes at its publish date", post.Post{PublishDate: after, ExpiryDate: later}, after},
		{"published changes at its expiry", post.Post{PublishDate: before, ExpiryDate: after}, after},
		{"published at now changes at its expiry", post.Post{PublishDate: now, ExpiryDate: after}, after},
		{"published without expiry never changes", post.Post{PublishDate: before}, time.Time{}},
		{"expired never changes", post.Post{PublishDate: before, ExpiryDate: before}, time.Time{}},
		{"expiring at now has already changed", post.Post{PublishDate: before, ExpiryDate: now}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.NextChange(now)
			if !got.Equal(tt.want) {
				t.Errorf("NextChange(%v) = %v, want %v", now, got, tt.want)
			}
			if !got.IsZero() && tt.p.VisibleAt(got) == tt.p.VisibleAt(now) {
				t.Errorf("visibility at NextChange %v is the same as now: %+v", got, tt.p.VisibleAt(got))
			}
		})
	}
}

func TestKeyNames(t *testing.T) {
	tests := []struct {
		name         string
		key          string
		wantFilename string
		wantSection  string
		wantBundle   bool
	}{
		{"plain post", "posts/velocity-2019.md", "velocity-2019", "posts", false},
		{"bundle is named by its folder", "posts/talk/index.md", "talk", "posts", true},
		{"nested post keeps its top section", "posts/2019/velocity.md", "velocity", "posts", false},
		{"only the last extension is dropped", "posts/archive.tar.md", "archive.tar", "posts", false},
		{"branch bundle index is not a leaf bundle", "posts/_index.md", "_index", "posts", false},
		{"post at the top level has no section", "about.md", "about", "", false},
		{"index at the top level", "index.md", "index", "", true},
		{"no extension", "posts/readme", "readme", "posts", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post.Filename(tt.key); got != tt.wantFilename {
				t.Errorf("Filename(%q) = %q, want %q", tt.key, got, tt.wantFilename)
			}
			if got := post.Section(tt.key); got != tt.wantSection {
				t.Errorf("Section(%q) = %q, want %q", tt.key, got, tt.wantSection)
			}
			if got := post.IsBundle(tt.key); got != tt.wantBundle {
				t.Errorf("IsBundle(%q) = %v, want %v", tt.key, got, tt.wantBundle)
			}
		})
	}
}

func TestSortedTagSlugs(t *testing.T) {
	p := post.Post{Tags: []string{"Infrastructure as code", "DevOps", "Über"}}
	got := p.SortedTagSlugs()
	want := []string{"devops", "infrastructure-as-code", "über"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SortedTagSlugs() = %q, want %q", got, want)
	}
}

func TestErrorString(t *testing.T) {
	e := &post.Error{Key: key, Problems: []post.Problem{{Line: 0, Msg: "no line"}, {Line: 7, Msg: "seven"}}}
	if got, want := e.Error(), key+":1: no line\n"+key+":7: seven"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		toml(`title = "Velocity"`, `date = 2019-11-01T09:00:00`, `tags = ["DevOps", "devops"]`, `aliases = ["/old/"]`, `[author]`, `name = "Ann"`),
		yaml(`title: Podcasts — 2019 edition`, `publishDate: 2019-11-01`, `lastmod: 2019-10-01`, `slug: podcasts`, `author: {name: Ann, uri: "https://a.example/"}`),
		`{"title": "JSON", "date": "2019-11-01", "url": "/about/", "draft": true}` + "\nBody",
		"\ufeff+++\r\ntitle = 'x'\r\nexpiryDate = 2020-01-01\r\n+++\r\n",
		toml(`title = "x"`, `url = "https://evil.example/x"`),
		toml(`title = "x"`, `slug = "../.."`),
		yaml(`title: x`, `url: /tags/x/`),
		yaml(`title: x`, `a: &a [x, x]`, `b: [*a, *a]`, `c: {<<: {d: 1}}`),
		"+++\ntitle = \"x\"\n",
		"---\ntitle: [\n---\n",
		"{\"title\": }",
		"+++\n+++\n",
		"no front matter",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := post.Parse("posts/fuzz.md", src, post.Options{ModTime: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			if p != nil {
				t.Fatal("Parse returned a post with its error")
			}
			asError(t, err)
			return
		}
		if p.Title == "" {
			t.Fatal("post has no title")
		}
		if clean, err := permalink.CleanPage(p.Path); err != nil || clean != p.Path {
			t.Fatalf("path %q is not clean: %q, %v", p.Path, clean, err)
		}
		for _, a := range p.Aliases {
			if clean, err := permalink.CleanAlias(a); err != nil || clean != a {
				t.Fatalf("alias %q is not clean: %q, %v", a, clean, err)
			}
			if permalink.File(a) == permalink.File(p.Path) {
				t.Fatalf("alias %q is the post's own path", a)
			}
		}
		if len(p.Tags) > post.MaxTags || len(p.Aliases) > post.MaxAliases {
			t.Fatalf("%d tags and %d aliases", len(p.Tags), len(p.Aliases))
		}
		if p.Lastmod.Before(p.PublishDate) {
			t.Fatalf("lastmod %v before publish date %v", p.Lastmod, p.PublishDate)
		}
	})
}
