package markdown

import (
	"bytes"
	"fmt"
)

// MaxMarkersPerParagraph bounds the emphasis and link markers ('*', '_',
// '[', ']') in one paragraph. goldmark's delimiter processing grows with
// the cube of unmatched markers (48 KiB of "*a_" takes seconds), so a
// hostile paragraph could keep a function busy until its timeout on every
// delivery; real prose stays far below this.
const MaxMarkersPerParagraph = 4096

// ComplexityError says which paragraph is too costly to render, by the
// 1-based line where it starts within the rendered source.
type ComplexityError struct {
	Line    int
	Markers int
}

func (e *ComplexityError) Error() string {
	return fmt.Sprintf("a paragraph with %d emphasis or link markers (*, _, [, ]); at most %d are allowed in one paragraph", e.Markers, MaxMarkersPerParagraph)
}

// checkComplexity rejects sources whose rendering time would explode.
// Paragraphs are runs of lines between blank lines, outside fenced code.
func checkComplexity(src []byte) error {
	line, start, markers := 0, 1, 0
	fence := []byte(nil)
	for len(src) > 0 {
		line++
		l := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			l, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		t := bytes.TrimLeft(l, " \t")
		switch {
		case fence != nil:
			if bytes.HasPrefix(t, fence) {
				fence = nil
			}
			continue
		case bytes.HasPrefix(t, []byte("```")), bytes.HasPrefix(t, []byte("~~~")):
			fence = t[:3]
			markers = 0
			continue
		case len(bytes.TrimSpace(l)) == 0:
			markers, start = 0, line+1
			continue
		}
		for _, c := range l {
			if c == '*' || c == '_' || c == '[' || c == ']' {
				markers++
			}
		}
		if markers > MaxMarkersPerParagraph {
			return &ComplexityError{Line: start, Markers: markers}
		}
	}
	return nil
}
