// Package markdown renders the body of a post, Markdown without front matter,
// to HTML the way Hugo does with its default goldmark configuration: GitHub
// Flavored Markdown, footnotes, definition lists, typographic quotes and
// dashes, GitHub-style heading ids and fenced code highlighted by chroma with
// CSS classes (see SyntaxCSS). It also derives what list pages and feeds
// need: a summary, whether the summary is shorter than the post, and a word
// count; and Absolutize rewrites the links of a fragment for feed readers.
//
// Raw HTML in the source is omitted by default. WithUnsafeHTML lets it
// through and then sanitizes the whole output with bluemonday, so the result
// is safe to serve either way.
//
// The package does not read front matter, pick templates or know a post's
// URL; those belong to the callers (packages frontmatter and post). It
// returns errors and logs nothing.
package markdown

import (
	"bytes"
	"fmt"
	"strings"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// DefaultSummaryWords is the length, in words, of a summary cut from the
// text of a post that has no summary divider. It is Hugo's default.
const DefaultSummaryWords = 70

// Renderer turns Markdown into HTML. Build it once with New and share it: it
// is safe for concurrent use, and each call to Render has its own heading
// ids and footnote numbers.
type Renderer struct {
	md           goldmark.Markdown
	policy       *bluemonday.Policy // nil when raw HTML is omitted
	summaryWords int
}

// Option configures a Renderer.
type Option func(*config)

type config struct {
	unsafeHTML   bool
	summaryWords int
}

// WithUnsafeHTML lets raw HTML in the Markdown through to the output. The
// whole output is then sanitized with bluemonday's UGC policy, extended so
// that highlighting classes, heading ids, task list checkboxes and table
// alignment survive; <script>, <iframe>, event handler attributes and
// javascript: URLs are removed. With allow false, the default, raw HTML is
// replaced by the comment <!-- raw HTML omitted --> and nothing needs
// sanitizing.
func WithUnsafeHTML(allow bool) Option {
	return func(c *config) { c.unsafeHTML = allow }
}

// WithSummaryWords sets how many words a summary cut from the text may have
// (DefaultSummaryWords unless set). Values below 1 are ignored.
func WithSummaryWords(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.summaryWords = n
		}
	}
}

// New returns a Renderer configured like Hugo's defaults, changed by opts.
func New(opts ...Option) *Renderer {
	cfg := config{summaryWords: DefaultSummaryWords}
	for _, opt := range opts {
		opt(&cfg)
	}

	rendererOpts := []renderer.Option{
		renderer.WithNodeRenderers(util.Prioritized(dividerRenderer{}, 100)),
	}
	if cfg.unsafeHTML {
		rendererOpts = append(rendererOpts, html.WithUnsafe())
	}
	md := goldmark.New(
		goldmark.WithExtensions(
			extension.GFM, // tables, strikethrough, linkify, task lists
			extension.Footnote,
			extension.DefinitionList,
			extension.Typographer,
			highlighting.NewHighlighting(
				highlighting.WithStyle(lightStyle),
				highlighting.WithFormatOptions(chromahtml.WithClasses(true)),
				highlighting.WithWrapperRenderer(wrapCodeBlock),
			),
		),
		goldmark.WithParserOptions(
			// Heading ids are not left to parser.WithAutoHeadingID: it
			// builds them from the Markdown source of the heading, link
			// URLs included, and it panics on a numeric {id=5}.
			// postTransformer assigns them from the heading's text.
			parser.WithHeadingAttribute(),
			parser.WithASTTransformers(util.Prioritized(postTransformer{}, 1000)),
		),
		goldmark.WithRendererOptions(rendererOpts...),
	)

	r := &Renderer{md: md, summaryWords: cfg.summaryWords}
	if cfg.unsafeHTML {
		r.policy = newPolicy()
	}
	return r
}

// Result is a rendered post.
type Result struct {
	// HTML is the body of the post.
	HTML string
	// Summary is HTML for list pages and feeds: the part of the body before
	// the summary divider, or else the first words of its text, footnotes
	// left out, as a single paragraph without markup (see
	// WithSummaryWords). It is empty when there is no text to show.
	Summary string
	// Truncated reports whether the body holds more than Summary, that is,
	// whether a reader should be offered a "Read more" link.
	Truncated bool
	// Words is the number of words in the text of the body, footnotes
	// included, for estimating reading time. Each Chinese or Japanese
	// ideograph or kana counts as a word.
	Words int
}

// Render converts the body of a post to HTML and derives its summary.
//
// The summary divider is a line holding only <!--more--> (spaces inside the
// comment and upper case are allowed) at the top level of the document, not
// inside a list, quote or code block. The first one splits the summary from
// the rest and is removed from the output, as are any others.
//
// Render does not panic on any input; an error means a bug in this package
// or in one of its libraries.
func (r *Renderer) Render(src []byte) (Result, error) {
	if err := checkComplexity(src); err != nil {
		return Result{}, err
	}
	body, divider, err := r.convert(src)
	if err != nil {
		return Result{}, err
	}
	res := Result{HTML: r.sanitize(body)}
	text := plainText(res.HTML)
	res.Words = countWords(text.all)
	if divider >= 0 {
		res.Summary = strings.TrimSpace(r.sanitize(body[:divider]))
		res.Truncated = strings.TrimSpace(body[divider:]) != ""
	} else {
		res.Summary, res.Truncated = summarize(text.body, r.summaryWords)
	}
	return res, nil
}

// RenderSummary converts a summary written by hand, such as the summary
// field of a post's front matter, to HTML with the same rules and safety as
// Render. A summary is usually a sentence or two, which come back as one
// paragraph.
func (r *Renderer) RenderSummary(md string) (string, error) {
	out, _, err := r.convert([]byte(md))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(r.sanitize(out)), nil
}

// convert parses and renders src. divider is the offset in out of the first
// summary divider, or -1.
func (r *Renderer) convert(src []byte) (out string, divider int, err error) {
	// goldmark and chroma are large; should either panic on some input,
	// report it for this post rather than take down the whole batch.
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("render markdown: internal error: %v", v)
		}
	}()

	ctx := parser.NewContext(parser.WithIDs(newHeadingIDs()))
	doc := r.md.Parser().Parse(text.NewReader(src), parser.WithContext(ctx))

	var buf outputBuffer
	buf.Grow(len(src) + len(src)/2)
	if err := r.md.Renderer().Render(&buf, src, doc); err != nil {
		return "", -1, fmt.Errorf("render markdown: %w", err)
	}
	return buf.String(), firstDividerOffset(doc), nil
}

// sanitize applies the bluemonday policy when raw HTML is allowed.
func (r *Renderer) sanitize(s string) string {
	if r.policy == nil {
		return s
	}
	return r.policy.Sanitize(s)
}

// outputBuffer is a bytes.Buffer that goldmark writes to directly, without
// a bufio.Writer in between, so that a node renderer can learn the offset
// it is writing at (see dividerRenderer).
type outputBuffer struct {
	bytes.Buffer
}

// Buffered implements util.BufWriter; nothing is ever held back.
func (*outputBuffer) Buffered() int { return 0 }

// Flush implements util.BufWriter.
func (*outputBuffer) Flush() error { return nil }

var _ util.BufWriter = (*outputBuffer)(nil)

// postTransformer adjusts the parsed document before rendering: heading ids
// and attributes, https for www. autolinks, code blocks in languages chroma
// does not know, and summary dividers.
type postTransformer struct{}

// Transform implements parser.ASTTransformer.
func (postTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	src := reader.Source()
	markDividers(doc, src)

	var headings []*ast.Heading
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			headings = append(headings, n)
		case *ast.FencedCodeBlock:
			skipUnknownLanguage(n, src)
		case *ast.AutoLink:
			// Linkify turns www.example.com into an http:// link; like
			// Hugo (linkifyProtocol), prefer https.
			if string(n.Protocol) == "http" {
				n.Protocol = []byte("https")
			}
		}
		return ast.WalkContinue, nil
	})
	assignHeadingIDs(headings, src, pc.IDs())
}
