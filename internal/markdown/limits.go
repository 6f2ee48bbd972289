package markdown

import (
	"bytes"
	"fmt"
)

// MaxMarkersPerParagraph bounds the emphasis, link and code-span markers
// ('*', '_', '[', ']', '`') in one paragraph. goldmark's delimiter processing grows with
// the cube of unmatched markers (48 KiB of "*a_" takes seconds), so a
// hostile paragraph could keep a function busy until its timeout on every
// delivery; real prose stays far below this.
const MaxMarkersPerParagraph = 4096

// ComplexityError says which paragraph is too costly to render, by the
// 1-based line where it starts within the rendered source.
type ComplexityError struct {
	Line      int
	Markers   int
	Footnotes bool // too many footnote references in the document
}

func (e *ComplexityError) Error() string {
	if e.Footnotes {
		return fmt.Sprintf("%d footnote references; at most %d are allowed in one post", e.Markers, MaxFootnoteRefs)
	}
	return fmt.Sprintf("a paragraph with %d emphasis or link markers or backticks (*, _, [, ], `); at most %d are allowed in one paragraph", e.Markers, MaxMarkersPerParagraph)
}

// MaxFootnoteRefs bounds footnote references in a document: each adds a
// backlink to its note, so hostile repetition multiplies the page.
const MaxFootnoteRefs = 1000

// checkComplexity rejects sources whose rendering time would explode.
// Paragraphs are runs of lines between blank lines, outside fenced code;
// fences are recognised as CommonMark does (at most three spaces of
// indent, no backtick in a backtick fence's info string, closed by a run
// of the same character at least as long).
func checkComplexity(src []byte) error {
	if n := bytes.Count(src, []byte("[^")); n > MaxFootnoteRefs {
		return &ComplexityError{Line: 1, Markers: n, Footnotes: true}
	}
	line, start, markers := 0, 1, 0
	var fenceChar byte
	fenceLen := 0
	for len(src) > 0 {
		line++
		l := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			l, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		if c, n, info, ok := fence(l); ok {
			switch {
			case fenceLen == 0 && (c != '`' || !bytes.ContainsRune(info, '`')):
				fenceChar, fenceLen, markers = c, n, 0
				continue
			case fenceLen > 0 && c == fenceChar && n >= fenceLen && len(bytes.TrimSpace(info)) == 0:
				fenceLen = 0
				start = line + 1
				continue
			}
		}
		if fenceLen > 0 {
			continue
		}
		if len(bytes.TrimSpace(l)) == 0 {
			markers, start = 0, line+1
			continue
		}
		for _, c := range l {
			if c == '*' || c == '_' || c == '[' || c == ']' || c == '`' {
				markers++
			}
		}
		if markers > MaxMarkersPerParagraph {
			return &ComplexityError{Line: start, Markers: markers}
		}
	}
	return nil
}

// fence reports whether l opens or closes a fenced code block: at most
// three spaces, then three or more backticks or tildes.
func fence(l []byte) (c byte, n int, info []byte, ok bool) {
	indent := 0
	for indent < len(l) && l[indent] == ' ' {
		indent++
	}
	if indent > 3 || indent >= len(l) || (l[indent] != '`' && l[indent] != '~') {
		return 0, 0, nil, false
	}
	c = l[indent]
	for n = 0; indent+n < len(l) && l[indent+n] == c; n++ {
	}
	if n < 3 {
		return 0, 0, nil, false
	}
	return c, n, l[indent+n:], true
}
