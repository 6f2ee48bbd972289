package markdown

import (
	"bytes"
	"html"
	"iter"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The summary divider is found in the parsed document rather than by
// searching the source, so that a <!--more--> shown inside a code block or
// a list does not cut the post.

var dividerPattern = regexp.MustCompile(`(?i)^<!--\s*more\s*-->$`)

// kindDivider is the NodeKind of dividerNode.
var kindDivider = ast.NewNodeKind("SummaryDivider")

// dividerNode stands in the document for a summary divider. It renders as
// nothing and records where in the output it was met.
type dividerNode struct {
	ast.BaseBlock
	offset int // -1 until rendered
}

// Kind implements ast.Node.
func (n *dividerNode) Kind() ast.NodeKind { return kindDivider }

// Dump implements ast.Node.
func (n *dividerNode) Dump(src []byte, level int) { ast.DumpHelper(n, src, level, nil, nil) }

// markDividers replaces each top-level HTML block that is a summary divider
// with a dividerNode.
func markDividers(doc *ast.Document, src []byte) {
	for c := doc.FirstChild(); c != nil; {
		next := c.NextSibling()
		if b, ok := c.(*ast.HTMLBlock); ok && isDivider(b, src) {
			d := &dividerNode{offset: -1}
			d.SetBlankPreviousLines(c.HasBlankPreviousLines())
			doc.ReplaceChild(doc, c, d)
		}
		c = next
	}
}

func isDivider(b *ast.HTMLBlock, src []byte) bool {
	if b.HTMLBlockType != ast.HTMLBlockType2 || b.Lines().Len() != 1 || b.HasClosure() {
		return false
	}
	line := b.Lines().At(0)
	return dividerPattern.Match(bytes.TrimSpace(line.Value(src)))
}

// firstDividerOffset returns the output offset of the first divider in doc,
// or -1.
func firstDividerOffset(doc ast.Node) int {
	for c := doc.FirstChild(); c != nil; c = c.NextSibling() {
		if d, ok := c.(*dividerNode); ok {
			return d.offset
		}
	}
	return -1
}

// dividerRenderer renders dividerNodes.
type dividerRenderer struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (dividerRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindDivider, renderDivider)
}

func renderDivider(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	d, ok := n.(*dividerNode)
	if !ok || !entering {
		return ast.WalkContinue, nil
	}
	if b, ok := w.(*outputBuffer); ok {
		d.offset = b.Len()
	}
	return ast.WalkContinue, nil
}

// postText is the text of a rendered post, words separated by single spaces.
type postText struct {
	all  string // everything a reader reads
	body string // all but the footnotes
}

// inlineElements do not separate words: "foo<em>bar</em>" is one word.
var inlineElements = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.B: true, atom.Bdi: true, atom.Bdo: true,
	atom.Cite: true, atom.Code: true, atom.Data: true, atom.Del: true, atom.Dfn: true,
	atom.Em: true, atom.I: true, atom.Ins: true, atom.Kbd: true, atom.Mark: true,
	atom.Q: true, atom.S: true, atom.Samp: true, atom.Small: true, atom.Span: true,
	atom.Strike: true, atom.Strong: true, atom.Sub: true, atom.Sup: true,
	atom.Time: true, atom.U: true, atom.Var: true,
}

// plainText extracts the text of rendered HTML, leaving out what is not
// prose: footnote reference numbers and back links, the contents of
// <script> and <style>, and comments.
func plainText(s string) postText {
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var w textWriter
	w.b.Grow(len(s) / 2)
	footnotes := -1 // offset in w where the footnotes start
	var skip []byte // name of the element whose content is skipped
	depth := 0      // of nested skip elements
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			all := w.b.String()
			if footnotes < 0 {
				return postText{all: all, body: all}
			}
			return postText{all: all, body: all[:footnotes]}
		case xhtml.TextToken:
			if skip == nil {
				w.write(z.Text())
			}
			continue
		case xhtml.StartTagToken, xhtml.EndTagToken, xhtml.SelfClosingTagToken:
		default:
			continue
		}
		name, hasAttr := z.TagName()
		if skip != nil {
			if bytes.Equal(name, skip) {
				switch tt {
				case xhtml.StartTagToken:
					depth++
				case xhtml.EndTagToken:
					depth--
				}
				if depth == 0 {
					skip = nil
				}
			}
			continue
		}
		tag := atom.Lookup(name)
		if tt == xhtml.StartTagToken && skipContent(z, tag, hasAttr, &footnotes, w.b.Len()) {
			skip, depth = bytes.Clone(name), 1
			continue
		}
		if !inlineElements[tag] {
			w.space = true
		}
	}
}

// textWriter collapses each run of white space to a single space and drops
// it at the start and the end.
type textWriter struct {
	b     strings.Builder
	space bool // white space seen since the last character written
}

func (w *textWriter) write(p []byte) {
	for i := 0; i < len(p); {
		r, size := rune(p[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(p[i:])
		}
		if unicode.IsSpace(r) {
			w.space = true
		} else {
			if w.space && w.b.Len() > 0 {
				w.b.WriteByte(' ')
			}
			w.space = false
			w.b.Write(p[i : i+size])
		}
		i += size
	}
}

// skipContent reports whether the text inside the start tag the tokenizer
// is on should be left out. Meeting the footnotes section, it records
// where the footnotes begin.
func skipContent(z *xhtml.Tokenizer, tag atom.Atom, hasAttr bool, footnotes *int, at int) bool {
	switch tag {
	case atom.Script, atom.Style, atom.Template:
		return true
	case atom.Sup, atom.A, atom.Div:
	default:
		return false
	}
	for hasAttr {
		var key, val []byte
		key, val, hasAttr = z.TagAttr()
		switch {
		case tag == atom.Sup && string(key) == "id" && bytes.HasPrefix(val, []byte("fnref")):
			return true // the number of a footnote reference
		case tag == atom.A && string(key) == "href" && bytes.HasPrefix(val, []byte("#fnref")):
			return true // the arrow back from a footnote
		case tag == atom.Div && string(key) == "class" && string(val) == "footnotes" && *footnotes < 0:
			*footnotes = at
		}
	}
	return false
}

// words yields the byte span of each word in text. Words are separated by
// white space, except that each Chinese character and kana is a word of its
// own, as those languages do not put spaces between words. A run of
// punctuation alone ("—") is not a word; punctuation after a word belongs
// to it.
func words(text string) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		start, end := -1, -1
		counted, ideograph := false, false
		// flush ends the current run, yielding it if it is a word.
		flush := func() bool {
			ok := true
			if start >= 0 && counted {
				ok = yield(start, end)
			}
			start, counted = -1, false
			return ok
		}
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRuneInString(text[i:])
			switch {
			case unicode.IsSpace(r):
				if !flush() {
					return
				}
			case isIdeographic(r):
				if !flush() {
					return
				}
				start, end, counted, ideograph = i, i+size, true, true
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				if start >= 0 && ideograph {
					if !flush() {
						return
					}
				}
				if start < 0 {
					start, ideograph = i, false
				}
				end, counted = i+size, true
			default:
				if start < 0 {
					start, ideograph = i, false
				}
				end = i + size
			}
			i += size
		}
		flush()
	}
}

func isIdeographic(r rune) bool {
	return r >= 0x2E80 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

func countWords(text string) int {
	n := 0
	for range words(text) {
		n++
	}
	return n
}

// summarize cuts a summary of at most n words from text and returns it as
// a paragraph, with whether anything was cut. It ends the summary at the
// last sentence end within those n words, unless that would leave less than
// half of them; then it cuts after the nth word and adds an ellipsis.
// maxSummaryBytes bounds a word-count summary, whatever its words.
const maxSummaryBytes = 2048

func summarize(text string, n int) (summary string, truncated bool) {
	if text == "" {
		return "", false
	}
	count, cut := 0, 0
	sentenceWords, sentenceCut := 0, 0
	for start, end := range words(text) {
		count++
		if count > n {
			truncated = true
			break
		}
		cut = end
		if endsSentence(text[start:end]) {
			sentenceWords, sentenceCut = count, end
		}
	}
	if !truncated && len(text) <= maxSummaryBytes {
		return "<p>" + html.EscapeString(text) + "</p>", false
	}
	if cut > maxSummaryBytes {
		// A few enormous "words" (no spaces) must not make a summary
		// as large as the post: cut at a character boundary.
		cut = maxSummaryBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		sentenceWords = 0
		truncated = true
	}
	if 2*sentenceWords >= n {
		summary = text[:sentenceCut]
	} else {
		summary = strings.TrimRight(text[:cut], ",;:-–—") + "…"
	}
	return "<p>" + html.EscapeString(summary) + "</p>", true
}

// endsSentence reports whether a word ends with a full stop, question or
// exclamation mark, possibly inside closing quotes or brackets.
func endsSentence(word string) bool {
	word = strings.TrimRight(word, `"')]*_”’»」』）`)
	r, _ := utf8.DecodeLastRuneInString(word)
	return strings.ContainsRune(".!?…。！？", r)
}
