package frontmatter_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/frontmatter"
)

// block is a Block with its byte slices as strings, so that table rows can
// be compared with == and printed readably.
type block struct {
	Format   frontmatter.Format
	Raw      string
	Line     int
	Body     string
	BodyLine int
}

func asBlock(b frontmatter.Block) block {
	return block{Format: b.Format, Raw: string(b.Raw), Line: b.Line, Body: string(b.Body), BodyLine: b.BodyLine}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want block
	}{
		{
			name: "toml",
			src:  "+++\ntitle = \"x\"\n+++\nbody\n",
			want: block{frontmatter.TOML, "title = \"x\"\n", 2, "body\n", 4},
		},
		{
			name: "yaml",
			src:  "---\ntitle: x\ntags: [a]\n---\nbody\n",
			want: block{frontmatter.YAML, "title: x\ntags: [a]\n", 2, "body\n", 5},
		},
		{
			name: "yaml closed by three dots",
			src:  "---\ntitle: x\n...\nbody\n",
			want: block{frontmatter.YAML, "title: x\n", 2, "body\n", 4},
		},
		{
			name: "three dots do not close toml",
			src:  "+++\ntitle = \"x\"\n...\n+++\nbody\n",
			want: block{frontmatter.TOML, "title = \"x\"\n...\n", 2, "body\n", 5},
		},
		{
			name: "json",
			src:  "{\n  \"title\": \"x\"\n}\nbody\n",
			want: block{frontmatter.JSON, "{\n  \"title\": \"x\"\n}", 1, "body\n", 4},
		},
		{
			name: "json followed by body on the same line keeps the rest of the line as body",
			src:  "{\"title\": \"x\"} body\nmore\n",
			want: block{frontmatter.JSON, "{\"title\": \"x\"}", 1, " body\nmore\n", 1},
		},
		{
			name: "json with trailing spaces after the brace",
			src:  "{\"title\": \"x\"}  \t\nbody",
			want: block{frontmatter.JSON, "{\"title\": \"x\"}", 1, "body", 2},
		},
		{
			name: "json alone in the file",
			src:  "{\"title\": \"x\"}",
			want: block{frontmatter.JSON, "{\"title\": \"x\"}", 1, "", 1},
		},
		{
			name: "json with only spaces after it",
			src:  "{\"title\": \"x\"}   ",
			want: block{frontmatter.JSON, "{\"title\": \"x\"}", 1, "", 1},
		},
		{
			name: "json with a brace inside a string",
			src:  "{\"title\": \"}{\"}\nbody",
			want: block{frontmatter.JSON, "{\"title\": \"}{\"}", 1, "body", 2},
		},
		{
			name: "byte order mark is ignored",
			src:  "\ufeff+++\ntitle = \"x\"\n+++\nbody",
			want: block{frontmatter.TOML, "title = \"x\"\n", 2, "body", 4},
		},
		{
			name: "byte order mark before json",
			src:  "\ufeff{\"title\": \"x\"}\nbody",
			want: block{frontmatter.JSON, "{\"title\": \"x\"}", 1, "body", 2},
		},
		{
			name: "crlf line endings read as lf",
			src:  "+++\r\ntitle = \"x\"\r\n+++\r\nbody\r\nmore\r\n",
			want: block{frontmatter.TOML, "title = \"x\"\n", 2, "body\nmore\n", 4},
		},
		{
			name: "byte order mark and crlf in yaml",
			src:  "\ufeff---\r\ntitle: x\r\n---\r\nbody\r\n",
			want: block{frontmatter.YAML, "title: x\n", 2, "body\n", 4},
		},
		{
			name: "leading blank lines are skipped and counted",
			src:  "\n\n+++\ntitle = \"x\"\n+++\nbody",
			want: block{frontmatter.TOML, "title = \"x\"\n", 4, "body", 6},
		},
		{
			name: "leading lines of spaces are blank",
			src:  "  \n\t\n---\ntitle: x\n---\nbody",
			want: block{frontmatter.YAML, "title: x\n", 4, "body", 6},
		},
		{
			name: "leading blank lines before json",
			src:  "\n\n{\n\"title\": \"x\"\n}\nbody",
			want: block{frontmatter.JSON, "{\n\"title\": \"x\"\n}", 3, "body", 6},
		},
		{
			name: "empty toml block",
			src:  "+++\n+++\nbody",
			want: block{frontmatter.TOML, "", 2, "body", 3},
		},
		{
			name: "empty yaml block",
			src:  "---\n---\nbody",
			want: block{frontmatter.YAML, "", 2, "body", 3},
		},
		{
			name: "fences with trailing spaces and tabs",
			src:  "+++  \ntitle = \"x\"\n+++\t \nbody",
			want: block{frontmatter.TOML, "title = \"x\"\n", 2, "body", 4},
		},
		{
			name: "closing fence at end of file without newline",
			src:  "+++\ntitle = \"x\"\n+++",
			want: block{frontmatter.TOML, "title = \"x\"\n", 2, "", 4},
		},
		{
			name: "first closing fence ends yaml and later rules are body",
			src:  "---\ntitle: x\n---\ntext\n---\nmore",
			want: block{frontmatter.YAML, "title: x\n", 2, "text\n---\nmore", 4},
		},
		{
			name: "no front matter",
			src:  "# Hello\n\ntext\n",
			want: block{frontmatter.None, "", 0, "# Hello\n\ntext\n", 1},
		},
		{
			name: "no front matter after blank lines keeps them in the body",
			src:  "\n\ntext",
			want: block{frontmatter.None, "", 0, "\n\ntext", 1},
		},
		{
			name: "empty file",
			src:  "",
			want: block{frontmatter.None, "", 0, "", 1},
		},
		{
			name: "only blank lines",
			src:  "\n \n",
			want: block{frontmatter.None, "", 0, "\n \n", 1},
		},
		{
			name: "fence followed by text is not a fence",
			src:  "+++ toml\ntitle = \"x\"\n+++\n",
			want: block{frontmatter.None, "", 0, "+++ toml\ntitle = \"x\"\n+++\n", 1},
		},
		{
			name: "four dashes are not a fence",
			src:  "----\ntitle: x\n----\n",
			want: block{frontmatter.None, "", 0, "----\ntitle: x\n----\n", 1},
		},
		{
			name: "indented fence is not a fence",
			src:  " +++\ntitle = \"x\"\n+++\n",
			want: block{frontmatter.None, "", 0, " +++\ntitle = \"x\"\n+++\n", 1},
		},
		{
			name: "indented brace is not json",
			src:  " {\"title\": \"x\"}\n",
			want: block{frontmatter.None, "", 0, " {\"title\": \"x\"}\n", 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := frontmatter.Split([]byte(tt.src))
			if err != nil {
				t.Fatalf("Split(%q) error: %v", tt.src, err)
			}
			if got := asBlock(b); got != tt.want {
				t.Errorf("Split(%q)\n got %+v\nwant %+v", tt.src, got, tt.want)
			}
		})
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantLine int
		wantMsg  string
	}{
		{"unterminated toml", "+++\ntitle = \"x\"\nbody\n", 1, "toml front matter opened with \"+++\" is never closed"},
		{"unterminated toml after blank lines reports the opening line", "\n\n+++\ntitle = \"x\"\n", 3, "never closed"},
		{"toml opening fence alone", "+++", 1, "never closed"},
		{"toml opening fence and newline alone", "+++\n", 1, "never closed"},
		{"unterminated yaml", "---\ntitle: x\n\nbody\n", 1, "yaml front matter opened with \"---\" is never closed"},
		{"yaml closed by the toml fence is unterminated", "---\ntitle: x\n+++\n", 1, "never closed"},
		{"toml closed by the yaml fence is unterminated", "+++\ntitle = \"x\"\n---\n", 1, "never closed"},
		{"unterminated json", "{\n\"title\": \"x\",\n", 1, "JSON front matter object is never closed"},
		{"unterminated json after a blank line", "\n{\"title\": \"x\"", 2, "never closed"},
		{"unterminated json string", "{\"title\": \"x\n", 1, "invalid JSON"},
		{"invalid json reports the line of the mistake", "{\n\"title\": \"x\",\n\"b\": ,\n}\n", 3, "invalid JSON front matter: invalid character ','"},
		{"invalid json after blank lines", "\n\n{\n\"title\": \"x\"\n\"b\": 2\n}\n", 5, "invalid JSON"},
		{"shortcode at the top is not json", "{{< youtube id >}}\n", 1, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := frontmatter.Split([]byte(tt.src))
			fe := asError(t, err)
			if fe.Line != tt.wantLine {
				t.Errorf("Split(%q) error line = %d, want %d (error: %v)", tt.src, fe.Line, tt.wantLine, err)
			}
			if !strings.Contains(fe.Msg, tt.wantMsg) {
				t.Errorf("Split(%q) error = %q, want it to contain %q", tt.src, fe.Msg, tt.wantMsg)
			}
		})
	}
}

// asError checks that err is a *frontmatter.Error and returns it.
func asError(t *testing.T, err error) *frontmatter.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want a *frontmatter.Error")
	}
	var fe *frontmatter.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *frontmatter.Error", err, err)
	}
	return fe
}

func TestParse(t *testing.T) {
	offset := time.FixedZone("", 3600)
	tests := []struct {
		name       string
		src        string
		wantFormat frontmatter.Format
		want       map[string]any
	}{
		{
			name:       "toml scalars",
			src:        "+++\ntitle = \"x\"\ndraft = true\ncount = 3\nratio = 1.5\n+++\n",
			wantFormat: frontmatter.TOML,
			want:       map[string]any{"title": "x", "draft": true, "count": int64(3), "ratio": 1.5},
		},
		{
			name:       "toml offset datetime is a time",
			src:        "+++\ndate = 2019-11-01T09:00:00+01:00\nutc = 1979-05-27T07:32:00Z\n+++\n",
			wantFormat: frontmatter.TOML,
			want: map[string]any{
				"date": time.Date(2019, 11, 1, 9, 0, 0, 0, offset),
				"utc":  time.Date(1979, 5, 27, 7, 32, 0, 0, time.UTC),
			},
		},
		{
			name:       "toml local datetime and local date are local times",
			src:        "+++\ndate = 2019-11-01T09:00:00.5\nday = 2019-11-01\n+++\n",
			wantFormat: frontmatter.TOML,
			want: map[string]any{
				"date": frontmatter.LocalTime{Year: 2019, Month: 11, Day: 1, Hour: 9, Nanosecond: 5e8},
				"day":  frontmatter.LocalTime{Year: 2019, Month: 11, Day: 1, DateOnly: true},
			},
		},
		{
			name:       "toml local time is text",
			src:        "+++\nat = 09:30:00\n+++\n",
			wantFormat: frontmatter.TOML,
			want:       map[string]any{"at": "09:30:00"},
		},
		{
			name:       "toml tables and arrays",
			src:        "+++\ntags = [\"a\", 1]\n[author]\nname = \"Ann\"\n+++\n",
			wantFormat: frontmatter.TOML,
			want:       map[string]any{"tags": []any{"a", int64(1)}, "author": map[string]any{"name": "Ann"}},
		},
		{
			name:       "toml keys lower-cased at the top level only",
			src:        "+++\nTitle = \"x\"\npublishDate = \"2019-11-01\"\n[Author]\nName = \"Ann\"\n+++\n",
			wantFormat: frontmatter.TOML,
			want:       map[string]any{"title": "x", "publishdate": "2019-11-01", "author": map[string]any{"Name": "Ann"}},
		},
		{
			name:       "toml infinity",
			src:        "+++\nx = inf\n+++\n",
			wantFormat: frontmatter.TOML,
			want:       map[string]any{"x": math.Inf(1)},
		},
		{
			name:       "empty toml block",
			src:        "+++\n+++\nbody",
			wantFormat: frontmatter.TOML,
			want:       map[string]any{},
		},
		{
			name:       "yaml timestamps kept as text",
			src:        "---\ndate: 2019-11-01T09:00:00+01:00\nday: 2019-11-01\nlocal: 2019-11-01 09:00:00\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{"date": "2019-11-01T09:00:00+01:00", "day": "2019-11-01", "local": "2019-11-01 09:00:00"},
		},
		{
			name:       "yaml scalars",
			src:        "---\ntitle: x\ndraft: false\ncount: 3\nhex: 0x1F\nratio: 1.5\nnothing: ~\nquoted: '5'\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{"title": "x", "draft": false, "count": int64(3), "hex": int64(31), "ratio": 1.5, "nothing": nil, "quoted": "5"},
		},
		{
			name:       "yaml 1.1 booleans are text",
			src:        "---\ndraft: yes\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{"draft": "yes"},
		},
		{
			name:       "yaml integer beyond int64 is a float, not wrapped negative",
			src:        "---\nbig: 9223372036854775808\nhuge: 18446744073709551616\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{"big": 9223372036854775808.0, "huge": 18446744073709551616.0},
		},
		{
			name:       "yaml lists and mappings",
			src:        "---\ntags:\n  - a\n  - b\nauthor:\n  name: Ann\n  email: ann@example.com\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{"tags": []any{"a", "b"}, "author": map[string]any{"name": "Ann", "email": "ann@example.com"}},
		},
		{
			name:       "yaml alias expands",
			src:        "---\nbase: &b [a, b]\ntags: *b\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{"base": []any{"a", "b"}, "tags": []any{"a", "b"}},
		},
		{
			name:       "yaml merge key fills keys the mapping does not set",
			src:        "---\nbase: &b {name: Ann, email: a@x}\nauthor:\n  <<: *b\n  name: Bob\n---\n",
			wantFormat: frontmatter.YAML,
			want: map[string]any{
				"base":   map[string]any{"name": "Ann", "email": "a@x"},
				"author": map[string]any{"name": "Bob", "email": "a@x"},
			},
		},
		{
			name:       "yaml merge of a list of mappings",
			src:        "---\na: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{"a": map[string]any{"x": int64(1)}, "b": map[string]any{"y": int64(2)}, "c": map[string]any{"x": int64(1), "y": int64(2)}},
		},
		{
			name:       "yaml keys lower-cased",
			src:        "---\nTitle: x\nLastMod: 2019-11-01\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{"title": "x", "lastmod": "2019-11-01"},
		},
		{
			name:       "empty yaml block",
			src:        "---\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{},
		},
		{
			name:       "yaml block of comments only",
			src:        "---\n# nothing yet\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{},
		},
		{
			name:       "yaml null document",
			src:        "---\n~\n---\n",
			wantFormat: frontmatter.YAML,
			want:       map[string]any{},
		},
		{
			name:       "json numbers are int64 or float64",
			src:        "{\"n\": 3, \"f\": 1.5, \"e\": 1e3, \"big\": 12345678901234567890, \"neg\": -7}\n",
			wantFormat: frontmatter.JSON,
			want:       map[string]any{"n": int64(3), "f": 1.5, "e": 1000.0, "big": 12345678901234567890.0, "neg": int64(-7)},
		},
		{
			name:       "json nested values",
			src:        "{\"Tags\": [\"a\", 2], \"Author\": {\"Name\": \"Ann\"}, \"draft\": true, \"x\": null}\n",
			wantFormat: frontmatter.JSON,
			want:       map[string]any{"tags": []any{"a", int64(2)}, "author": map[string]any{"Name": "Ann"}, "draft": true, "x": nil},
		},
		{
			name:       "json dates are text",
			src:        "{\"date\": \"2019-11-01T09:00:00Z\"}\n",
			wantFormat: frontmatter.JSON,
			want:       map[string]any{"date": "2019-11-01T09:00:00Z"},
		},
		{
			name:       "an all-lower-case key wins over its differently cased twin",
			src:        "{\"TITLE\": \"a\", \"title\": \"b\", \"Title\": \"c\"}\n",
			wantFormat: frontmatter.JSON,
			want:       map[string]any{"title": "b"},
		},
		{
			name:       "of two cased twins the one that sorts first wins",
			src:        "{\"Title\": \"c\", \"TITLE\": \"a\"}\n",
			wantFormat: frontmatter.JSON,
			want:       map[string]any{"title": "a"},
		},
		{
			name:       "no front matter has no fields",
			src:        "just text\n",
			wantFormat: frontmatter.None,
			want:       map[string]any{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := frontmatter.Parse([]byte(tt.src))
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.src, err)
			}
			if doc.Format != tt.wantFormat {
				t.Errorf("Parse(%q).Format = %q, want %q", tt.src, doc.Format, tt.wantFormat)
			}
			if doc.Fields == nil {
				t.Errorf("Parse(%q).Fields is nil, want a map", tt.src)
			}
			if !sameValue(doc.Fields, tt.want) {
				t.Errorf("Parse(%q).Fields\n got %#v\nwant %#v", tt.src, doc.Fields, tt.want)
			}
		})
	}
}

// sameValue compares decoded values, times by the moment they name.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !sameValue(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameValue(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return got == want
}

func TestParseBody(t *testing.T) {
	doc, err := frontmatter.Parse([]byte("\ufeff+++\r\ntitle = \"x\"\r\n+++\r\n\r\nHello\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(doc.Body), "\nHello\n"; got != want {
		t.Errorf("Body = %q, want %q", got, want)
	}
	if got, want := doc.BodyLine, 4; got != want {
		t.Errorf("BodyLine = %d, want %d", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantLine int
		wantMsg  string
	}{
		{"toml error on line 4 of the file", "+++\ntitle = \"x\"\ndraft = true\nbad = = 1\n+++\n", 4, "invalid TOML front matter: unexpected character"},
		{"toml error after blank lines", "\n\n+++\ntitle = \"x\"\nbad = = 1\n+++\n", 5, "invalid TOML"},
		{"toml error after a byte order mark and crlf", "\ufeff+++\r\ntitle = \"x\"\r\nbad\r\n+++\r\n", 3, "invalid TOML"},
		{"toml key defined twice", "+++\ntitle = \"a\"\ntitle = \"b\"\n+++\n", 3, "already defined"},
		{"toml unterminated string", "+++\ntitle = \"a\n+++\n", 2, "invalid TOML"},
		{"yaml error on line 4 of the file", "---\ntitle: x\ndate: 2019\n  bad: [\n---\n", 4, "invalid YAML front matter: mapping values are not allowed"},
		{"yaml error after blank lines", "\n---\ntitle: x\n\tdate: 1\n---\n", 4, "invalid YAML front matter: found a tab character"},
		{"yaml unclosed flow list reports the line it opens on", "---\ntitle: x\ntags: [a\ndraft: true\n---\n", 3, "did not find expected ',' or ']'"},
		{"yaml parser error lines count from one", "---\ntitle: x\n- a\n---\n", 3, "did not find expected key"},
		{"yaml scanner error lines count from one", "---\ntitle: x\nkey\nother: 1\n---\n", 3, "could not find expected ':'"},
		{"yaml unclosed quote", "---\ntitle: x\na: \"abc\n---\n", 3, "found unexpected end of stream"},
		{"yaml key defined twice", "---\ntitle: a\ndraft: true\ntitle: b\n---\n", 4, `key "title" is already defined on line 2`},
		{"yaml that is a list", "---\n- a\n- b\n---\n", 2, "must be a mapping"},
		{"yaml that is a scalar", "---\n\nhello\n---\n", 3, "must be a mapping"},
		{"yaml key that is not a scalar", "---\ntitle: x\n? [a, b]\n: c\n---\n", 3, "keys must be plain strings"},
		{"yaml merge of a scalar", "---\na:\n  <<: 5\n---\n", 3, "merge key"},
		{"yaml scalar with a wrong tag", "---\ntitle: x\nn: !!int abc\n---\n", 3, `cannot read "abc" as !!int`},
		{"yaml unknown anchor", "---\ntitle: *nope\n---\n", 2, "invalid YAML"},
		{"json error on line 4 of the file", "{\n\"title\": \"x\",\n\"a\": 1\n\"b\": 2\n}\n", 4, "invalid JSON front matter"},
		{"json trailing comma", "{\n\"title\": \"x\",\n}\n", 3, "invalid JSON"},
		{"json duplicate-free nesting too deep", "{\"a\": " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}\n", 1, "nested more than 64 levels deep"},
		{"toml nesting too deep", "+++\na = " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n+++\n", 2, "nested more than 64 levels deep"},
		{"toml dotted key too deep", "+++\na" + strings.Repeat(".a", 100) + " = 1\n+++\n", 2, "nested more than 64 levels deep"},
		{"toml nesting beyond the decoder's limit", "+++\na = " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n+++\n", 2, "invalid TOML"},
		{"yaml nesting too deep", "---\na: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n---\n", 2, "nested more than 64 levels deep"},
		{"yaml nesting beyond the parser's limit", "---\na: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n---\n", 2, "invalid YAML"},
		{"json nesting beyond the decoder's limit", "{\"a\": " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "}\n", 1, "invalid JSON"},
		{"front matter larger than MaxBytes", "+++\ntitle = \"" + strings.Repeat("x", frontmatter.MaxBytes) + "\"\n+++\n", 2, "larger than 256 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := frontmatter.Parse([]byte(tt.src))
			fe := asError(t, err)
			if fe.Line != tt.wantLine {
				t.Errorf("error line = %d, want %d (error: %v)", fe.Line, tt.wantLine, err)
			}
			if !strings.Contains(fe.Msg, tt.wantMsg) {
				t.Errorf("error = %q, want it to contain %q", fe.Msg, tt.wantMsg)
			}
			if strings.Contains(fe.Msg, "\n") {
				t.Errorf("error %q spans several lines, want one", fe.Msg)
			}
		})
	}
}

// billionLaughs builds a YAML document in which each of levels anchors is
// a list of nine aliases of the one before: a few hundred bytes that name
// 9^levels values.
func billionLaughs(levels int) string {
	var b strings.Builder
	b.WriteString("---\ntitle: lol\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("---\n")
	return b.String()
}

func TestParseYAMLAliasBomb(t *testing.T) {
	tests := []struct {
		name   string
		levels int
	}{
		{"billion laughs is rejected", 9},
		{"a million laughs is rejected", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := billionLaughs(tt.levels)
			start := time.Now()
			_, err := frontmatter.Parse([]byte(src))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Parse took %v, want well under 2s", d)
			}
			fe := asError(t, err)
			if !strings.Contains(fe.Msg, "expands aliases to more than") {
				t.Errorf("error = %q, want it to name the alias expansion", fe.Msg)
			}
			// Through aliases, l1, l2 and l3 give 90 + 819 + 7380 values; l4 passes
			// 10,000 and is written on line 7.
			if fe.Line != 7 {
				t.Errorf("error line = %d, want 7, the first alias that passes the limit", fe.Line)
			}
		})
	}
	t.Run("modest aliasing is accepted", func(t *testing.T) {
		if _, err := frontmatter.Parse([]byte(billionLaughs(2))); err != nil {
			t.Errorf("Parse of 9^3 values: %v", err)
		}
	})
}

func TestDecode(t *testing.T) {
	t.Run("none gives empty fields and the body", func(t *testing.T) {
		doc, err := frontmatter.Decode(frontmatter.Block{Format: frontmatter.None, Body: []byte("text"), BodyLine: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(doc.Fields) != 0 || doc.Fields == nil || string(doc.Body) != "text" {
			t.Errorf("Decode = %+v, want empty fields and body %q", doc, "text")
		}
	})
	t.Run("unknown format is an error", func(t *testing.T) {
		_, err := frontmatter.Decode(frontmatter.Block{Format: "xml", Raw: []byte("<a/>"), Line: 2})
		if fe := asError(t, err); fe.Line != 2 {
			t.Errorf("error line = %d, want 2", fe.Line)
		}
	})
}

func TestLocalTimeIn(t *testing.T) {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	tests := []struct {
		name string
		lt   frontmatter.LocalTime
		loc  *time.Location
		want time.Time
	}{
		{"winter time in amsterdam is utc plus one", frontmatter.LocalTime{Year: 2019, Month: 11, Day: 1, Hour: 9}, ams, time.Date(2019, 11, 1, 8, 0, 0, 0, time.UTC)},
		{"summer time in amsterdam is utc plus two", frontmatter.LocalTime{Year: 2019, Month: 7, Day: 1, Hour: 9}, ams, time.Date(2019, 7, 1, 7, 0, 0, 0, time.UTC)},
		{"date only is midnight", frontmatter.LocalTime{Year: 2019, Month: 11, Day: 1, DateOnly: true}, time.UTC, time.Date(2019, 11, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lt.In(tt.loc); !got.Equal(tt.want) {
				t.Errorf("%+v.In(%v) = %v, want %v", tt.lt, tt.loc, got, tt.want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *frontmatter.Error
		want string
	}{
		{"with a line", &frontmatter.Error{Line: 3, Msg: "bad"}, "line 3: bad"},
		{"without a line", &frontmatter.Error{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// normalizeNewlines does what Split does to its input before looking at it.
func normalizeNewlines(src []byte) []byte {
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	return bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"+++\ntitle = \"x\"\ndate = 2019-11-01T09:00:00\n+++\nbody\n",
		"---\ntitle: x\ntags: [a, b]\n---\nbody\n",
		"---\ntitle: x\n...\nbody",
		"{\"title\": \"x\", \"tags\": [\"a\"]}\nbody\n",
		"{\"title\": \"x\"} same line",
		"\ufeff\r\n+++\r\ntitle = 'x'\r\n+++\r\n",
		"+++\n+++\n",
		"---\n---\n",
		"+++\ntitle = \"x\"\n",
		"---\na: &a [x]\nb: [*a, *a]\nc:\n  <<: {d: 1}\n---\n",
		"{\n\"a\": ,\n}",
		"no front matter\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		b, err := frontmatter.Split(src)
		if err != nil {
			var fe *frontmatter.Error
			if !errors.As(err, &fe) || fe.Line < 1 {
				t.Fatalf("Split error %v (%T) is not a *frontmatter.Error with a line", err, err)
			}
			return
		}
		norm := normalizeNewlines(src)
		if !bytes.HasSuffix(norm, b.Body) {
			t.Fatalf("Body %q is not the end of the input %q", b.Body, norm)
		}
		if len(b.Body) > 0 {
			before := norm[:len(norm)-len(b.Body)]
			if got, want := b.BodyLine, 1+bytes.Count(before, []byte("\n")); got != want {
				t.Fatalf("BodyLine = %d, want %d", got, want)
			}
		}
		if b.Format == frontmatter.None {
			if !bytes.Equal(b.Body, norm) || b.Raw != nil || b.BodyLine != 1 {
				t.Fatalf("no front matter, but Split = %+v", asBlock(b))
			}
		} else if b.Line < 1 || b.BodyLine < b.Line {
			t.Fatalf("Line = %d, BodyLine = %d", b.Line, b.BodyLine)
		}
		if bytes.Contains(src, []byte("\r")) {
			// Split worked on a normalized copy, so Raw is not a slice of
			// src; it must still be part of the normalized text.
			if !bytes.Contains(norm, b.Raw) {
				t.Fatalf("Raw %q is not in the input %q", b.Raw, norm)
			}
		} else if b.Format != frontmatter.None {
			// Raw is a slice of src: its offset tells where it starts.
			i := cap(src) - cap(b.Raw)
			if i < 0 || i > len(src) {
				t.Fatalf("Raw is not a slice of the input")
			}
			if got, want := b.Line, 1+bytes.Count(src[:i], []byte("\n")); got != want {
				t.Fatalf("Line = %d, but Raw starts on line %d", got, want)
			}
		}
		doc, err := frontmatter.Decode(b)
		if err != nil {
			fe := asError(t, err)
			if strings.HasPrefix(fe.Msg, "cannot decode") {
				t.Fatalf("a decoder panicked: %v", err)
			}
			if fe.Line < 1 {
				t.Fatalf("decode error %q has no line", fe.Msg)
			}
			return
		}
		if doc.Fields == nil {
			t.Fatal("Decode returned nil Fields")
		}
		for k := range doc.Fields {
			if k != strings.ToLower(k) {
				t.Fatalf("key %q is not lower case", k)
			}
		}
	})
}
