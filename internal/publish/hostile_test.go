package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/post"
	"github.com/postmill/postmill/internal/site"
)

// The hostile suite writes broken and malicious files over a published
// post, the victim, and checks that each is either rejected for good with
// a problem an author can act on, leaving the site exactly as it was, or
// published with everything dangerous escaped or removed; and that no
// input, however large or deep, takes unbounded time or memory.

const (
	hostileVictim     = "posts/victim.md"
	hostileVictimPath = "/2024/03/01/victim-first-version/"
	hostileVictimText = "The first version of the victim post."
	hostileVictimPage = "2024/03/01/victim-first-version/index.html"
)

// hostileBaseline is the site every case starts from: the victim and two
// bystanders, one sharing a tag with it.
var hostileBaseline = []struct{ key, src string }{
	{hostileVictim, "+++\ntitle = \"Victim, first version\"\ndate = 2024-03-01T10:00:00Z\ntags = [\"Go\", \"Safety\"]\n+++\n\n" + hostileVictimText + "\n"},
	{"posts/neighbour.md", "+++\ntitle = \"Neighbour\"\ndate = 2024-03-02T10:00:00Z\ntags = [\"Go\"]\n+++\n\nA post that shares a tag with the victim.\n"},
	{"posts/bystander.md", "---\ntitle: Bystander\ndate: 2023-12-24\ntags: [Ops]\n---\n\nA post in another month and tag.\n"},
}

// Bounds every case must stay within. A publish runs in a function of 128
// MB, so the heap it adds must stay well under that; time and total
// allocation are generous, to catch blowups rather than to benchmark.
const (
	hostileMaxTime  = 5 * time.Second
	hostileMaxAlloc = 400 << 20
	hostileMaxHeap  = 100 << 20
)

// hostileCase is one broken or malicious source file.
type hostileCase struct {
	name string
	// key is where the input is written; the victim's key when empty. A
	// new key is used where the input needs the victim to stay, such as a
	// second post claiming its URL.
	key string
	// src is the file; gen makes large ones in memory instead.
	src string
	gen func() []byte
	// settings change the site's, e.g. ALLOW_HTML.
	settings map[string]string

	// publish says the input is publishable once sanitized. Otherwise it
	// must be rejected with a problem holding problem, at line when line
	// is not 0. With both publish and problem, either outcome is right:
	// the input is valid, but refusing it as too costly is fine too.
	publish bool
	problem string
	line    int
	// check looks closer at a published case's site; page is the key of
	// the post's new page.
	check func(t *testing.T, files map[string]hostileObject, page string)

	// bug names a reported bug this case shows; the case fails until the
	// bug is fixed. isolate runs a case that may take unbounded time or
	// memory in a child process, killed at the deadline.
	bug     string
	isolate bool
}

func (c hostileCase) input() []byte {
	if c.gen != nil {
		return c.gen()
	}
	return []byte(c.src)
}

// errorf fails t, saying so when the failure is the case's reported bug.
func (c hostileCase) errorf(t *testing.T, format string, args ...any) {
	t.Helper()
	if c.bug != "" {
		format, args = "REPORTED BUG (%s): "+format, append([]any{c.bug}, args...)
	}
	t.Errorf(format, args...)
}

func (c hostileCase) target() string {
	if c.key != "" {
		return c.key
	}
	return hostileVictim
}

// tomlPost is a well-formed post around front matter lines and a body.
func tomlPost(front, body string) string {
	return "+++\n" + front + "+++\n\n" + body
}

const hostileDate = "date = 2024-03-01T10:00:00Z\n"

// yamlBomb is "billion laughs": nine aliases of nine aliases, nine deep,
// 10⁹ strings once expanded, from under a kilobyte.
func yamlBomb() string {
	var b strings.Builder
	b.WriteString("---\ntitle: Laughs\nlol0: &l0 lol\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "lol%d: &l%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("---\nbody\n")
	return b.String()
}

// pngBytes is the start of a real PNG file: signature, header chunk and
// a little image data.
var pngBytes = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"

// repeatTo repeats unit to make at most n bytes.
func repeatTo(unit string, n int) []byte {
	return bytes.Repeat([]byte(unit), n/len(unit))
}

var hostileCases = []hostileCase{
	// Front matter that does not decode.
	{name: "toml-invalid", src: "+++\ntitle = \"Broken\n" + hostileDate + "+++\nbody\n",
		problem: "invalid TOML front matter", line: 2},
	{name: "yaml-invalid", src: "---\ntitle: Broken\ntags: [Go, Safety\ndate: 2024-03-01\n---\nbody\n",
		problem: "invalid YAML front matter", line: 3},
	{name: "json-invalid", src: "{\n  \"title\": \"Broken\",\n  \"date\": 2024-03-01\n}\nbody\n",
		problem: "invalid JSON front matter", line: 3},
	{name: "toml-unterminated", src: "+++\ntitle = \"Unclosed\"\n" + hostileDate + "\nThe body, with no closing fence.\n",
		problem: `toml front matter opened with "+++" is never closed`, line: 1},
	{name: "yaml-unterminated", src: "---\ntitle: Unclosed\ndate: 2024-03-01\n\nThe body, with no closing fence.\n",
		problem: `yaml front matter opened with "---" is never closed`, line: 1},
	{name: "json-unterminated", src: "{\n  \"title\": \"Unclosed\",\n  \"date\": \"2024-03-01\"\n",
		problem: "JSON front matter object is never closed", line: 1},
	// An object left open with a body after it: the body is where the
	// decoder stops.
	{name: "json-unterminated-with-body", src: "{\n  \"title\": \"Unclosed\",\n  \"date\": \"2024-03-01\"\n\nThe body.\n",
		problem: "invalid JSON front matter: invalid character 'T'", line: 5},
	{name: "json-nested-10000", src: "{\"title\": \"Deep\", \"x\": " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}\nbody\n",
		problem: "exceeded max depth", line: 1},
	{name: "yaml-billion-laughs", src: yamlBomb(),
		problem: "expands aliases to more than 10000 values", line: 7},
	// Front matter may be 256 KiB, as large as a whole post may be.
	{name: "front-matter-of-300KB", gen: func() []byte {
		return []byte("+++\ntitle = \"Big\"\n" + strings.Repeat("# padding\n", 30000) + "+++\nbody\n")
	}, problem: "posts may be at most " + FormatSize(DefaultMaxPostBytes), line: 1},

	// Files that are not text.
	{name: "binary-png", src: pngBytes, problem: "not valid UTF-8", line: 1},
	{name: "invalid-utf8", src: "+++\ntitle = \"Caf\xe9\"\n" + hostileDate + "+++\nbody\n",
		problem: "not valid UTF-8", line: 2},
	{name: "nul-byte", src: tomlPost("title = \"Nul\"\n"+hostileDate, "before\x00after\n"),
		problem: "NUL byte", line: 6},
	{name: "empty-file", src: "", problem: "the file is empty", line: 1},
	{name: "whitespace-only", src: "  \n\n\t\n", problem: "no front matter", line: 1},

	// Fields that are missing or wrong.
	{name: "no-title", src: tomlPost(hostileDate+"tags = [\"Go\"]\n", "body\n"),
		problem: "the front matter has no title", line: 1},
	{name: "unparseable-date", src: tomlPost("title = \"Dated\"\ndate = \"the first of March\"\n", "body\n"),
		problem: `date: cannot read "the first of March" as a date`, line: 3},
	{name: "date-year-99999-yaml", src: "---\ntitle: Far future\ndate: 99999-01-01\n---\nbody\n",
		problem: `date: cannot read "99999-01-01" as a date`, line: 3},
	// TOML dates have four-digit years, so this one is a syntax error.
	{name: "date-year-99999-toml", src: tomlPost("title = \"Far future\"\ndate = 99999-01-01T00:00:00Z\n", "body\n"),
		problem: "invalid TOML front matter", line: 3},
	{name: "title-100KiB", gen: func() []byte {
		return []byte(tomlPost("title = \""+strings.Repeat("long ", 20<<10)+"\"\n"+hostileDate, "body\n"))
	}, problem: "title: longer than 4096 bytes", line: 2},
	{name: "control-character-in-title", src: tomlPost("title = \"Bell \\u0007 rings\"\n"+hostileDate, "body\n"),
		problem: "title: contains the control character U+0007", line: 2},
	{name: "tags-5000", gen: func() []byte {
		var tags []string
		for i := range 5000 {
			tags = append(tags, fmt.Sprintf("%q", fmt.Sprint("tag", i)))
		}
		return []byte(tomlPost("title = \"Tagged\"\n"+hostileDate+"tags = ["+strings.Join(tags, ", ")+"]\n", "body\n"))
	}, problem: "tags: 5000 different values; at most 100 are allowed", line: 4},
	{name: "tag-only-punctuation", src: tomlPost("title = \"Punctuated\"\n"+hostileDate+"tags = [\"Go\", \"!?!\"]\n", "body\n"),
		problem: `tags: "!?!" has no letters or digits`, line: 4},
	{name: "author-uri-javascript", src: tomlPost("title = \"By\"\n"+hostileDate+"[author]\nname = \"Mallory\"\nuri = \"javascript:alert(1)\"\n", "body\n"),
		problem: `author: uri "javascript:alert(1)" must be an http or https URL`},

	// Paths that would escape the site, name another host or take over
	// the site's own files.
	{name: "slug-dotdot", src: tomlPost("title = \"Slug\"\n"+hostileDate+"slug = \"../../index\"\n", "body\n"),
		problem: `slug "../../index" must be one path segment`, line: 4},
	{name: "url-dotdot", src: tomlPost("title = \"Up\"\n"+hostileDate+"url = \"/posts/../../etc/\"\n", "body\n"),
		problem: "must not contain . or .. segments", line: 4},
	{name: "url-absolute", src: tomlPost("title = \"Away\"\n"+hostileDate+"url = \"https://evil.example/x\"\n", "body\n"),
		problem: "must be a path on this site, not an absolute URL", line: 4},
	{name: "url-protocol-relative", src: tomlPost("title = \"Away\"\n"+hostileDate+"url = \"//evil.example/x\"\n", "body\n"),
		problem: "must be a path on this site, not an absolute URL", line: 4},
	{name: "url-control-character", src: tomlPost("title = \"Ctl\"\n"+hostileDate+"url = \"/a\\u0001b/\"\n", "body\n"),
		problem: "url: contains the control character U+0001", line: 4},
	{name: "url-tab", src: tomlPost("title = \"Tab\"\n"+hostileDate+"url = \"/a\\tb/\"\n", "body\n"),
		problem: "must not contain spaces, control or invisible formatting characters", line: 4},
	{name: "url-bidi-override", src: tomlPost("title = \"Bidi\"\n"+hostileDate+"url = \"/abc\\u202Egpj.exe/\"\n", "body\n"),
		problem: "must not contain spaces, control or invisible formatting characters", line: 4},
	// Browsers read "/\evil.example" as "//evil.example".
	{name: "url-backslash", src: tomlPost("title = \"Slash\"\n"+hostileDate+"url = '/\\evil.example/x/'\n", "body\n"),
		problem: `must not contain \, ?, # or %`, line: 4},
	{name: "url-percent-encoded-dotdot", src: tomlPost("title = \"Pct\"\n"+hostileDate+"url = \"/%2e%2e/x/\"\n", "body\n"),
		problem: `must not contain \, ?, # or %`, line: 4},
	{name: "url-reserved-tags", src: tomlPost("title = \"Tags\"\n"+hostileDate+"url = \"/tags/x/\"\n", "body\n"),
		problem: "the site keeps /tags/ for its own pages", line: 4},
	{name: "url-reserved-index-xml", src: tomlPost("title = \"Feed\"\n"+hostileDate+"url = \"/index.xml\"\n", "body\n"),
		problem: `unsafe path "/index.xml"`, line: 4},
	{name: "url-reserved-index-xml-folder", src: tomlPost("title = \"Feed\"\n"+hostileDate+"url = \"/index.xml/\"\n", "body\n"),
		problem: "the site keeps /index.xml for its own use", line: 4},
	{name: "url-reserved-sitemap", src: tomlPost("title = \"Map\"\n"+hostileDate+"url = \"/sitemap.xml\"\n", "body\n"),
		problem: `unsafe path "/sitemap.xml"`, line: 4},
	{name: "url-reserved-sitemap-folder", src: tomlPost("title = \"Map\"\n"+hostileDate+"url = \"/sitemap.xml/\"\n", "body\n"),
		problem: "the site keeps /sitemap.xml for its own use", line: 4},
	{name: "alias-reserved-404", src: tomlPost("title = \"Lost\"\n"+hostileDate+"aliases = [\"/404.html\"]\n", "body\n"),
		problem: "the site keeps /404.html for its own use", line: 4},
	{name: "alias-absolute", src: tomlPost("title = \"Away\"\n"+hostileDate+"aliases = [\"https://evil.example/\"]\n", "body\n"),
		problem: "not an absolute URL", line: 4},
	// A second post asks for the victim's page.
	{name: "url-claimed-by-another-post", key: "posts/intruder.md",
		src:     tomlPost("title = \"Intruder\"\n"+hostileDate+"url = \""+hostileVictimPath+"\"\n", "I want the victim's page.\n"),
		problem: "path " + hostileVictimPath + " is already used by " + hostileVictim, line: 4},
	{name: "alias-claimed-by-another-post", key: "posts/intruder.md",
		src:     tomlPost("title = \"Intruder\"\n"+hostileDate+"aliases = [\"/elsewhere/\", \""+hostileVictimPath+"\"]\n", "I want the victim's page.\n"),
		problem: "path " + hostileVictimPath + " is already used by " + hostileVictim, line: 4},

	{name: "size-25MiB", gen: func() []byte {
		return append([]byte(tomlPost("title = \"Huge\"\n"+hostileDate, "")), repeatTo("All work and no play. ", 25<<20)...)
	}, problem: "the file is 25.0 MiB; posts may be at most " + FormatSize(DefaultMaxPostBytes), line: 1},

	// Markup in fields and in the body: published, as text or without
	// the dangerous parts.
	{name: "script-in-title", publish: true,
		src:   tomlPost("title = \"<script>alert(1)</script><img src=x onerror=alert(2)>\"\n"+hostileDate, "body\n"),
		check: wantTitle("<script>alert(1)</script><img src=x onerror=alert(2)>")},
	{name: "script-in-tags", publish: true,
		src: tomlPost("title = \"Tags with markup\"\n"+hostileDate+
			"tags = [\"<script>alert(1)</script>\", \"\\\" onmouseover=\\\"alert(2)\", \"javascript:alert(3)\", \"<img src=x onerror=alert(4)>\"]\n", "body\n"),
		check: wantTags("<script>alert(1)</script>", `" onmouseover="alert(2)`, "javascript:alert(3)", "<img src=x onerror=alert(4)>")},
	{name: "script-in-summary", publish: true,
		src: tomlPost("title = \"Summary with markup\"\n"+hostileDate+
			"summary = \"A summary with <script>alert(1)</script> and <img src=x onerror=alert(2)> and [click](javascript:alert(3)).\"\n", "body\n"),
		check: wantInListing("A summary with", "click")},
	{name: "script-in-description", publish: true,
		src: tomlPost("title = \"Description with markup\"\n"+hostileDate+
			"description = \"\\\"><script>alert(1)</script><a href=javascript:alert(2) onclick=alert(3)><img src=x onerror=alert(4)>\"\n", "body\n"),
		check: wantMeta("description", `"><script>alert(1)</script><a href=javascript:alert(2) onclick=alert(3)><img src=x onerror=alert(4)>`)},
	{name: "script-in-author", publish: true,
		src:   tomlPost("title = \"Author with markup\"\n"+hostileDate+"[author]\nname = \"<script>alert(1)</script>\"\n", "body\n"),
		check: wantText("<script>alert(1)</script>")},
	{name: "javascript-links", publish: true,
		src: tomlPost("title = \"Links\"\n"+hostileDate,
			"[plain](javascript:alert(1)) [upper](JAVASCRIPT:alert(2)) [entity](&#106;avascript:alert(3))\n"+
				"[escaped](java&#x09;script:alert(4)) <javascript:alert(5)> [html](data:text/html;base64,PHNjcmlwdD4=)\n"+
				"![img](javascript:alert(6)) [ref][r] [vb](vbscript:msgbox(7))\n\n[r]: javascript:alert(8)\n"),
		check: wantText("plain", "upper", "entity", "escaped", "html", "ref", "vb")},
	{name: "raw-html", publish: true,
		src: tomlPost("title = \"Raw HTML\"\n"+hostileDate,
			"Inline <script>alert(1)</script> and <img src=x onerror=alert(2)> and <a href=\"javascript:alert(3)\">a link</a>.\n\n"+
				"<script>alert(4)</script>\n\n<iframe src=\"https://evil.example/\"></iframe>\n\n<svg onload=alert(5)></svg>\n\n"+
				"<a href=\"javascript:alert(6)\">block link</a>\n\nThe end.\n"),
		check: wantText("Inline", "The end.")},
	{name: "raw-html-allowed", publish: true, settings: map[string]string{"ALLOW_HTML": "true"},
		src: tomlPost("title = \"Raw HTML, allowed\"\n"+hostileDate,
			"Inline <script>alert(1)</script> and <img src=x onerror=alert(2)> and <a href=\"javascript:alert(3)\">a link</a>.\n\n"+
				"<script>alert(4)</script>\n\n<iframe src=\"https://evil.example/\">fallback</iframe>\n\n<svg onload=alert(5)></svg>\n\n"+
				"<a href=\"JaVaScRiPt:alert(6)\" onclick=\"alert(7)\">block link</a> <b>kept</b>\n\n"+
				"<object data=\"javascript:alert(8)\"></object><embed src=\"javascript:alert(9)\"><form action=\"javascript:alert(10)\"><button formaction=\"javascript:alert(11)\">b</button></form>\n\n"+
				"<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\"> <math><mi xlink:href=\"javascript:alert(12)\">m</mi></math>\n\nThe end.\n"),
		check: wantText("a link", "block link", "kept", "The end.")},
	{name: "iframe-in-markdown", publish: true,
		src:   tomlPost("title = \"Iframe\"\n"+hostileDate, "Before.\n\n<iframe src=\"https://evil.example/\" onload=\"alert(1)\"></iframe>\n\nAfter.\n"),
		check: wantText("Before.", "After.")},

	// Size and depth.
	{name: "line-1MiB", gen: func() []byte {
		return append([]byte(tomlPost("title = \"Long line\"\n"+hostileDate, "")), repeatTo("word ", 1<<20)...)
	}, problem: "the file is 1.0 MiB; posts may be at most " + FormatSize(DefaultMaxPostBytes), line: 1},
	{name: "line-at-size-limit", publish: true, gen: func() []byte {
		return append([]byte(tomlPost("title = \"Long line\"\n"+hostileDate, "")), repeatTo("word ", DefaultMaxPostBytes-100)...)
	}, check: wantText("word word word")},
	{name: "lists-nested-10000", publish: true, gen: func() []byte {
		return []byte(tomlPost("title = \"Deep lists\"\n"+hostileDate, strings.Repeat("- ", 10000)+"bottom\n"))
	}, check: wantDepth("<ul>", 10000)},
	{name: "quotes-nested-10000", publish: true, gen: func() []byte {
		return []byte(tomlPost("title = \"Deep quotes\"\n"+hostileDate, strings.Repeat(">", 10000)+" bottom\n"+strings.Repeat("lazy continuation\n", 1000)))
	}, check: wantDepth("<blockquote>", 10000)},
	{name: "headings-same-text-10000", publish: true, gen: func() []byte {
		return []byte(tomlPost("title = \"Headings\"\n"+hostileDate, strings.Repeat("## Same\n\n", 10000)))
	}, check: wantText("Same")},

	// At the limits the engine allows.
	{name: "tags-100-at-limit", publish: true, gen: func() []byte {
		var tags []string
		for i := range post.MaxTags {
			tags = append(tags, fmt.Sprintf("%q", fmt.Sprint("topic ", i)))
		}
		return []byte(tomlPost("title = \"Many tags\"\n"+hostileDate+"tags = ["+strings.Join(tags, ", ")+"]\n", "body\n"))
	}, check: wantTags("topic 0", "topic 99")},
	{name: "aliases-100-at-limit", publish: true, gen: func() []byte {
		var aliases []string
		for i := range post.MaxAliases {
			aliases = append(aliases, fmt.Sprintf("\"/old/%d/\"", i))
		}
		return []byte(tomlPost("title = \"Many aliases\"\n"+hostileDate+"aliases = ["+strings.Join(aliases, ", ")+"]\n", "body\n"))
	}, check: wantFiles("old/0/index.html", "old/99/index.html")},
	{name: "title-4096-bytes-one-word", gen: func() []byte {
		return []byte(tomlPost("title = \""+strings.Repeat("a", 4096)+"\"\n"+hostileDate, "body\n"))
	}, problem: "cannot make the post's path", line: 2},

	// What goldmark takes super-linear time or memory to render, at the
	// size limit.
	{name: "emphasis-delimiters-at-size-limit", gen: func() []byte {
		return append([]byte(tomlPost("title = \"Emphasis\"\n"+hostileDate, "")), repeatTo("*a_", DefaultMaxPostBytes-100)...)
	}, problem: "emphasis or link markers", line: 6},
	{name: "unclosed-links-at-size-limit", gen: func() []byte {
		return append([]byte(tomlPost("title = \"Links\"\n"+hostileDate, "")), repeatTo("[a](", DefaultMaxPostBytes-100)...)
	}, problem: "emphasis or link markers", line: 6},
	{name: "dense-markup-at-size-limit", publish: true, gen: func() []byte {
		return append([]byte(tomlPost("title = \"Dense\"\n"+hostileDate, "")), repeatTo("- a\n", DefaultMaxPostBytes-100)...)
	}, check: wantText("a")},
	{name: "emphasis-after-fence-lookalike", publish: true, problem: "emphasis or link markers", isolate: true,
		bug: "markdown.checkComplexity takes a line starting with ``` for a fence and stops counting, but a backtick in the info string makes it a paragraph line for goldmark: 250 KiB of \"*a_\" after \"```x`\" renders for 37 s",
		gen: func() []byte {
			return append([]byte(tomlPost("title = \"Not a fence\"\n"+hostileDate, "```x`\n")), repeatTo("*a_", DefaultMaxPostBytes-100)...)
		}},
	{name: "emphasis-after-indented-fence-lookalike", publish: true, problem: "emphasis or link markers", isolate: true,
		bug: "markdown.checkComplexity takes \"    ```\" for a fence and stops counting, but four spaces make it indented code for goldmark, which ends at the next line: 250 KiB of \"*a_\" after it renders for 31 s",
		gen: func() []byte {
			return append([]byte(tomlPost("title = \"Not a fence\"\n"+hostileDate, "Text.\n\n    ```\n")), repeatTo("*a_", DefaultMaxPostBytes-100)...)
		}},
	{name: "backticks-at-size-limit", publish: true, problem: "backtick", isolate: true,
		bug: "goldmark scans to the end of the paragraph for a closer of every unmatched backtick run: 250 KiB of \"\\``\" renders for 5.6 s, quadratic in its size; checkComplexity does not count backticks",
		gen: func() []byte {
			return append([]byte(tomlPost("title = \"Backticks\"\n"+hostileDate, "")), repeatTo("\\``", DefaultMaxPostBytes-100)...)
		}},
	{name: "footnote-references-at-size-limit", publish: true, problem: "footnote",
		bug: "every reference to a footnote adds a backlink to it: 250 KiB of \"[^1]\" references render to an 8 MB page, allocating 380-450 MB with a 100-150 MB heap",
		gen: func() []byte {
			return append([]byte(tomlPost("title = \"Footnotes\"\n"+hostileDate, "Text[^1].\n\n[^1]: The note.\n\n")), repeatTo("[^1]\n\n", DefaultMaxPostBytes-200)...)
		}},
}

// TestHostileInput runs every hostile case against a fresh site.
func TestHostileInput(t *testing.T) {
	child := os.Getenv(hostileChildEnv)
	var mu sync.Mutex
	var rows []string
	scanned := 0
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			if c.isolate && child != c.name {
				runHostileChild(t, c)
				return
			}
			u := runHostileCase(t, c)
			mu.Lock()
			scanned += u.scanned
			rows = append(rows, fmt.Sprintf("%-36s %-9s %8.1f ms %8.1f MB alloc %7.1f MB peak heap", c.name, u.status, float64(u.elapsed.Microseconds())/1000, mb(u.allocated), mb(u.peakHeap)))
			mu.Unlock()
		})
	}
	if child == "" {
		t.Logf("cases:\n%s\nscanned %d site files for unsafe output", strings.Join(rows, "\n"), scanned)
	}
}

// hostileChildEnv names the case a child test process runs.
const hostileChildEnv = "POSTMILL_HOSTILE_CASE"

// runHostileChild runs a case that may never finish in a child process,
// killed when it overruns the time bound (plus time to start and to
// publish the baseline), so that a runaway renderer cannot hold a core
// for the rest of the test run.
func runHostileChild(t *testing.T, c hostileCase) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileInput$/^"+regexp.QuoteMeta(c.name)+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), hostileChildEnv+"="+c.name)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := hostileMaxTime + 5*time.Second
	timer := time.AfterFunc(deadline, func() { _ = cmd.Process.Kill() })
	start := time.Now()
	err := cmd.Wait()
	timer.Stop()
	switch {
	case time.Since(start) >= deadline && c.bug != "":
		t.Errorf("REPORTED BUG (%s): %s did not finish within %v and was killed; a post like this keeps the function busy until its timeout on every delivery", c.bug, c.name, deadline)
	case time.Since(start) >= deadline:
		t.Errorf("%s did not finish within %v and was killed", c.name, deadline)
	case err != nil:
		t.Errorf("the child process running %s failed: %v\n%s", c.name, err, out.String())
	default:
		t.Logf("%s", out.String())
	}
}

type hostileUsage struct {
	status    string
	elapsed   time.Duration
	allocated uint64 // bytes allocated while the case ran
	peakHeap  uint64 // the most heap in use above what was in use before
	scanned   int    // site files scanned for unsafe output afterwards
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// runHostileCase publishes the baseline, writes the case's input and
// applies it, measuring time and memory, and checks the outcome and the
// site.
func runHostileCase(t *testing.T, c hostileCase) hostileUsage {
	if c.bug != "" {
		t.Logf("this case shows a reported bug: %s", c.bug)
	}
	ctx := context.Background()
	s := newHostileSite(t, c.settings)
	s.publishBaseline(t)
	key := c.target()
	old := s.record(t, key)
	before := s.siteFiles(t)

	s.put(t, key, c.input())

	var res Result
	var panicked any
	u := measure(func() {
		defer func() { panicked = recover() }()
		res = s.eng.Apply(ctx, []Change{{Key: key}})
	})
	if panicked != nil {
		t.Fatalf("Apply panicked: %v", panicked)
	}
	t.Logf("%s: %v, %.1f MB allocated, %.1f MB peak heap", c.name, u.elapsed.Round(time.Millisecond), mb(u.allocated), mb(u.peakHeap))
	if u.elapsed > hostileMaxTime {
		c.errorf(t, "took %v; the bound is %v", u.elapsed, hostileMaxTime)
	}
	if u.allocated > hostileMaxAlloc {
		c.errorf(t, "allocated %.0f MB; the bound is %.0f MB", mb(u.allocated), mb(hostileMaxAlloc))
	}
	if u.peakHeap > hostileMaxHeap {
		c.errorf(t, "the heap grew by %.0f MB; the bound is %.0f MB", mb(u.peakHeap), mb(hostileMaxHeap))
	}

	if len(res.Outcomes) != 1 {
		t.Fatalf("got %d outcomes for one change", len(res.Outcomes))
	}
	o := res.Outcomes[0]
	u.status = o.Status
	if o.Err != nil {
		t.Fatalf("Err %v: a hostile post must be a final rejection or a publish, never a retry", o.Err)
	}
	after := s.siteFiles(t)
	st := s.status(t, key)
	if st.Key != key || st.Revision == 0 {
		t.Errorf("status object %+v is not this post's", st)
	}
	if c.publish && (c.problem == "" || o.Status != "rejected") {
		checkHostilePublished(t, s, c, o, st, old, before, after, res)
	} else {
		checkHostileRejected(t, c, o, st, before, after, res)
	}
	for _, k := range sortedHostileKeys(after) {
		for _, v := range hostileScan(k, after[k].body) {
			t.Errorf("unsafe output: %s", v)
		}
		u.scanned++
	}
	return u
}

func checkHostileRejected(t *testing.T, c hostileCase, o Outcome, st Status, before, after map[string]hostileObject, res Result) {
	t.Helper()
	key := c.target()
	if o.Status != "rejected" {
		t.Fatalf("status %q (path %q); want a rejection containing %q", o.Status, o.Path, c.problem)
	}
	if len(o.Problems) == 0 {
		t.Fatal("a rejection without problems")
	}
	linePrefix := regexp.MustCompile(`^` + regexp.QuoteMeta(key) + `:([1-9][0-9]*): \S`)
	found := false
	for _, p := range o.Problems {
		m := linePrefix.FindStringSubmatch(p)
		if m == nil {
			t.Errorf("problem %q does not start with %q", p, key+":LINE: ")
			continue
		}
		if strings.ContainsAny(p, "\r\n") || len(p) > 8<<10 {
			t.Errorf("problem %.200q… is not one line of at most 8 KiB (%d bytes)", p, len(p))
		}
		if strings.Contains(p, c.problem) {
			found = true
			if n, _ := strconv.Atoi(m[1]); c.line != 0 && n != c.line {
				t.Errorf("problem %q is reported at line %d; want line %d", p, n, c.line)
			}
		}
	}
	if !found {
		c.errorf(t, "problems %q; want one containing %q", o.Problems, c.problem)
	}
	t.Logf("problem: %s", strings.Join(o.Problems, " | "))
	if st.Status != "rejected" || !slices.Equal(st.Problems, o.Problems) {
		t.Errorf("status object says %q %q; want the rejection %q", st.Status, st.Problems, o.Problems)
	}
	if key == hostileVictim {
		if want := "https://blog.example" + hostileVictimPath; st.URL != want {
			t.Errorf("status URL %q; want the version still live, %s", st.URL, want)
		}
		if o.Path != hostileVictimPath {
			t.Errorf("outcome path %q; want the live version's %s", o.Path, hostileVictimPath)
		}
	}
	if len(res.Written)+len(res.Deleted) > 0 {
		t.Errorf("a rejection wrote %v and deleted %v", res.Written, res.Deleted)
	}
	for _, d := range diffHostile(before, after) {
		t.Errorf("a rejection changed the site: %s", d)
	}
	if page := after[hostileVictimPage].body; !bytes.Contains(page, []byte(hostileVictimText)) {
		t.Errorf("the victim's page no longer shows the published version")
	}
}

func checkHostilePublished(t *testing.T, s *hostileSite, c hostileCase, o Outcome, st Status, old *catalog.Record, before, after map[string]hostileObject, res Result) {
	t.Helper()
	if o.Status != "published" {
		t.Fatalf("status %q, problems %q; want the input published once sanitized", o.Status, o.Problems)
	}
	if st.Status != "published" || len(st.Problems) > 0 || st.URL != "https://blog.example"+o.Path {
		t.Errorf("status object %+v; want published at %s", st, o.Path)
	}
	rec := s.record(t, c.target())
	allowed := hostileAllowed(old, rec)
	var changed, gone []string
	for _, k := range sortedHostileKeys(after) {
		if b, ok := before[k]; !ok || !b.equal(after[k]) {
			changed = append(changed, k)
		}
	}
	for _, k := range sortedHostileKeys(before) {
		if _, ok := after[k]; !ok {
			gone = append(gone, k)
		}
	}
	for _, k := range append(slices.Clone(changed), gone...) {
		if !allowed(k) && !onlyPostNavDiffers(before[k], after[k]) {
			t.Errorf("%s changed, though neither version of the post is on it", k)
		}
	}
	if !slices.Equal(res.Written, changed) || !slices.Equal(res.Deleted, gone) {
		t.Errorf("result says written %v deleted %v; the bytes changed at %v and went at %v", res.Written, res.Deleted, changed, gone)
	}
	page := fileKey(o.Path)
	if _, ok := after[page]; !ok {
		t.Fatalf("no page at %s", page)
	}
	if c.check != nil {
		c.check(t, after, page)
	}
}

// onlyPostNavDiffers reports whether two versions of a page differ only
// in their older/newer links: a neighbour of the post links to it.
func onlyPostNavDiffers(a, b hostileObject) bool {
	strip := func(body []byte) []byte {
		i := bytes.Index(body, []byte(`<nav class="post-nav"`))
		if i < 0 {
			return body
		}
		j := bytes.Index(body[i:], []byte("</nav>"))
		if j < 0 {
			return body
		}
		return append(slices.Clone(body[:i]), body[i+j+len("</nav>"):]...)
	}
	return a.body != nil && b.body != nil && a.contentType == b.contentType && a.cacheControl == b.cacheControl &&
		!bytes.Equal(a.body, b.body) && bytes.Equal(strip(a.body), strip(b.body))
}

// hostileAllowed says which site keys an edit from old to rec may change:
// the pages of either version and the listings either is in.
func hostileAllowed(old, rec *catalog.Record) func(string) bool {
	var prefixes []string
	for _, r := range []*catalog.Record{old, rec} {
		for _, p := range r.Paths() {
			prefixes = append(prefixes, strings.TrimPrefix(p, "/"))
		}
		if r.Entry == nil {
			continue
		}
		for _, l := range r.Entry.Listings() {
			if l == catalog.Site {
				prefixes = append(prefixes, "index.", "archive/", "sitemap.xml", "sitemaps/", "tags/index.html")
			} else {
				prefixes = append(prefixes, "tags/"+catalog.TagOf(l)+"/")
			}
		}
	}
	return func(k string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				return true
			}
		}
		return false
	}
}

// Checks of published cases.

func wantTitle(title string) func(*testing.T, map[string]hostileObject, string) {
	return func(t *testing.T, files map[string]hostileObject, page string) {
		t.Helper()
		doc := parseHostilePage(t, page, files[page].body)
		if got := hostileText(firstElement(doc, atom.H1)); got != title {
			t.Errorf("h1 reads %q; want %q as text", got, title)
		}
		if got := hostileText(firstElement(doc, atom.Title)); !strings.HasPrefix(got, title) {
			t.Errorf("title reads %q; want it to start with %q", got, title)
		}
	}
}

func wantTags(tags ...string) func(*testing.T, map[string]hostileObject, string) {
	return func(t *testing.T, files map[string]hostileObject, page string) {
		t.Helper()
		doc := parseHostilePage(t, page, files[page].body)
		var got []string
		for _, a := range allElements(doc, atom.A) {
			if attrOf(a, "rel") == "tag" {
				got = append(got, hostileText(a))
			}
		}
		for _, tag := range tags {
			if !slices.Contains(got, tag) {
				t.Errorf("tag links read %q; want %q among them as text", got, tag)
			}
		}
	}
}

func wantMeta(name, content string) func(*testing.T, map[string]hostileObject, string) {
	return func(t *testing.T, files map[string]hostileObject, page string) {
		t.Helper()
		doc := parseHostilePage(t, page, files[page].body)
		for _, m := range allElements(doc, atom.Meta) {
			if attrOf(m, "name") == name {
				if got := attrOf(m, "content"); got != content {
					t.Errorf("meta %s is %q; want %q", name, got, content)
				}
				return
			}
		}
		t.Errorf("no meta %s", name)
	}
}

// wantText checks that the page shows each text: what sanitizing keeps.
func wantText(texts ...string) func(*testing.T, map[string]hostileObject, string) {
	return func(t *testing.T, files map[string]hostileObject, page string) {
		t.Helper()
		got := tokenText(files[page].body)
		for _, s := range texts {
			if !strings.Contains(got, s) {
				t.Errorf("the page does not show %q", s)
			}
		}
	}
}

// wantFiles checks that the site has each key.
func wantFiles(keys ...string) func(*testing.T, map[string]hostileObject, string) {
	return func(t *testing.T, files map[string]hostileObject, page string) {
		t.Helper()
		for _, k := range keys {
			if _, ok := files[k]; !ok {
				t.Errorf("no %s", k)
			}
		}
	}
}

// wantDepth checks that the page nests an element as deep as the source
// asked, rather than stopping early.
func wantDepth(tag string, n int) func(*testing.T, map[string]hostileObject, string) {
	return func(t *testing.T, files map[string]hostileObject, page string) {
		t.Helper()
		if got := bytes.Count(files[page].body, []byte(tag)); got < n {
			t.Errorf("the page has %d %s; want %d", got, tag, n)
		}
		if !strings.Contains(tokenText(files[page].body), "bottom") {
			t.Errorf("the page does not show the innermost text")
		}
	}
}

// wantInListing checks that the home page shows each text: the post's
// summary as sanitizing leaves it.
func wantInListing(texts ...string) func(*testing.T, map[string]hostileObject, string) {
	return func(t *testing.T, files map[string]hostileObject, page string) {
		t.Helper()
		got := tokenText(files["index.html"].body)
		for _, s := range texts {
			if !strings.Contains(got, s) {
				t.Errorf("the home page does not show %q", s)
			}
		}
	}
}

func parseHostilePage(t *testing.T, key string, body []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return doc
}

func allElements(n *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.DataAtom == a {
			out = append(out, d)
		}
	}
	return out
}

func firstElement(n *html.Node, a atom.Atom) *html.Node {
	if es := allElements(n, a); len(es) > 0 {
		return es[0]
	}
	return nil
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hostileText(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// tokenText is the text of an HTML document, however deep.
func tokenText(body []byte) string {
	var b strings.Builder
	z := html.NewTokenizer(bytes.NewReader(body))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt == html.TextToken {
			b.Write(z.Text())
		}
	}
	return b.String()
}

// hostileSite is a source and a site bucket with an engine between them,
// built here rather than with the package's fixture so that FuzzApply can
// copy one published baseline for every input.
type hostileSite struct {
	src, dst *memblob.Bucket
	eng      *Engine
}

var hostileNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func hostileRenderer(t testing.TB, settings map[string]string) *site.Renderer {
	t.Helper()
	env := map[string]string{"SITE_BASE_URL": "https://blog.example/", "SITE_TITLE": "Field Notes", "SITE_AUTHOR": "Ada"}
	for k, v := range settings {
		env[k] = v
	}
	cfg, err := site.Load(func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := site.NewRenderer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newHostileSite(t testing.TB, settings map[string]string) *hostileSite {
	return newHostileSiteWith(hostileRenderer(t, settings))
}

func newHostileSiteWith(r *site.Renderer) *hostileSite {
	clock := func() time.Time { return hostileNow }
	s := &hostileSite{src: memblob.New(memblob.WithClock(clock)), dst: memblob.New(memblob.WithClock(clock))}
	s.eng = New(s.src, s.dst, r, Options{Clock: clock})
	return s
}

func (s *hostileSite) put(t testing.TB, key string, data []byte) {
	t.Helper()
	if _, err := s.src.Write(context.Background(), key, data, nil); err != nil {
		t.Fatal(err)
	}
}

func (s *hostileSite) publishBaseline(t testing.TB) {
	t.Helper()
	var cs []Change
	for _, p := range hostileBaseline {
		s.put(t, p.key, []byte(p.src))
		cs = append(cs, Change{Key: p.key})
	}
	for _, o := range s.eng.Apply(context.Background(), cs).Outcomes {
		if o.Err != nil || o.Status != "published" {
			t.Fatalf("baseline %s: %s %v %q", o.Key, o.Status, o.Err, o.Problems)
		}
	}
}

// clone copies both buckets into a new site with the same renderer, so
// that each fuzz input starts from the baseline without publishing it
// again.
func (s *hostileSite) clone(t testing.TB) *hostileSite {
	t.Helper()
	c := newHostileSiteWith(s.eng.r)
	ctx := context.Background()
	for _, b := range []struct{ from, to *memblob.Bucket }{{s.src, c.src}, {s.dst, c.dst}} {
		objs, err := blob.ListAll(ctx, b.from, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			data, a, err := b.from.Read(ctx, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			opts := &blob.WriteOptions{ContentType: a.ContentType, CacheControl: a.CacheControl, Metadata: a.Metadata}
			if _, err := b.to.Write(ctx, o.Key, data, opts); err != nil {
				t.Fatal(err)
			}
		}
	}
	return c
}

func (s *hostileSite) record(t testing.TB, key string) *catalog.Record {
	t.Helper()
	r := &catalog.Record{Key: key}
	if _, err := s.eng.load(context.Background(), catalog.RecordName(key), r); err != nil && !errors.Is(err, blob.ErrNotFound) {
		t.Fatal(err)
	}
	return r
}

func (s *hostileSite) status(t testing.TB, key string) Status {
	t.Helper()
	data, _, err := s.src.Read(context.Background(), s.eng.StatusKey(key))
	if err != nil {
		t.Fatalf("status of %s: %v", key, err)
	}
	var st Status
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("status of %s: %v", key, err)
	}
	return st
}

// hostileObject is a site object as a reader gets it.
type hostileObject struct {
	body                      []byte
	contentType, cacheControl string
}

func (o hostileObject) equal(p hostileObject) bool {
	return bytes.Equal(o.body, p.body) && o.contentType == p.contentType && o.cacheControl == p.cacheControl
}

func (s *hostileSite) siteFiles(t testing.TB) map[string]hostileObject {
	t.Helper()
	ctx := context.Background()
	objs, err := blob.ListAll(ctx, s.dst, "")
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]hostileObject, len(objs))
	for _, o := range objs {
		data, a, err := s.dst.Read(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		m[o.Key] = hostileObject{body: data, contentType: a.ContentType, cacheControl: a.CacheControl}
	}
	return m
}

func sortedHostileKeys(m map[string]hostileObject) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

func diffHostile(before, after map[string]hostileObject) []string {
	var d []string
	for _, k := range sortedHostileKeys(after) {
		b, ok := before[k]
		switch {
		case !ok:
			d = append(d, k+" appeared")
		case !b.equal(after[k]):
			d = append(d, k+" changed")
		}
	}
	for _, k := range sortedHostileKeys(before) {
		if _, ok := after[k]; !ok {
			d = append(d, k+" disappeared")
		}
	}
	return d
}

// measure runs f and reports its wall time, the bytes it allocated and
// the most heap in use above the level before it, sampled every
// millisecond.
func measure(f func()) hostileUsage {
	runtime.GC()
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(samples)
	alloc0, heap0 := samples[0].Value.Uint64(), samples[1].Value.Uint64()

	peak := heap0
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	f()
	elapsed := time.Since(start)
	close(done)
	wg.Wait()
	metrics.Read(samples)
	peak = max(peak, samples[1].Value.Uint64())
	return hostileUsage{elapsed: elapsed, allocated: samples[0].Value.Uint64() - alloc0, peakHeap: peak - heap0}
}

// Scanning output for markup a browser or feed reader would run.

// unsafeURL reports whether a URL attribute's value runs script: browsers
// drop ASCII whitespace and control characters from a scheme and ignore
// its case.
func unsafeURL(v string) bool {
	v = strings.Map(func(r rune) rune {
		if r <= ' ' {
			return -1
		}
		return r
	}, strings.ToLower(v))
	return strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:text/html")
}

var (
	// activeElements run script or load another document.
	activeElements = map[string]bool{"script": true, "iframe": true, "frame": true, "object": true, "embed": true}
	eventAttr      = regexp.MustCompile(`^on[a-z]+$`)
	urlAttrs       = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "xlink:href": true, "poster": true, "data": true, "background": true}
	rawActive      = regexp.MustCompile(`(?i)<(script|iframe)\b`)
)

// hostileScan returns every unsafe thing in a site file, by its key's
// extension: HTML pages, Atom feeds and sitemaps, JSON feeds.
func hostileScan(key string, body []byte) []string {
	switch {
	case strings.HasSuffix(key, ".html"), strings.HasSuffix(key, ".htm"):
		return scanHTML(key, body)
	case strings.HasSuffix(key, ".xml"):
		return append(rawScan(key, body), scanXML(key, body)...)
	case strings.HasSuffix(key, ".json"):
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return []string{fmt.Sprintf("%s: %v", key, err)}
		}
		return scanJSON(key, "", v)
	}
	return nil
}

// rawScan finds <script and <iframe in a file's bytes, which in HTML or
// XML can only be markup.
func rawScan(key string, body []byte) []string {
	var out []string
	for _, loc := range rawActive.FindAllIndex(body, 3) {
		out = append(out, fmt.Sprintf("%s: %q at byte %d", key, body[loc[0]:loc[1]], loc[0]))
	}
	return out
}

// scanHTML checks every tag of an HTML document or fragment as a
// browser's tokenizer reads it, so no nesting depth hides one.
func scanHTML(where string, body []byte) []string {
	out := rawScan(where, body)
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if err := z.Err(); err != io.EOF {
				out = append(out, fmt.Sprintf("%s: %v", where, err))
			}
			return out
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		name := tok.Data
		if activeElements[name] {
			out = append(out, fmt.Sprintf("%s: a <%s> element", where, name))
		}
		for _, a := range tok.Attr {
			switch k := a.Key; {
			case eventAttr.MatchString(k):
				out = append(out, fmt.Sprintf("%s: <%s %s=%q>", where, name, k, a.Val))
			case urlAttrs[k] && unsafeURL(a.Val):
				out = append(out, fmt.Sprintf("%s: <%s %s=%q>", where, name, k, a.Val))
			case k == "srcset" && strings.Contains(strings.ToLower(a.Val), "javascript:"):
				out = append(out, fmt.Sprintf("%s: <%s srcset=%q>", where, name, a.Val))
			case name == "meta" && k == "content":
				if _, u, ok := strings.Cut(strings.ToLower(a.Val), "url="); ok && unsafeURL(u) {
					out = append(out, fmt.Sprintf("%s: <meta content=%q>", where, a.Val))
				}
			}
		}
	}
}

// scanXML scans an Atom feed or a sitemap: the HTML in text constructs
// of type html, the markup in those of type xhtml, and every link.
func scanXML(key string, body []byte) []string {
	var out []string
	type open struct{ name, typ string }
	var stack []open
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, fmt.Sprintf("%s: %v", key, err))
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			o := open{name: tok.Name.Local}
			for _, a := range tok.Attr {
				switch {
				case a.Name.Local == "type":
					o.typ = a.Value
				case eventAttr.MatchString(strings.ToLower(a.Name.Local)),
					urlAttrs[a.Name.Local] && unsafeURL(a.Value):
					out = append(out, fmt.Sprintf("%s: <%s %s=%q>", key, tok.Name.Local, a.Name.Local, a.Value))
				}
			}
			if len(stack) > 0 && stack[len(stack)-1].typ == "xhtml" {
				o.typ = "xhtml"
			}
			if o.typ == "xhtml" && activeElements[strings.ToLower(tok.Name.Local)] {
				out = append(out, fmt.Sprintf("%s: a <%s> element in xhtml content", key, tok.Name.Local))
			}
			stack = append(stack, o)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			switch top := stack[len(stack)-1]; {
			case top.typ == "html":
				out = append(out, scanHTML(key+" <"+top.name+">", tok)...)
			case top.name == "loc" || top.name == "uri" || top.name == "icon" || top.name == "logo":
				if unsafeURL(string(tok)) {
					out = append(out, fmt.Sprintf("%s: <%s>%s", key, top.name, tok))
				}
			}
		}
	}
}

// jsonURLFields are the JSON Feed members that hold URLs.
var jsonURLFields = map[string]bool{"url": true, "external_url": true, "home_page_url": true, "feed_url": true, "next_url": true,
	"image": true, "banner_image": true, "icon": true, "favicon": true, "avatar": true}

// scanJSON scans a JSON Feed: content_html is HTML, URL members must not
// run script, and every other string is plain text a reader escapes.
func scanJSON(key, member string, v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			out = append(out, scanJSON(key, k, e)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, scanJSON(key, member, e)...)
		}
	case string:
		switch {
		case member == "content_html":
			out = append(out, scanHTML(key+" content_html", []byte(v))...)
		case jsonURLFields[member] && unsafeURL(v):
			out = append(out, fmt.Sprintf("%s: %s %q", key, member, v))
		}
	}
	slices.Sort(out)
	return out
}

// TestHostileTwoNewPostsClaimOneURL publishes two new posts asking for
// one url in one batch: one gets it, the other is rejected naming both.
func TestHostileTwoNewPostsClaimOneURL(t *testing.T) {
	s := newHostileSite(t, nil)
	s.publishBaseline(t)
	for _, k := range []string{"posts/first.md", "posts/second.md"} {
		s.put(t, k, []byte(tomlPost("title = \"Claim by "+k+"\"\n"+hostileDate+"url = \"/contested/\"\n", "Written by "+k+".\n")))
	}
	res := s.eng.Apply(context.Background(), []Change{{Key: "posts/second.md"}, {Key: "posts/first.md"}})
	var won, lost []Outcome
	for _, o := range res.Outcomes {
		if o.Err != nil {
			t.Fatalf("%s: %v", o.Key, o.Err)
		}
		switch o.Status {
		case "published":
			won = append(won, o)
		case "rejected":
			lost = append(lost, o)
		}
	}
	if len(won) != 1 || len(lost) != 1 {
		t.Fatalf("outcomes %+v; want one published and one rejected", res.Outcomes)
	}
	if p := strings.Join(lost[0].Problems, " "); !strings.HasPrefix(p, lost[0].Key+":") || !strings.Contains(p, "/contested/ is already used by "+won[0].Key) {
		t.Errorf("problems %q; want the path and its owner, %s", lost[0].Problems, won[0].Key)
	}
	page := s.siteFiles(t)["contested/index.html"].body
	if !bytes.Contains(page, []byte("Written by "+won[0].Key)) {
		t.Errorf("the contested page is not the winner's")
	}
}

// TestHostileSiteHeadHoldsTheLargestPosts checks that a head full of the
// costliest posts the engine accepts fits in one state shard. The site's
// head keeps up to max(FEED_LIMIT, PAGE_SIZE) entries, each with its
// summary and, up to catalog.MaxHeadContent, its content; over
// maxStateBytes it can no longer be read, and every later publish fails
// with an error no retry can fix. The entry of one post of "&"s at the
// size limit (one word, so its summary is all of it, and each "&" is
// "&amp;" in it) is published and measured, and a head full of them is
// computed: publishing them all would rewrite a head growing to 64 MiB
// two hundred times.
func TestHostileSiteHeadHoldsTheLargestPosts(t *testing.T) {
	for _, feedLimit := range []string{site.Defaults["FEED_LIMIT"], "200"} {
		t.Run("FEED_LIMIT="+feedLimit, func(t *testing.T) {
			s := newHostileSite(t, map[string]string{"FEED_LIMIT": feedLimit})
			key := "posts/ampersands.md"
			s.put(t, key, []byte(tomlPost("title = \"Ampersands\"\n"+hostileDate, strings.Repeat("&", int(s.eng.opt.MaxPostBytes)-100))))
			if o := s.eng.Apply(context.Background(), []Change{{Key: key}}).Outcomes[0]; o.Status != "published" || o.Err != nil {
				t.Fatalf("outcome %+v", o)
			}
			var head catalog.Head
			if _, err := s.eng.load(context.Background(), catalog.HeadName(catalog.Site), &head); err != nil || len(head.Entries) != 1 {
				t.Fatalf("site head: %v, %d entries", err, len(head.Entries))
			}
			entry, err := encode(head.Entries[0])
			if err != nil {
				t.Fatal(err)
			}
			cfg := s.eng.r.Config()
			capacity := max(cfg.FeedLimit, cfg.PageSize)
			need := len(entry) * capacity
			t.Logf("a post of %s takes %s of the site head (content %s, summary %s); %d of them take %s",
				FormatSize(s.eng.opt.MaxPostBytes), FormatSize(int64(len(entry))), FormatSize(int64(len(head.Entries[0].Content))),
				FormatSize(int64(len(head.Entries[0].Summary))), capacity, FormatSize(int64(need)))
			if need > maxStateBytes {
				t.Errorf("REPORTED BUG: a head of %d such posts needs %s, over the %s a state shard may have; once %d are published, "+
					"every publish fails (the summary of a post that is one long word is all of it, and heads do not bound summaries)",
					capacity, FormatSize(int64(need)), FormatSize(maxStateBytes), maxStateBytes/len(entry)+1)
			}
		})
	}
}

// TestHostileScanFindsPayloads checks the scanner itself: it must find
// each payload, and pass each safely escaped one.
func TestHostileScanFindsPayloads(t *testing.T) {
	for _, tc := range []struct {
		key, body string
		unsafe    bool
	}{
		{"a.html", `<p>x</p><script>alert(1)</script>`, true},
		{"a.html", `<p>x</p><SCRIPT SRC=//evil.example/x.js></SCRIPT>`, true},
		{"a.html", `<iframe src="https://evil.example/"></iframe>`, true},
		{"a.html", `<img src=x onerror=alert(1)>`, true},
		{"a.html", `<svg><a xlink:href="javascript:alert(1)">x</a></svg>`, true},
		{"a.html", "<a href=\" java\tscript:alert(1)\">x</a>", true},
		{"a.html", `<a href="JaVaScRiPt&colon;alert(1)">x</a>`, true},
		{"a.html", `<form><button formaction="javascript:alert(1)">x</button></form>`, true},
		{"a.html", `<meta http-equiv="refresh" content="0; url=javascript:alert(1)">`, true},
		{"a.xml", `<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="html">&lt;img src=x onerror=alert(1)&gt;</content></entry></feed>`, true},
		{"a.xml", `<feed xmlns="http://www.w3.org/2005/Atom"><entry><summary type="html">&lt;script&gt;alert(1)&lt;/script&gt;</summary></entry></feed>`, true},
		{"a.xml", `<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><script>x</script></div></content></entry></feed>`, true},
		{"a.xml", `<feed xmlns="http://www.w3.org/2005/Atom"><link href="javascript:alert(1)"/></feed>`, true},
		{"a.xml", `<urlset><url><loc>javascript:alert(1)</loc></url></urlset>`, true},
		{"a.json", `{"items":[{"content_html":"\u003cscript\u003ealert(1)\u003c/script\u003e"}]}`, true},
		{"a.json", `{"items":[{"url":"javascript:alert(1)"}]}`, true},

		{"a.html", `<title>&lt;script&gt;alert(1)&lt;/script&gt;</title><p>&lt;iframe onload=x&gt; javascript:alert(1)</p><a href="/ok">x</a>`, false},
		{"a.html", `<meta name="description" content="&lt;script&gt;"><a href="">javascript:alert(1)</a>`, false},
		{"a.xml", `<feed xmlns="http://www.w3.org/2005/Atom"><title>&lt;script&gt;alert(1)&lt;/script&gt;</title><entry><content type="html">&lt;p&gt;&amp;lt;script&amp;gt;&lt;/p&gt;</content></entry></feed>`, false},
		{"a.json", `{"title":"\u003cscript\u003ealert(1)\u003c/script\u003e","items":[{"content_html":"\u0026lt;script\u0026gt;","tags":["\u003cscript\u003e"]}]}`, false},
	} {
		got := hostileScan(tc.key, []byte(tc.body))
		if (len(got) > 0) != tc.unsafe {
			t.Errorf("scan of %s %s: %q; want unsafe %v", tc.key, tc.body, got, tc.unsafe)
		}
	}
}

// TestHostileScanGoldenSite scans the golden site for unsafe output.
func TestHostileScanGoldenSite(t *testing.T) {
	n := 0
	err := filepath.WalkDir(filepath.Join("testdata", "site"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".golden") {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for _, v := range hostileScan(strings.TrimSuffix(filepath.ToSlash(p), ".golden"), body) {
			t.Errorf("unsafe output: %s", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("scanned %d golden files; is testdata/site there?", n)
	}
	t.Logf("scanned %d golden files", n)
}

// FuzzApply publishes whatever bytes it is given over a published post:
// the engine must not panic or ask for a retry, a rejection must leave the
// site as it was, and nothing it publishes may carry script.
func FuzzApply(f *testing.F) {
	for _, p := range hostileBaseline {
		f.Add([]byte(p.src))
	}
	for _, c := range hostileCases {
		if c.gen == nil {
			f.Add([]byte(c.src))
		}
	}
	base := newHostileSite(f, nil)
	base.publishBaseline(f)
	before := base.siteFiles(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		s := base.clone(t)
		s.put(t, hostileVictim, src)
		start := time.Now()
		res := s.eng.Apply(context.Background(), []Change{{Key: hostileVictim}})
		if d := time.Since(start); d > 2*hostileMaxTime {
			t.Errorf("took %v", d)
		}
		o := res.Outcomes[0]
		if o.Err != nil {
			t.Fatalf("Err %v: want a publish or a rejection", o.Err)
		}
		after := s.siteFiles(t)
		switch o.Status {
		case "rejected":
			if len(o.Problems) == 0 {
				t.Error("a rejection without problems")
			}
			for _, p := range o.Problems {
				if !strings.HasPrefix(p, hostileVictim+":") {
					t.Errorf("problem %q does not start with the key", p)
				}
			}
			if d := diffHostile(before, after); len(d) > 0 {
				t.Errorf("a rejection changed the site: %v", d)
			}
		case "published", "draft", "scheduled", "expired":
		default:
			t.Fatalf("status %q", o.Status)
		}
		for _, k := range res.Written {
			for _, v := range hostileScan(k, after[k].body) {
				t.Errorf("unsafe output: %s", v)
			}
		}
	})
}
