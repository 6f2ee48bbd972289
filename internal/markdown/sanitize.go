package markdown

import (
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// newPolicy returns the sanitizer for output rendered with raw HTML
// allowed: bluemonday's policy for user-generated content, widened just
// enough for what the Markdown renderer itself produces.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()

	// The links are the author's own, not a commenter's. Without this,
	// allowing raw HTML would also add rel="nofollow" to every link.
	p.RequireNoFollowOnLinks(false)

	// Highlighted code, its Hugo wrapper and the footnotes section.
	p.AllowAttrs("class").OnElements("code", "span", "pre", "div")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^footnote-(ref|backref)$`)).OnElements("a")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^doc-(noteref|backlink|endnotes)$`)).OnElements("a", "div")
	// Heading ids may hold any letter ("日本語の見出し"); UGCPolicy's
	// global id pattern would drop those.
	p.AllowAttrs("id").OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	// Task lists.
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^$`)).OnElements("input")
	// Keyboard keys, common in technical posts, and the data: images
	// that goldmark lets through when raw HTML is off.
	p.AllowElements("kbd")
	p.AllowDataURIImages()
	// Table column alignment.
	p.AllowStyles("text-align").MatchingEnum("left", "center", "right").OnElements("th", "td")

	// bluemonday drops <script> and <style> with their content, but only the
	// tags of other elements; an iframe's fallback text goes too. Not
	// "embed": it is a void element, so skipping its content would skip
	// the rest of the post.
	p.SkipElementsContent("iframe", "object", "noscript")
	return p
}
