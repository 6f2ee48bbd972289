package theme

import (
	"bytes"
	"flag"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.html from the current output")

var (
	cet       = time.FixedZone("CET", 60*60)
	published = time.Date(2019, time.November, 1, 9, 30, 0, 0, cet)
)

func testSite() Site {
	return Site{
		Title:         "Field Notes",
		Description:   "Long-form notes on building and running software.",
		Language:      "en",
		BaseURL:       "https://blog.example/",
		Author:        "Mara Lindqvist",
		StylesheetURL: "/css/site.3f2a9c1e.css",
		FeedURL:       "https://blog.example/feed.xml",
		JSONFeedURL:   "https://blog.example/feed.json",
		Nav: []Link{
			{Title: "Tags", URL: "/tags/"},
			{Title: "About", URL: "/about/"},
		},
		Copyright: "© 2019 Mara Lindqvist",
	}
}

func testTags() []Tag {
	return []Tag{
		{Name: "testing", URL: "/tags/testing/", Count: 4},
		{Name: "infrastructure", URL: "/tags/infrastructure/", Count: 3},
		{Name: "talks", URL: "/tags/talks/", Count: 2},
	}
}

const postContent = `
<p>Last week I gave a talk at <em>Ops Days Nordwest</em> about treating infrastructure code the way we treat application code: with fast tests that run on every change, and slow ones that run before anything touches production. These are the notes I spoke from, tidied up.</p>
<h2 id="the-problem">The problem</h2>
<p>Most teams test their Terraform by applying it. That works until the plan touches a shared VPC on a Friday afternoon. The feedback loop is measured in minutes, and the blast radius in customers.</p>
<blockquote>
<p>If the only test for a change is production, you do not have tests. You have hope.</p>
</blockquote>
<h2 id="three-layers">Three layers of tests</h2>
<ol>
<li><strong>Static checks</strong>: <code>terraform fmt</code>, <code>terraform validate</code> and a policy linter. Seconds.</li>
<li><strong>Plan tests</strong>: render the plan as JSON and assert on it, without credentials.</li>
<li><strong>Ephemeral environments</strong>: apply into a throwaway account, probe, destroy.</li>
</ol>
<p>The plan test is the one people skip, and the one that catches the most:</p>
<pre><code class="language-sh">terraform plan -out=tfplan &amp;&amp; terraform show -json tfplan | jq '.resource_changes[] | select(.change.actions | index("delete")) | .address' | tee deleted-resources.txt
</code></pre>
<h2 id="numbers">What it cost and what it saved</h2>
<table>
<thead>
<tr><th>Layer</th><th>Median runtime</th><th>Failures caught (6 months)</th><th>Runs per change</th></tr>
</thead>
<tbody>
<tr><td>Static checks</td><td>9 s</td><td>41</td><td>every push</td></tr>
<tr><td>Plan tests</td><td>48 s</td><td>27</td><td>every push</td></tr>
<tr><td>Ephemeral environments</td><td>14 min</td><td>6</td><td>before merge</td></tr>
</tbody>
</table>
<p>The slides and the example repository are linked from the conference page. Questions are welcome by email.</p>
`

func testPost() Post {
	return Post{
		Title:          "Testing infrastructure like application code",
		Description:    "Notes from my Ops Days talk: static checks, plan tests and ephemeral environments for Terraform.",
		URL:            "https://blog.example/2019/11/testing-infrastructure/",
		Published:      published,
		Updated:        time.Date(2019, time.November, 3, 18, 0, 0, 0, cet),
		Author:         "Mara Lindqvist",
		Tags:           testTags(),
		Content:        template.HTML(postContent),
		ReadingMinutes: 5,
		Prev:           &Link{Title: "Über Observability — Notizen", URL: "/2019/10/ueber-observability/"},
		Next:           &Link{Title: "Flaky tests are a queueing problem", URL: "/2019/12/flaky-tests/"},
	}
}

func testEntries() []PostSummary {
	return []PostSummary{
		{
			Title:          "Testing infrastructure like application code",
			URL:            "/2019/11/testing-infrastructure/",
			Published:      published,
			Summary:        "<p>Last week I gave a talk at <em>Ops Days Nordwest</em> about treating infrastructure code the way we treat application code.</p>\n",
			Truncated:      true,
			Tags:           testTags(),
			ReadingMinutes: 5,
		},
		{
			Title:          "Über Observability — Notizen",
			URL:            "/2019/10/ueber-observability/",
			Published:      time.Date(2019, time.October, 14, 20, 15, 0, 0, cet),
			Summary:        "<p>Notizen zu Logs, Metriken und Traces – und warum <code>p99</code> allein nichts erklärt.</p>",
			Tags:           []Tag{{Name: "observability", URL: "/tags/observability/"}},
			ReadingMinutes: 1,
		},
	}
}

func testArchive() []ArchiveMonth {
	return []ArchiveMonth{
		{Label: "November 2019", URL: "/2019/11/", Count: 1},
		{Label: "October 2019", URL: "/2019/10/", Count: 3},
		{Label: "September 2019", URL: "/2019/09/", Count: 2},
	}
}

// goldenCases renders every page the theme has.
var goldenCases = []struct {
	name   string
	render func(th *Theme, w *bytes.Buffer) error
}{
	{"post", func(th *Theme, w *bytes.Buffer) error {
		return th.RenderPost(w, testSite(), Page{}, testPost())
	}},
	{"home", func(th *Theme, w *bytes.Buffer) error {
		p := Page{Canonical: "https://blog.example/"}
		return th.RenderList(w, testSite(), p, ListPage{
			Heading: "Field Notes",
			Intro:   "Long-form notes on building and running software, mostly about testing the parts nobody tests.",
			Entries: testEntries(),
			Older:   &Link{Title: "September 2019", URL: "/2019/09/"},
			Archive: testArchive(),
			Feed:    &Link{Title: "Subscribe to all posts", URL: "https://blog.example/feed.xml"},
		})
	}},
	{"tag", func(th *Theme, w *bytes.Buffer) error {
		feed := Link{Title: "Field Notes: posts tagged testing", URL: "https://blog.example/tags/testing/feed.xml"}
		p := Page{
			Title:       "Posts tagged “testing”",
			Description: "Everything on Field Notes about testing.",
			Canonical:   "https://blog.example/tags/testing/",
			Feeds:       []Link{feed},
		}
		return th.RenderList(w, testSite(), p, ListPage{
			Heading: "Posts tagged “testing”",
			Entries: testEntries()[:1],
			Newer:   &Link{Title: "December 2019", URL: "/tags/testing/2019/12/"},
			Older:   &Link{Title: "August 2019", URL: "/tags/testing/2019/08/"},
			Feed:    &Link{Title: "Subscribe to this tag", URL: feed.URL},
		})
	}},
	{"tags", func(th *Theme, w *bytes.Buffer) error {
		p := Page{Canonical: "https://blog.example/tags/"}
		return th.RenderTags(w, testSite(), p, TagsPage{Tags: testTags()})
	}},
	{"redirect", func(th *Theme, w *bytes.Buffer) error {
		return th.RenderRedirect(w, testSite(), Redirect{Target: "/2019/11/testing-infrastructure/"})
	}},
	{"notfound", func(th *Theme, w *bytes.Buffer) error {
		return th.RenderNotFound(w, testSite())
	}},
}

func TestGolden(t *testing.T) {
	th := newTheme(t)
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.render(th, &buf); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			checkPage(t, got)
			checkTidy(t, got)

			golden := filepath.Join("testdata", tc.name+".golden.html")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (run go test -update if the change is intended):\n%s", golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := tc.render(newTheme(t), &a); err != nil {
				t.Fatal(err)
			}
			if err := tc.render(newTheme(t), &b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("two renders differ:\n%s", lineDiff(a.String(), b.String()))
			}
		})
	}
}

const xss = "<script>alert(1)</script>"

func TestUntrustedFieldsAreEscaped(t *testing.T) {
	th := newTheme(t)
	evilTag := []Tag{{Name: xss, URL: "javascript:alert(1)", Count: 1}}
	s := testSite()
	s.Title = xss
	s.Nav = []Link{{Title: xss, URL: "javascript:alert(1)"}}

	renders := []struct {
		name   string
		render func(w *bytes.Buffer) error
	}{
		{"post", func(w *bytes.Buffer) error {
			p := testPost()
			p.Title, p.Description, p.Author, p.Tags = xss, xss, xss, evilTag
			p.Prev = &Link{Title: xss, URL: "javascript:alert(1)"}
			return th.RenderPost(w, s, Page{}, p)
		}},
		{"list", func(w *bytes.Buffer) error {
			e := testEntries()[0]
			e.Title, e.Tags, e.URL = xss, evilTag, "javascript:alert(1)"
			return th.RenderList(w, s, Page{Title: xss, Description: xss, Canonical: "javascript:alert(1)"}, ListPage{
				Heading: xss,
				Intro:   xss,
				Entries: []PostSummary{e},
				Older:   &Link{Title: xss, URL: "javascript:alert(1)"},
				Archive: []ArchiveMonth{{Label: xss, URL: "javascript:alert(1)"}},
				Feed:    &Link{Title: xss, URL: "javascript:alert(1)"},
			})
		}},
		{"tags", func(w *bytes.Buffer) error {
			return th.RenderTags(w, s, Page{Title: xss}, TagsPage{Tags: evilTag})
		}},
	}
	for _, tc := range renders {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.render(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if strings.Contains(out, "<script") {
				t.Errorf("output contains a <script> element:\n%s", out)
			}
			if strings.Contains(out, "javascript:") {
				t.Errorf("output contains a javascript: URL:\n%s", out)
			}
			if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("output does not show the escaped title:\n%s", out)
			}
			if !strings.Contains(out, `href="#ZgotmplZ"`) {
				t.Errorf("unsafe URL was not replaced by #ZgotmplZ:\n%s", out)
			}
		})
	}
}

func TestRenderRedirect(t *testing.T) {
	th := newTheme(t)
	tests := []struct {
		name    string
		base    string
		target  string
		want    string // the resolved target; "" when an error is expected
		wantErr string
	}{
		{name: "path resolves against base URL", base: "https://blog.example/", target: "/2019/11/x/", want: "https://blog.example/2019/11/x/"},
		{name: "absolute URL kept", base: "https://blog.example/", target: "https://elsewhere.example/a?b=1&c=2", want: "https://elsewhere.example/a?b=1&amp;c=2"},
		{name: "quote in path is percent-encoded", base: "https://blog.example/", target: "/it's/", want: "https://blog.example/it%27s/"},
		{name: "path kept without base URL", target: "/2019/11/x/", want: "/2019/11/x/"},
		{name: "javascript scheme rejected", target: "javascript:alert(1)", wantErr: `scheme "javascript" not allowed`},
		{name: "data scheme rejected", target: "data:text/html,hi", wantErr: `scheme "data" not allowed`},
		{name: "empty target rejected", target: " ", wantErr: "empty redirect target"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSite()
			s.BaseURL = tc.base
			var buf bytes.Buffer
			err := th.RenderRedirect(&buf, s, Redirect{Target: tc.target})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				if buf.Len() != 0 {
					t.Errorf("wrote %d bytes despite the error", buf.Len())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, want := range []string{
				`<meta http-equiv="refresh" content="0; url=` + tc.want + `">`,
				`<link rel="canonical" href="` + tc.want + `">`,
				`<meta name="robots" content="noindex">`,
				`<a href="` + tc.want + `">`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %s:\n%s", want, out)
				}
			}
		})
	}
}

func TestDocumentTitle(t *testing.T) {
	tests := []struct {
		name, site, page, want string
	}{
		{"home page has the site title alone", "Field Notes", "", "Field Notes"},
		{"page title repeating the site title is not doubled", "Field Notes", "Field Notes", "Field Notes"},
		{"other pages append the site title", "Field Notes", "Über Observability — Notizen", "Über Observability — Notizen – Field Notes"},
		{"untitled site keeps the page title", "", "Tags", "Tags"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := documentTitle(tc.site, tc.page); got != tc.want {
				t.Errorf("documentTitle(%q, %q) = %q, want %q", tc.site, tc.page, got, tc.want)
			}
		})
	}
}

func TestFeedsAlwaysIncludeSiteFeed(t *testing.T) {
	site := Link{Title: "Field Notes", URL: "https://blog.example/feed.xml"}
	tag := Link{Title: "testing", URL: "https://blog.example/tags/testing/feed.xml"}
	tests := []struct {
		name  string
		given []Link
		want  []Link
	}{
		{"none given: site feed added", nil, []Link{site}},
		{"tag feed given: site feed added first", []Link{tag}, []Link{site, tag}},
		{"site feed given: not added twice", []Link{tag, site}, []Link{tag, site}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			given := append([]Link(nil), tc.given...)
			got := withFeed(given, site.URL, site.Title)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if fmt.Sprint(given) != fmt.Sprint(tc.given) {
				t.Errorf("caller's slice changed to %v", given)
			}
		})
	}
}

func TestWithLocation(t *testing.T) {
	th, err := New(WithLocation(time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	p := testPost()
	p.Published = time.Date(2019, time.November, 1, 0, 30, 0, 0, cet) // 31 October in UTC
	var buf bytes.Buffer
	if err := th.RenderPost(&buf, testSite(), Page{}, p); err != nil {
		t.Fatal(err)
	}
	want := `<time datetime="2019-10-31T23:30:00Z">31 October 2019</time>`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("output lacks %s", want)
	}
}

func TestStylesheet(t *testing.T) {
	css := string(Stylesheet())
	if n := len(css); n >= 8<<10 {
		t.Errorf("stylesheet is %d bytes, want under 8 KiB", n)
	}
	// The site's CSP is default-src 'self': nothing may be fetched.
	for _, banned := range []string{"@import", "url(", "@font-face", "http:", "https:"} {
		if strings.Contains(css, banned) {
			t.Errorf("stylesheet contains %q", banned)
		}
	}
	for _, want := range []string{"prefers-color-scheme: dark", "overflow-x: auto", "max-width: 100%", ":focus-visible", "line-height: 1.6", "70ch"} {
		if !strings.Contains(css, want) {
			t.Errorf("stylesheet lacks %q", want)
		}
	}
	Stylesheet()[0] = 'X'
	if Stylesheet()[0] == 'X' {
		t.Error("Stylesheet returned shared bytes")
	}
}

func newTheme(t *testing.T) *Theme {
	t.Helper()
	th, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// checkPage parses a page and checks what every page must have.
func checkPage(t *testing.T, page []byte) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	var (
		titles, mains, h1s, atom int
		lang, description        string
		canonical                []string
		ids                      = map[string]bool{}
		skipTarget               string
	)
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if id := attr(n, "id"); id != "" {
				ids[id] = true
			}
			if attr(n, "style") != "" {
				t.Errorf("<%s> has an inline style, which the CSP blocks", n.Data)
			}
			switch n.Data {
			case "html":
				lang = attr(n, "lang")
			case "title":
				titles++
			case "main":
				mains++
			case "h1":
				h1s++
			case "script", "style":
				t.Errorf("page has a <%s> element, which the CSP blocks", n.Data)
			case "meta":
				if attr(n, "name") == "description" {
					description = attr(n, "content")
				}
			case "link":
				switch {
				case attr(n, "rel") == "canonical":
					canonical = append(canonical, attr(n, "href"))
				case attr(n, "rel") == "alternate" && attr(n, "type") == "application/atom+xml":
					atom++
				}
			case "a":
				if attr(n, "class") == "skip-link" {
					skipTarget = strings.TrimPrefix(attr(n, "href"), "#")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)

	if titles != 1 {
		t.Errorf("got %d <title> elements, want 1", titles)
	}
	if lang == "" {
		t.Error("<html> has no lang")
	}
	if description == "" {
		t.Error("no meta description")
	}
	if len(canonical) != 1 || !strings.HasPrefix(canonical[0], "https://") {
		t.Errorf("got canonical links %q, want one absolute URL", canonical)
	}
	if atom < 1 {
		t.Error("no Atom alternate link")
	}
	if mains != 1 {
		t.Errorf("got %d <main> elements, want 1", mains)
	}
	if h1s != 1 {
		t.Errorf("got %d <h1> elements, want 1", h1s)
	}
	if skipTarget == "" || !ids[skipTarget] {
		t.Errorf("skip link points at %q, which is not an element id", skipTarget)
	}
}

// checkTidy rejects blank lines and trailing spaces, which only templates
// without whitespace control produce.
func checkTidy(t *testing.T, page []byte) {
	t.Helper()
	for i, line := range strings.Split(strings.TrimSuffix(string(page), "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			t.Errorf("line %d is blank", i+1)
		} else if strings.TrimRight(line, " \t") != line {
			t.Errorf("line %d has trailing whitespace: %q", i+1, line)
		}
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// lineDiff shows how got differs from want, line by line, with two lines
// of context around each change.
func lineDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, line{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', a[i]})
			i++
		default:
			lines = append(lines, line{'+', b[j]})
			j++
		}
	}
	const context = 2
	var sb strings.Builder
	sb.WriteString("--- want\n+++ got\n")
	last := -1
	for k, l := range lines {
		near := false
		for d := max(0, k-context); d <= min(len(lines)-1, k+context); d++ {
			if lines[d].op != ' ' {
				near = true
				break
			}
		}
		if !near {
			continue
		}
		if last >= 0 && k > last+1 {
			sb.WriteString("...\n")
		}
		fmt.Fprintf(&sb, "%c %s\n", l.op, l.text)
		last = k
	}
	return sb.String()
}
