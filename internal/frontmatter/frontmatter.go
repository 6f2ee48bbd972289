// Package frontmatter finds and decodes the metadata block at the top of a
// Hugo-style content file: TOML between "+++" lines, YAML between "---"
// lines, or a JSON object.
//
// It works in two steps, like Hugo's page parser: Split locates the block
// and the body without decoding anything, then Decode turns the block into
// plain Go values; Parse does both. It knows nothing of what the fields mean; interpreting
// titles, dates and tags is the job of package post.
package frontmatter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"
	"gopkg.in/yaml.v3"
)

// Format names the syntax of a front matter block.
type Format string

// The formats Split recognizes. None means the file has no front matter.
const (
	None Format = ""
	TOML Format = "toml"
	YAML Format = "yaml"
	JSON Format = "json"
)

// Block is a located, not yet decoded, front matter block.
type Block struct {
	Format Format
	// Raw is the block's text without its fences (for JSON, the object).
	Raw []byte
	// Line is the 1-based line of the file where Raw starts.
	Line int
	// Body is everything after the block, and BodyLine its first line.
	Body     []byte
	BodyLine int
}

// Document is a decoded file: its fields and its body.
type Document struct {
	Format Format
	// Fields holds the decoded values with lower-cased keys (Hugo's keys are
	// case-insensitive). Values are string, bool, int64, float64, time.Time,
	// LocalTime, []any and map[string]any.
	Fields   map[string]any
	Body     []byte
	BodyLine int
}

// LocalTime is a date or date-time written without an offset; the caller
// decides which time zone it is in. DateOnly is true for a bare date.
type LocalTime struct {
	Year, Month, Day, Hour, Minute, Second, Nanosecond int
	DateOnly                                           bool
}

// In returns the moment t names in loc.
func (t LocalTime) In(loc *time.Location) time.Time {
	return time.Date(t.Year, time.Month(t.Month), t.Day, t.Hour, t.Minute, t.Second, t.Nanosecond, loc)
}

// Error is a problem with the front matter, at a 1-based line of the file
// (0 when the decoder gave none).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

var bom = []byte("\xef\xbb\xbf")

// Split locates the front matter block of src. A byte order mark is
// ignored and CRLF line endings are read as LF; blank lines before the
// block are allowed. YAML may also close with "...". A JSON block ends at
// its closing brace; the rest of that line, unless blank, starts the body.
// A file that starts with neither fence nor "{" has no front matter:
// Format is None and Body is the whole file.
func Split(src []byte) (Block, error) {
	src = bytes.TrimPrefix(src, bom)
	if bytes.Contains(src, []byte("\r")) {
		src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	}
	line := 1
	rest := src
	for {
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 || len(bytes.TrimSpace(rest[:nl])) != 0 {
			break
		}
		rest = rest[nl+1:]
		line++
	}
	first, _, _ := bytes.Cut(rest, []byte("\n"))
	first = bytes.TrimRight(first, " \t")
	switch {
	case string(first) == "+++":
		return fenced(src, rest, line, TOML, "+++")
	case string(first) == "---":
		return fenced(src, rest, line, YAML, "---")
	case len(rest) > 0 && rest[0] == '{':
		return jsonBlock(rest, line)
	}
	return Block{Format: None, Body: src, BodyLine: 1}, nil
}

func fenced(src, rest []byte, line int, f Format, fence string) (Block, error) {
	open := line
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return Block{}, &Error{Line: open, Msg: fmt.Sprintf("%s front matter opened with %q is never closed", f, fence)}
	}
	body := rest[nl+1:]
	start := body
	line++
	for len(body) > 0 {
		end := bytes.IndexByte(body, '\n')
		var l []byte
		next := body[len(body):]
		if end < 0 {
			l = body
		} else {
			l, next = body[:end], body[end+1:]
		}
		t := string(bytes.TrimRight(l, " \t"))
		if t == fence || (f == YAML && t == "...") {
			raw := start[:len(start)-len(body)]
			return Block{Format: f, Raw: raw, Line: open + 1, Body: next, BodyLine: line + 1}, nil
		}
		body = next
		line++
	}
	return Block{}, &Error{Line: open, Msg: fmt.Sprintf("%s front matter opened with %q is never closed", f, fence)}
}

func jsonBlock(rest []byte, line int) (Block, error) {
	dec := json.NewDecoder(bytes.NewReader(rest))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return Block{}, jsonError(rest, line, err)
	}
	n := int(dec.InputOffset())
	body := rest[n:]
	bodyLine := line + bytes.Count(rest[:n], []byte("\n"))
	// The rest of the line holding the closing brace belongs to the block.
	if nl := bytes.IndexByte(body, '\n'); nl >= 0 && len(bytes.TrimSpace(body[:nl])) == 0 {
		body = body[nl+1:]
		bodyLine++
	} else if nl < 0 && len(bytes.TrimSpace(body)) == 0 {
		body = nil
	}
	return Block{Format: JSON, Raw: rest[:n], Line: line, Body: body, BodyLine: bodyLine}, nil
}

func jsonError(doc []byte, line int, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &Error{Line: line, Msg: "JSON front matter object is never closed"}
	}
	off := int64(-1)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	// The decoder stops after reading the offending byte, so that byte,
	// which may itself be a newline, is the one before the offset.
	if off > 0 && int(off) <= len(doc) {
		line += bytes.Count(doc[:off-1], []byte("\n"))
	}
	return &Error{Line: line, Msg: "invalid JSON front matter: " + strings.TrimPrefix(err.Error(), "json: ")}
}

// Parse splits src and decodes its front matter block.
func Parse(src []byte) (Document, error) {
	b, err := Split(src)
	if err != nil {
		return Document{}, err
	}
	return Decode(b)
}

// MaxBytes bounds the size of a front matter block. Decoding cost grows
// with it (and faster than linearly for deeply dotted TOML keys), and no
// real post needs more.
const MaxBytes = 256 << 10

// Decode decodes a block that Split located. Callers that need the block's
// position as well as its values (to point at a field's line) split once
// and decode the result; everyone else calls Parse.
func Decode(b Block) (doc Document, err error) {
	doc = Document{Format: b.Format, Body: b.Body, BodyLine: b.BodyLine, Fields: map[string]any{}}
	if b.Format == None {
		return doc, nil
	}
	if len(b.Raw) > MaxBytes {
		return Document{}, &Error{Line: b.Line, Msg: fmt.Sprintf("%s front matter is larger than %d KiB", b.Format, MaxBytes>>10)}
	}
	// The decoders are third-party code fed hostile input: a panic in one
	// must reject the file, not crash the function that publishes the site.
	defer func() {
		if r := recover(); r != nil {
			doc, err = Document{}, &Error{Line: b.Line, Msg: fmt.Sprintf("cannot decode %s front matter: %v", b.Format, r)}
		}
	}()
	var fields map[string]any
	switch b.Format {
	case TOML:
		fields, err = decodeTOML(b)
	case YAML:
		fields, err = decodeYAML(b)
	case JSON:
		fields, err = decodeJSON(b)
	default:
		return Document{}, &Error{Line: b.Line, Msg: fmt.Sprintf("unknown front matter format %q", b.Format)}
	}
	if err != nil {
		return Document{}, err
	}
	doc.Fields = lowerKeys(fields)
	return doc, nil
}

func decodeTOML(b Block) (map[string]any, error) {
	var m map[string]any
	if err := toml.Unmarshal(b.Raw, &m); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return nil, &Error{Line: b.Line + row - 1, Msg: "invalid TOML front matter: " + strings.TrimPrefix(de.Error(), "toml: ")}
		}
		return nil, &Error{Line: b.Line, Msg: "invalid TOML front matter: " + strings.TrimPrefix(err.Error(), "toml: ")}
	}
	v, err := normalize(m, 0)
	if err != nil {
		return nil, &Error{Line: b.Line, Msg: "TOML " + err.Error()}
	}
	return v.(map[string]any), nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlParserProblems are the messages of yaml.v3's parser, as opposed to
// its scanner. yaml.v3 reports a parser error's line counting from 0 (and
// omits it on the first line), but a scanner error's counting from 1.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

func decodeYAML(b Block) (map[string]any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b.Raw, &root); err != nil {
		msg := err.Error()
		line := b.Line
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
			if yamlParserProblems[msg] {
				n++
			}
			line = b.Line + n - 1
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
		}
		return nil, &Error{Line: line, Msg: "invalid YAML front matter: " + msg}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return map[string]any{}, nil
	}
	top := root.Content[0]
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return map[string]any{}, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, &Error{Line: b.Line + top.Line - 1, Msg: "YAML front matter must be a mapping of keys to values"}
	}
	y := yamlDecoder{base: b.Line}
	v, err := y.value(top, 0, false)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack, and
// no real front matter comes near it.
const maxDepth = 64

// maxAliasValues bounds how many values alias expansion may produce. The
// parser keeps an alias as one node, but converting it copies its target,
// so nine aliases of nine aliases of … ("billion laughs") would otherwise
// build an exponential tree from a few hundred bytes.
const maxAliasValues = 10000

// yamlDecoder converts a node tree to plain values. Timestamps are kept as
// their text so that offset-less times can be read in the site's zone.
type yamlDecoder struct {
	base        int        // the file line of the block's first line
	aliasValues int        // values produced through aliases so far
	alias       *yaml.Node // the outermost alias being expanded
}

func (y *yamlDecoder) errorf(n *yaml.Node, format string, args ...any) error {
	return &Error{Line: y.base + max(n.Line, 1) - 1, Msg: fmt.Sprintf(format, args...)}
}

func (y *yamlDecoder) value(n *yaml.Node, depth int, viaAlias bool) (any, error) {
	if depth > maxDepth {
		return nil, y.errorf(n, "YAML front matter is nested more than %d levels deep", maxDepth)
	}
	if viaAlias {
		if y.aliasValues++; y.aliasValues > maxAliasValues {
			// Point at the alias written in the document, not at the
			// anchored node it copies.
			return nil, y.errorf(y.alias, "YAML front matter expands aliases to more than %d values", maxAliasValues)
		}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return y.value(n.Content[0], depth+1, viaAlias)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, y.errorf(n, "invalid YAML front matter: unknown alias %q", n.Value)
		}
		if !viaAlias {
			y.alias = n
		}
		return y.value(n.Alias, depth+1, true)
	case yaml.MappingNode:
		return y.mapping(n, depth, viaAlias)
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := y.value(c, depth+1, viaAlias)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!timestamp", "!!str", "!!binary":
			return n.Value, nil
		case "!!null":
			return nil, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, y.errorf(n, "invalid YAML front matter: cannot read %q as %s", n.Value, n.Tag)
		}
		return normalize(v, depth)
	}
	return nil, y.errorf(n, "unsupported YAML node")
}

// mapping converts a mapping node. Like YAML decoders that build maps, it
// rejects a key defined twice rather than silently keeping one; merge keys
// ("<<: *defaults") supply values for keys the mapping does not set.
func (y *yamlDecoder) mapping(n *yaml.Node, depth int, viaAlias bool) (map[string]any, error) {
	m := make(map[string]any, len(n.Content)/2)
	lines := make(map[string]int, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, vn := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, y.errorf(k, "YAML front matter keys must be plain strings")
		}
		if k.Tag == "!!merge" {
			merges = append(merges, vn)
			continue
		}
		if first, dup := lines[k.Value]; dup {
			return nil, y.errorf(k, "invalid YAML front matter: key %q is already defined on line %d", k.Value, first)
		}
		lines[k.Value] = y.base + max(k.Line, 1) - 1
		v, err := y.value(vn, depth+1, viaAlias)
		if err != nil {
			return nil, err
		}
		m[k.Value] = v
	}
	for _, mn := range merges {
		srcs := []*yaml.Node{mn}
		if mn.Kind == yaml.SequenceNode {
			srcs = mn.Content
		}
		for _, sn := range srcs {
			v, err := y.value(sn, depth+1, viaAlias)
			if err != nil {
				return nil, err
			}
			mv, ok := v.(map[string]any)
			if !ok {
				return nil, y.errorf(sn, "invalid YAML front matter: a merge key (<<) takes a mapping or a list of mappings")
			}
			for k, e := range mv {
				if _, set := m[k]; !set {
					m[k] = e
				}
			}
		}
	}
	return m, nil
}

func decodeJSON(b Block) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b.Raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, jsonError(b.Raw, b.Line, err)
	}
	v, err := normalize(m, 0)
	if err != nil {
		return nil, &Error{Line: b.Line, Msg: "JSON " + err.Error()}
	}
	return v.(map[string]any), nil
}

// normalize maps each decoder's types onto the small set Document promises,
// and rejects nesting deeper than maxDepth.
func normalize(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("front matter is nested more than %d levels deep", maxDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
		return x, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = n
		}
		return m, nil
	case []any:
		for i, e := range x {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
		return x, nil
	case int:
		return int64(x), nil
	case uint64:
		// Only integers beyond int64 come as uint64; a float keeps their
		// magnitude where a conversion would wrap them negative.
		if x > math.MaxInt64 {
			return float64(x), nil
		}
		return int64(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, _ := x.Float64()
		return f, nil
	case toml.LocalDate:
		return LocalTime{Year: x.Year, Month: x.Month, Day: x.Day, DateOnly: true}, nil
	case toml.LocalDateTime:
		return LocalTime{Year: x.Year, Month: x.Month, Day: x.Day, Hour: x.Hour, Minute: x.Minute, Second: x.Second, Nanosecond: x.Nanosecond}, nil
	case toml.LocalTime:
		return fmt.Sprintf("%02d:%02d:%02d", x.Hour, x.Minute, x.Second), nil
	}
	return v, nil
}

// lowerKeys lower-cases the top-level keys. When two keys differ only in
// case, the all-lower-case one wins, else the one that sorts first, so the
// result never depends on map order.
func lowerKeys(m map[string]any) map[string]any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]any, len(m))
	for _, k := range keys {
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup && lk != k {
			continue
		}
		out[lk] = m[k]
	}
	return out
}
