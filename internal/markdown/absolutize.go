package markdown

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	xhtml "golang.org/x/net/html"
)

// Absolutize resolves the relative URLs in an HTML fragment against base,
// the absolute URL of the page the fragment belongs to, such as
// https://blog.example/2019/11/01/velocity/. Feeds need this: a feed reader
// shows a post away from its page, where ./photo.jpg or #fn:1 would lead
// nowhere.
//
// It rewrites href, src, poster and every candidate of srcset, on any
// element. A fragment-only reference (#fn:1) becomes base with that
// fragment. Absolute URLs (https:, mailto:, data: ...), empty values and
// values that are not URLs are left as they are, and so is the rest of the
// fragment, byte for byte: only a start tag with a rewritten URL is
// serialized anew.
func Absolutize(fragment string, base *url.URL) (string, error) {
	if base == nil {
		return "", errors.New("absolutize: no base URL")
	}
	if !base.IsAbs() || base.Host == "" {
		return "", fmt.Errorf("absolutize: base %q is not an absolute URL", base)
	}
	r := resolver{base: base}
	page := *base
	page.Fragment, page.RawFragment = "", ""
	r.page = page.String()

	z := xhtml.NewTokenizer(strings.NewReader(fragment))
	var out bytes.Buffer
	out.Grow(len(fragment) + len(fragment)/8)
	for {
		tt := z.Next()
		// Raw first: reading the tag lower-cases it in place.
		mark := out.Len()
		out.Write(z.Raw())
		switch tt {
		case xhtml.ErrorToken:
			if err := z.Err(); !errors.Is(err, io.EOF) {
				return "", fmt.Errorf("absolutize: %w", err)
			}
			return out.String(), nil
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
		default:
			continue
		}
		tok := z.Token()
		changed := false
		for i := range tok.Attr {
			a := &tok.Attr[i]
			var v string
			var ok bool
			switch a.Key {
			case "href", "src", "poster":
				v, ok = r.resolve(a.Val)
			case "srcset":
				v, ok = r.resolveSrcset(a.Val)
			}
			if ok {
				a.Val, changed = v, true
			}
		}
		if changed {
			out.Truncate(mark)
			out.WriteString(tok.String())
		}
	}
}

type resolver struct {
	base *url.URL
	page string // base without its fragment
}

// resolve returns ref resolved against the base and true, or ref and false
// when it is absolute, empty or malformed.
func (r resolver) resolve(ref string) (string, bool) {
	s := strings.Trim(ref, "\t\n\f\r ") // as browsers do
	if s == "" {
		return ref, false
	}
	if s[0] == '#' {
		// Keep the fragment as written: url.URL.String would
		// percent-encode an id like #über-die-konferenz.
		return r.page + s, true
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" {
		return ref, false
	}
	return r.base.ResolveReference(u).String(), true
}

// resolveSrcset resolves each image candidate URL of a srcset attribute,
// keeping the descriptors and separators as they are. It follows the HTML
// parsing rules: candidates are split at commas, but a comma inside a URL
// (data:image/png;base64,...) does not split it.
func (r resolver) resolveSrcset(v string) (string, bool) {
	var b strings.Builder
	changed := false
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && (isHTMLSpace(v[j]) || v[j] == ',') {
			j++
		}
		b.WriteString(v[i:j])
		if i = j; i == len(v) {
			break
		}
		for j < len(v) && !isHTMLSpace(v[j]) {
			j++
		}
		candidate := v[i:j]
		u := strings.TrimRight(candidate, ",") // trailing commas end the candidate
		resolved, ok := r.resolve(u)
		changed = changed || ok
		b.WriteString(resolved)
		b.WriteString(candidate[len(u):])
		if i = j; len(u) < len(candidate) {
			continue
		}
		// Descriptors ("2x", "640w") run to the next comma outside
		// parentheses.
		depth := 0
	descriptors:
		for ; j < len(v); j++ {
			switch v[j] {
			case '(':
				depth++
			case ')':
				depth = max(depth-1, 0)
			case ',':
				if depth == 0 {
					break descriptors
				}
			}
		}
		b.WriteString(v[i:j])
		i = j
	}
	return b.String(), changed
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}
