package markdown

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func render(t *testing.T, r *Renderer, src string) Result {
	t.Helper()
	res, err := r.Render([]byte(src))
	if err != nil {
		t.Fatalf("Render(%.40q): %v", src, err)
	}
	return res
}

// TestRenderDropsDangerousURLs checks goldmark's own filtering, which is all
// that stands between a link and the page when raw HTML is off.
func TestRenderDropsDangerousURLs(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"javascript link", "[x](javascript:alert(1))", `<a href="">x</a>`},
		{"upper-case javascript", "[x](JavaScript:alert(1))", `<a href="">x</a>`},
		{"vbscript link", "[x](vbscript:msgbox)", `<a href="">x</a>`},
		{"data html link", "[x](data:text/html,hi)", `<a href="">x</a>`},
		{"javascript autolink", "<javascript:alert(1)>", `<a href="">javascript:alert(1)</a>`},
		{"javascript image", "![x](javascript:alert(1))", `<img src="" alt="x">`},
		{"data png image kept", "![x](data:image/png;base64,AAAA)", `<img src="data:image/png;base64,AAAA" alt="x">`},
		{"https kept", "[x](https://example.com/)", `<a href="https://example.com/">x</a>`},
		{"mailto kept", "[x](mailto:a@example.com)", `<a href="mailto:a@example.com">x</a>`},
		{"script omitted", "<script>alert(1)</script>", `<!-- raw HTML omitted -->`},
		{"inline script omitted", "a <script>alert(1)</script> b", `a <!-- raw HTML omitted -->alert(1)<!-- raw HTML omitted --> b`},
		{"onerror omitted", `<img src=x onerror="alert(1)">`, `<!-- raw HTML omitted -->`},
	}
	r := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, r, tt.src).HTML
			if !strings.Contains(got, tt.want) {
				t.Errorf("Render(%q) = %q, want it to contain %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestRenderUnsafeHTMLIsSanitized(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    []string // substrings that must be there
		notWant []string // and must not
	}{
		{
			name:    "iframe dropped with its content",
			src:     `<iframe src="https://evil.example/">fallback</iframe>`,
			notWant: []string{"iframe", "evil", "fallback"},
		},
		{
			name:    "img onerror removed",
			src:     `<img src="x.png" onerror="alert(1)">`,
			want:    []string{`<img src="x.png">`},
			notWant: []string{"onerror", "alert"},
		},
		{
			name:    "script removed with its content",
			src:     "<script>alert(1)</script>\n\ntext",
			want:    []string{"<p>text</p>"},
			notWant: []string{"script", "alert"},
		},
		{
			name:    "raw javascript link",
			src:     `<a href="javascript:alert(1)">x</a>`,
			notWant: []string{"javascript", "href"},
		},
		{
			name:    "markdown javascript link",
			src:     `[x](javascript:alert(1))`,
			notWant: []string{"javascript"},
		},
		{
			name:    "event handler on allowed element",
			src:     `<span onmouseover="alert(1)">x</span>`,
			want:    []string{"<span>x</span>"},
			notWant: []string{"onmouseover"},
		},
		{
			name: "details kept",
			src:  "<details open><summary>Slides</summary>\n\nOnline.\n\n</details>",
			want: []string{"<details open=\"\">", "<summary>Slides</summary>", "<p>Online.</p>", "</details>"},
		},
		{
			name:    "links are not nofollow",
			src:     `<a href="https://example.com/">x</a>`,
			want:    []string{`<a href="https://example.com/">x</a>`},
			notWant: []string{"nofollow"},
		},
		{
			name: "highlighting classes kept",
			src:  "```go\nfunc f() {}\n```",
			want: []string{`<div class="highlight"><pre class="chroma"><code><span class="line">`, `<span class="kd">func</span>`},
		},
		{
			name: "unicode heading id kept",
			src:  "## 日本語の見出し",
			want: []string{`<h2 id="日本語の見出し">`},
		},
		{
			name: "task list checkboxes kept",
			src:  "- [x] done\n- [ ] todo",
			want: []string{`<input checked="" disabled="" type="checkbox">`, `<input disabled="" type="checkbox">`},
		},
		{
			name:    "text input dropped",
			src:     `<input type="text" value="x">`,
			notWant: []string{"input"},
		},
		{
			name:    "style only for table alignment",
			src:     "a | b\n:-|-\n1 | 2\n\n<p style=\"position: fixed\">x</p>",
			want:    []string{`<th style="text-align: left">a</th>`, "<p>x</p>"},
			notWant: []string{"fixed"},
		},
	}
	r := New(WithUnsafeHTML(true))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, r, tt.src).HTML
			for _, s := range tt.want {
				if !strings.Contains(got, s) {
					t.Errorf("Render(%q) = %q, want it to contain %q", tt.src, got, s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(got, s) {
					t.Errorf("Render(%q) = %q, want no %q", tt.src, got, s)
				}
			}
		})
	}
}

var headingID = regexp.MustCompile(`<h[1-6][^>]* id="([^"]*)"`)

func TestHeadingIDs(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"plain", "# Day one", []string{"day-one"}},
		{"duplicates numbered", "# Day one\n## Day one\n### Day one", []string{"day-one", "day-one-1", "day-one-2"}},
		{"umlaut kept, lower-cased", "## Über die Konferenz", []string{"über-die-konferenz"}},
		{"japanese kept", "## 日本語の見出し", []string{"日本語の見出し"}},
		{"punctuation dropped", "## Q&A: what's next?", []string{"qa-whats-next"}},
		{"each space a hyphen", "## a  b", []string{"a--b"}},
		{"hyphen and underscore kept", "## snake_case and kebab-case", []string{"snake_case-and-kebab-case"}},
		{"digits kept", "## HTTP/2 in 2019", []string{"http2-in-2019"}},
		{"link text without url", "## See [the docs](https://example.com/a)", []string{"see-the-docs"}},
		{"code span", "## The `go vet` tool", []string{"the-go-vet-tool"}},
		{"emphasis", "## *Really* **fast**", []string{"really-fast"}},
		{"typographer quotes", `## "Quoted" -- title`, []string{"quoted--title"}},
		{"entity", "## Tom &amp; Jerry", []string{"tom--jerry"}},
		{"image left out", "## ![logo](l.png) Name", []string{"name"}},
		{"footnote left out", "## Title[^1]\n\n[^1]: Note.", []string{"title"}},
		{"setext uses all lines", "Two\nlines\n===", []string{"two-lines"}},
		{"empty text", "## !!!", []string{"heading"}},
		{"custom id", "## Title {#custom}", []string{"custom"}},
		{"custom id reserved before it appears", "## custom\n## Title {#custom}", []string{"custom-1", "custom"}},
		{"numeric id ignored", "## Title {id=5}", []string{"title"}},
		{"generated id skips taken suffix", "# a\n# a-1 {#a-1}\n# a", []string{"a", "a-1", "a-2"}},
	}
	r := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, r, tt.src).HTML
			var got []string
			for _, m := range headingID.FindAllStringSubmatch(out, -1) {
				got = append(got, m[1])
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ids of %q = %q, want %q\n%s", tt.src, got, tt.want, out)
			}
		})
	}
}

func TestHeadingIDsArePerDocument(t *testing.T) {
	r := New()
	for range 2 {
		if got := render(t, r, "# Intro").HTML; !strings.Contains(got, `id="intro"`) {
			t.Errorf("Render = %q, want id \"intro\" every time", got)
		}
	}
}

func TestHeadingAttributesLimitedToIDAndClass(t *testing.T) {
	got := render(t, New(), `## Title {#t .lead style="color: red" accesskey="x" contenteditable="true"}`).HTML
	want := "<h2 id=\"t\" class=\"lead\">Title</h2>\n"
	if got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

func TestWWWAutolinksUseHTTPS(t *testing.T) {
	got := render(t, New(), "www.example.com").HTML
	want := `<p><a href="https://www.example.com">www.example.com</a></p>` + "\n"
	if got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

func TestSummaryDivider(t *testing.T) {
	tests := []struct {
		name          string
		src           string
		wantSummary   string
		wantTruncated bool
		wantHTML      string
	}{
		{
			name:          "divider",
			src:           "First.\n\n<!--more-->\n\nSecond.",
			wantSummary:   "<p>First.</p>",
			wantTruncated: true,
			wantHTML:      "<p>First.</p>\n<p>Second.</p>\n",
		},
		{
			name:          "spaces inside the comment",
			src:           "First.\n\n<!-- more -->\n\nSecond.",
			wantSummary:   "<p>First.</p>",
			wantTruncated: true,
			wantHTML:      "<p>First.</p>\n<p>Second.</p>\n",
		},
		{
			name:          "upper case and indented",
			src:           "First.\n\n   <!--MORE-->  \n\nSecond.",
			wantSummary:   "<p>First.</p>",
			wantTruncated: true,
			wantHTML:      "<p>First.</p>\n<p>Second.</p>\n",
		},
		{
			name:          "right after a paragraph line",
			src:           "First.\n<!--more-->\nSecond.",
			wantSummary:   "<p>First.</p>",
			wantTruncated: true,
			wantHTML:      "<p>First.</p>\n<p>Second.</p>\n",
		},
		{
			name:          "only the first divider splits",
			src:           "One.\n\n<!--more-->\n\nTwo.\n\n<!--more-->\n\nThree.",
			wantSummary:   "<p>One.</p>",
			wantTruncated: true,
			wantHTML:      "<p>One.</p>\n<p>Two.</p>\n<p>Three.</p>\n",
		},
		{
			name:          "divider at the end",
			src:           "All of it.\n\n<!--more-->\n",
			wantSummary:   "<p>All of it.</p>",
			wantTruncated: false,
			wantHTML:      "<p>All of it.</p>\n",
		},
		{
			name:          "footnotes after the divider",
			src:           "Body.[^1]\n\n<!--more-->\n\n[^1]: Note.",
			wantSummary:   `<p>Body.<sup id="fnref:1"><a href="#fn:1" class="footnote-ref" role="doc-noteref">1</a></sup></p>`,
			wantTruncated: true,
		},
		{
			name:          "divider in a code block is text",
			src:           "```\n<!--more-->\n```\n\nAfter.",
			wantSummary:   "<p>&lt;!--more--&gt; After.</p>",
			wantTruncated: false,
			wantHTML:      "<pre><code>&lt;!--more--&gt;\n</code></pre>\n<p>After.</p>\n",
		},
		{
			name:          "inline divider is not a divider",
			src:           "Before <!--more--> after.",
			wantSummary:   "<p>Before after.</p>",
			wantTruncated: false,
		},
		{
			name:          "divider in a list is not a divider",
			src:           "- item\n\n  <!--more-->\n\n  more",
			wantSummary:   "<p>item more</p>",
			wantTruncated: false,
		},
		{
			name:          "comment with text after it is not a divider",
			src:           "<!--more--> text\n\nBody.",
			wantSummary:   "<p>Body.</p>",
			wantTruncated: false,
		},
	}
	r := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := render(t, r, tt.src)
			if res.Summary != tt.wantSummary || res.Truncated != tt.wantTruncated {
				t.Errorf("Render(%q) summary = %q, %v; want %q, %v", tt.src, res.Summary, res.Truncated, tt.wantSummary, tt.wantTruncated)
			}
			if tt.wantHTML != "" && res.HTML != tt.wantHTML {
				t.Errorf("Render(%q) HTML = %q, want %q", tt.src, res.HTML, tt.wantHTML)
			}
		})
	}
}

func TestSummaryDividerWithUnsafeHTML(t *testing.T) {
	res := render(t, New(WithUnsafeHTML(true)), "Intro <script>x()</script>.\n\n<!--more-->\n\nRest.")
	if want := "<p>Intro .</p>"; res.Summary != want || !res.Truncated {
		t.Errorf("summary = %q, %v; want %q, true", res.Summary, res.Truncated, want)
	}
	if strings.Contains(res.HTML, "more") {
		t.Errorf("HTML = %q, want the divider removed", res.HTML)
	}
}

func TestSummaryWords(t *testing.T) {
	tests := []struct {
		name          string
		words         int
		src           string
		wantSummary   string
		wantTruncated bool
	}{
		{"empty", 5, "", "", false},
		{"no text", 5, "![only](an-image.png)", "", false},
		{"shorter than the limit", 5, "One two three.", "<p>One two three.</p>", false},
		{"exactly the limit", 3, "One two three.", "<p>One two three.</p>", false},
		{"cut at a sentence end", 6, "One two three. Four five six seven.", "<p>One two three.</p>", true},
		{"last sentence end within the limit", 8, "One. Two three four five. Six seven eight nine.", "<p>One. Two three four five.</p>", true},
		{"sentence too short, cut at a word", 10, "Short. Then a long sentence that does not end soon enough here.", "<p>Short. Then a long sentence that does not end soon…</p>", true},
		{"comma before the ellipsis dropped", 3, "One, two, three, four, five.", "<p>One, two, three…</p>", true},
		{"question and exclamation marks", 4, "Why? Because! It works well.", "<p>Why? Because!</p>", true},
		{"closing quote after the stop", 4, `He said "stop." Then more words.`, "<p>He said “stop.”</p>", true},
		{"markup removed and escaped", 50, "A *b* `<c>` & [d](https://e.example/).", "<p>A b &lt;c&gt; &amp; d.</p>", false},
		{"blocks separate words", 50, "# Title\n\nPara one.\n\n- item", "<p>Title Para one. item</p>", false},
		{"inline markup does not separate", 50, "foo**bar**baz", "<p>foobarbaz</p>", false},
		{"footnotes left out", 50, "Body text.[^1]\n\n[^1]: The note.", "<p>Body text.</p>", false},
		{"dash alone is no word", 3, "one — two — three", "<p>one — two — three</p>", false},
		{"japanese counted by character", 5, "日本語の文章です。次の文。", "<p>日本語の文…</p>", true},
		{"japanese sentence end", 6, "今日は晴れ。明日は雨です。", "<p>今日は晴れ。</p>", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := render(t, New(WithSummaryWords(tt.words)), tt.src)
			if res.Summary != tt.wantSummary || res.Truncated != tt.wantTruncated {
				t.Errorf("Render(%q) summary = %q, %v; want %q, %v", tt.src, res.Summary, res.Truncated, tt.wantSummary, tt.wantTruncated)
			}
		})
	}
}

func TestDefaultSummaryWords(t *testing.T) {
	src := strings.Repeat("word ", 100)
	res := render(t, New(WithSummaryWords(0)), src)
	if got := countWords(strings.TrimSuffix(strings.TrimPrefix(res.Summary, "<p>"), "</p>")); got != DefaultSummaryWords {
		t.Errorf("summary has %d words, want %d", got, DefaultSummaryWords)
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want int
	}{
		{"empty", "", 0},
		{"paragraph", "The quick brown fox.", 4},
		{"markup", "The *quick* [brown](x) `fox`.", 4},
		{"hyphenated and contractions", "It's a well-known fact.", 4},
		{"punctuation alone", "a - b -- c ... d", 4},
		{"numbers", "Version 2.0 shipped in 2019.", 5},
		{"code blocks count", "Intro.\n\n```go\nfunc main() {}\n```", 3},
		{"footnotes count, their numbers do not", "Body.[^1]\n\n[^1]: A note here.", 4},
		{"japanese", "日本語の見出し", 7},
		{"mixed", "Go言語 rocks", 4},
		{"raw html omitted", "a <b>bold</b> move", 3},
	}
	r := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(t, r, tt.src).Words; got != tt.want {
				t.Errorf("Render(%q).Words = %d, want %d", tt.src, got, tt.want)
			}
		})
	}
}

func TestRenderSummary(t *testing.T) {
	tests := []struct {
		name   string
		unsafe bool
		md     string
		want   string
	}{
		{"inline markdown", false, "A *short* look at `go vet`.", "<p>A <em>short</em> look at <code>go vet</code>.</p>"},
		{"typographer", false, `"Quoted" -- yes`, "<p>&ldquo;Quoted&rdquo; &ndash; yes</p>"},
		{"empty", false, "", ""},
		{"raw html omitted", false, "Hi <script>x()</script>", "<p>Hi <!-- raw HTML omitted -->x()<!-- raw HTML omitted --></p>"},
		{"raw html sanitized", true, "Hi <b>there</b><script>x()</script>", "<p>Hi <b>there</b></p>"},
		{"javascript link dropped", false, "[x](javascript:alert(1))", `<p><a href="">x</a></p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(WithUnsafeHTML(tt.unsafe)).RenderSummary(tt.md)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("RenderSummary(%q) = %q, want %q", tt.md, got, tt.want)
			}
		})
	}
}

// TestRenderPathological makes sure hostile shapes finish without
// panicking: rendered, or refused as too complex when a paragraph holds
// more markers than goldmark can process in bounded time. It does not
// time them; see BenchmarkRenderPathological.
func TestRenderPathological(t *testing.T) {
	for _, tt := range pathological() {
		t.Run(tt.name, func(t *testing.T) {
			for _, unsafe := range []bool{false, true} {
				_, err := New(WithUnsafeHTML(unsafe)).Render([]byte(tt.src))
				var ce *ComplexityError
				if err != nil && !(errors.As(err, &ce) && strings.Count(tt.src, "*")+strings.Count(tt.src, "_")+strings.Count(tt.src, "[")+strings.Count(tt.src, "]") > MaxMarkersPerParagraph) {
					t.Errorf("Render (unsafe HTML %v): %v", unsafe, err)
				}
			}
		})
	}
}

func TestComplexityLimit(t *testing.T) {
	ok := strings.Repeat("some *emphasis* and a [link](x) ", 300) // 1,500 markers
	if _, err := New().Render([]byte(ok)); err != nil {
		t.Errorf("an ordinary long paragraph was refused: %v", err)
	}
	code := "```\n" + strings.Repeat("a_b*c[d]\n", 5000) + "```\n"
	if _, err := New().Render([]byte(code)); err != nil {
		t.Errorf("markers inside fenced code count: %v", err)
	}
	bad := "intro\n\n" + strings.Repeat("*a_", 3000)
	_, err := New().Render([]byte(bad))
	var ce *ComplexityError
	if !errors.As(err, &ce) || ce.Line != 3 {
		t.Fatalf("got %v; want a ComplexityError at line 3", err)
	}
}

type namedSource struct {
	name string
	src  string
}

func pathological() []namedSource {
	r := strings.Repeat
	return []namedSource{
		{"10000 nested blockquotes", r(">", 10000) + " deep\n"},
		{"10000 nested blockquotes spaced", r("> ", 10000) + "deep\n"},
		{"10000 nested lists", r("- ", 10000) + "deep\n"},
		{"1 MB line", r("Lorem ipsum *dolor* sit [amet](./x) ", 1<<20/36) + "\n"},
		{"1 MB word", r("a", 1<<20)},
		{"10000 duplicate headings", r("# Notes\n", 10000)},
		{"nested brackets", r("[", 5000) + "a" + r("]", 5000)},
		{"nested emphasis", r("*a **a ", 5000) + "b" + r(" a** a*", 5000)},
		{"unclosed code fences", r("```\n", 5000)},
		{"nul bytes", "a\x00b\n\n# \x00\n\n```go\n\x00\n```"},
		{"invalid utf-8", "# \xff\xfe\n\n\xc3\x28 text"},
		{"many footnotes", r("[^a]", 5000) + "\n\n[^a]: note\n"},
		{"deep html", r("<div>", 10000)},
		{"heading attribute junk", "# h {#a .b c=d e='f' g=\"h\" i=[1,2] j={k}}\n## {}\n### {#}"},
		{"fence attribute junk", "```go {hl_lines=[\"a-b\",\"9999999999-1\",1e400] linenos=table linenostart=-9e99 hl_style=nope}\nx\n```"},
	}
}

// TestRenderConcurrent checks that one Renderer serves many goroutines with
// the same output as one at a time (run with -race).
func TestRenderConcurrent(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	r := New(WithUnsafeHTML(true))
	want := map[string]Result{}
	for _, in := range inputs {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		want[string(src)] = render(t, r, string(src))
	}
	var wg sync.WaitGroup
	for range 8 {
		for src, w := range want {
			wg.Go(func() {
				got, err := r.Render([]byte(src))
				if err != nil || got != w {
					t.Errorf("concurrent Render differs from sequential one (err %v)", err)
				}
			})
		}
	}
	wg.Wait()
}

func TestSyntaxCSS(t *testing.T) {
	got := SyntaxCSS()
	golden := filepath.Join("testdata", "syntax.golden.css")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("SyntaxCSS differs from %s (- want, + got):\n%s", golden, lineDiff(string(want), string(got)))
	}
	got[0] = 'X' // callers own the slice
	if !bytes.Equal(SyntaxCSS(), want) {
		t.Error("changing the returned slice changed the next result")
	}
	for _, s := range []string{".chroma .kd {", "@media (prefers-color-scheme: dark) {\n"} {
		if !bytes.Contains(want, []byte(s)) {
			t.Errorf("SyntaxCSS has no %q", s)
		}
	}
}
