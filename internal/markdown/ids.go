package markdown

import (
	"html"
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
)

// headingIDs hands out GitHub-style element ids, each unique within one
// document. It implements parser.IDs; a new one is made for every Render.
type headingIDs struct {
	used map[string]bool
	// next is the suffix to try first for a base id, so that a hundred
	// headings called "Notes" cost a hundred lookups, not five thousand.
	next map[string]int
}

func newHeadingIDs() *headingIDs {
	return &headingIDs{used: map[string]bool{}, next: map[string]int{}}
}

// Generate implements parser.IDs. value is the text of the element, not its
// Markdown source.
func (s *headingIDs) Generate(value []byte, kind ast.NodeKind) []byte {
	base := slug(string(value))
	if base == "" {
		base = "id"
		if kind == ast.KindHeading {
			base = "heading"
		}
	}
	id := base
	if s.used[id] {
		for i := max(s.next[base], 1); ; i++ {
			id = base + "-" + strconv.Itoa(i)
			if !s.used[id] {
				s.next[base] = i + 1
				break
			}
		}
	}
	s.used[id] = true
	return []byte(id)
}

// Put implements parser.IDs: it reserves an id the author chose.
func (s *headingIDs) Put(value []byte) {
	s.used[string(value)] = true
}

// slug is GitHub's anchor algorithm: lower-case the text, keep letters,
// combining marks, digits, connector punctuation such as '_', and hyphens,
// turn each space into a hyphen and drop everything else.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r == '-' || unicode.IsSpace(r):
			b.WriteByte('-')
		case unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || unicode.Is(unicode.Pc, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	attrID    = []byte("id")
	attrClass = []byte("class")
)

// assignHeadingIDs gives every heading an id. Ids written by the author
// ({#custom}) are reserved first, wherever they appear, so a generated id
// never takes one of them. Heading attributes other than id and class are
// dropped: goldmark would pass style, accesskey or contenteditable through
// even when raw HTML is off.
func assignHeadingIDs(headings []*ast.Heading, src []byte, ids parser.IDs) {
	for _, h := range headings {
		var id, class []byte
		for _, a := range h.Attributes() {
			switch string(a.Name) {
			case "id":
				id = attrBytes(a.Value)
			case "class":
				class = attrBytes(a.Value)
			}
		}
		h.RemoveAttributes()
		if len(id) > 0 {
			ids.Put(id)
			h.SetAttribute(attrID, id)
		}
		if len(class) > 0 {
			h.SetAttribute(attrClass, class)
		}
	}
	for _, h := range headings {
		if _, ok := h.Attribute(attrID); !ok {
			h.SetAttribute(attrID, ids.Generate([]byte(headingText(h, src)), ast.KindHeading))
		}
	}
}

// attrBytes returns a textual attribute value; numbers, booleans and lists
// ({id=5}) give nil.
func attrBytes(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}

// headingText is the text a reader sees in a heading: link text without
// its URL, code without backticks, typographic quotes as characters. Images
// and footnote references are left out, as they are from the text of the
// HTML element.
func headingText(h *ast.Heading, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(h, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Text:
			if _, inCode := n.Parent().(*ast.CodeSpan); inCode {
				b.Write(n.Value(src))
			} else {
				b.WriteString(html.UnescapeString(string(n.Value(src))))
			}
			if n.SoftLineBreak() || n.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			if n.IsCode() { // typographer output, such as &ldquo;
				b.WriteString(html.UnescapeString(string(n.Value)))
			} else {
				b.Write(n.Value)
			}
		case *ast.AutoLink:
			b.Write(n.Label(src))
		case *ast.Image, *ast.RawHTML, *extast.FootnoteLink:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}
