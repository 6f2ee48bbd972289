package markdown

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
)

// The chroma styles behind SyntaxCSS.
const (
	lightStyle = "github"
	darkStyle  = "github-dark"
)

// SyntaxCSS returns the stylesheet for the classes that highlighted code
// blocks carry: chroma's "github" style, and "github-dark" for readers whose
// system prefers a dark colour scheme. The bytes are the same on every call
// and every run; the caller owns the returned slice.
func SyntaxCSS() []byte {
	return bytes.Clone(syntaxCSS())
}

var syntaxCSS = sync.OnceValue(func() []byte {
	light, dark := styles.Get(lightStyle), styles.Get(darkStyle)
	f := chromahtml.New(chromahtml.WithClasses(true))

	var b bytes.Buffer
	fmt.Fprintf(&b, "/* Syntax highlighting: chroma style %q, and %q in dark mode. */\n", lightStyle, darkStyle)
	_ = f.WriteCSS(&b, light) // a bytes.Buffer does not fail
	b.WriteString("@media (prefers-color-scheme: dark) {\n")
	writeResets(&b, light)
	_ = f.WriteCSS(&b, dark)
	b.WriteString("}\n")
	return b.Bytes()
})

// writeResets undoes, for each token class, what the light style sets. The
// dark rules that follow set only what the dark style specifies, so without
// the resets a keyword the light style makes #000 and bold, but the dark
// style leaves alone, would stay black on the dark background.
func writeResets(b *bytes.Buffer, light *chroma.Style) {
	bg := light.Get(chroma.Background)
	types := make([]chroma.TokenType, 0, len(chroma.StandardTypes))
	for t := range chroma.StandardTypes {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		class := chroma.StandardTypes[t]
		if t == chroma.Background || t == chroma.PreWrapper || class == "" {
			continue // .bg and .chroma: the dark style sets both colours
		}
		e := light.Get(t).Sub(bg)
		var decls []string
		if e.Colour.IsSet() {
			decls = append(decls, "color: inherit")
		}
		if e.Background.IsSet() {
			decls = append(decls, "background-color: transparent")
		}
		if e.Bold == chroma.Yes {
			decls = append(decls, "font-weight: normal")
		}
		if e.Italic == chroma.Yes {
			decls = append(decls, "font-style: normal")
		}
		if e.Underline == chroma.Yes {
			decls = append(decls, "text-decoration: none")
		}
		if len(decls) > 0 {
			fmt.Fprintf(b, ".chroma .%s { %s }\n", class, strings.Join(decls, "; "))
		}
	}
}
