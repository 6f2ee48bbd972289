package markdown

import (
	"sync"

	"github.com/alecthomas/chroma/v2/lexers"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// attrUnknownLanguage carries, from skipUnknownLanguage to wrapCodeBlock,
// the language of a code block that is not highlighted. It is never
// rendered as an attribute.
var attrUnknownLanguage = []byte("postmill-unknown-language")

// skipUnknownLanguage keeps the highlighting extension from looking up a
// language chroma does not know. chroma's lexers.Get, finding no name or
// alias, matches the name against the file name patterns of every lexer,
// which takes milliseconds, on every code block. Here the answer is
// remembered. The block loses its info string, so it is not highlighted;
// its language moves to an attribute for wrapCodeBlock.
func skipUnknownLanguage(n *ast.FencedCodeBlock, src []byte) {
	lang := n.Language(src)
	if lang == nil || knownLanguage(string(lang)) {
		return
	}
	n.SetAttribute(attrUnknownLanguage, lang)
	n.Info = nil
}

// languages remembers whether chroma has a lexer for a language name.
var languages struct {
	sync.Mutex
	known map[string]bool
}

// maxLanguages bounds the memory that odd info strings can take.
const maxLanguages = 1000

func knownLanguage(name string) bool {
	languages.Lock()
	known, ok := languages.known[name]
	languages.Unlock()
	if ok {
		return known
	}
	known = lexers.Get(name) != nil
	languages.Lock()
	defer languages.Unlock()
	if languages.known == nil {
		languages.known = map[string]bool{}
	}
	if len(languages.known) < maxLanguages {
		languages.known[name] = known
	}
	return known
}

// wrapCodeBlock writes the elements around a fenced code block. Highlighted
// blocks get Hugo's <div class="highlight"> so that theme CSS written for
// Hugo applies; the rest are plain <pre><code>, with a language-* class
// when the info string named a language chroma does not know.
func wrapCodeBlock(w util.BufWriter, ctx highlighting.CodeBlockContext, entering bool) {
	switch {
	case ctx.Highlighted() && entering:
		_, _ = w.WriteString(`<div class="highlight">`)
	case ctx.Highlighted():
		_, _ = w.WriteString("</div>\n")
	case entering:
		_, _ = w.WriteString("<pre><code")
		lang, ok := ctx.Language()
		if !ok && ctx.Attributes() != nil {
			if v, found := ctx.Attributes().Get(attrUnknownLanguage); found {
				lang, ok = v.([]byte)
			}
		}
		if ok {
			_, _ = w.WriteString(` class="language-`)
			_, _ = w.Write(util.EscapeHTML(lang))
			_ = w.WriteByte('"')
		}
		_ = w.WriteByte('>')
	default:
		_, _ = w.WriteString("</code></pre>\n")
	}
}
