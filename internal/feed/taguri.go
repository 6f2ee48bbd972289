package feed

import (
	"strings"
	"time"
)

// TagURI returns the RFC 4151 tag URI
//
//	"tag:" authority "," YYYY-MM-DD ":" specific
//
// which makes a good Atom id: it names who minted it and when, not where
// the post lives, so it stays valid if the site later moves. It changes
// only when the arguments do, so derive them from what is fixed once a
// post is published (the first publication date, the original slug).
//
// authority is a domain name or an email address the site controlled on
// date; date is reckoned in UTC, as the RFC requires. specific is raw text
// such as a post's path: every byte other than ASCII letters, digits and
// "/:.-_~" is percent-encoded (UTF-8 bytes, upper-case hex), so the result
// is always a valid URI and IRI. Pass specific unescaped: a "%" is itself
// encoded. Bytes of authority other than letters, digits and "-._@" are
// encoded the same way.
func TagURI(authority string, date time.Time, specific string) string {
	var b strings.Builder
	b.Grow(len("tag:,2006-01-02:") + len(authority) + len(specific))
	b.WriteString("tag:")
	escapeTo(&b, authority, "-._@")
	b.WriteByte(',')
	b.WriteString(date.UTC().Format(time.DateOnly))
	b.WriteByte(':')
	escapeTo(&b, specific, "/:.-_~")
	return b.String()
}

// escapeTo writes s to b, percent-encoding every byte that is not an
// ASCII letter or digit or in keep.
func escapeTo(b *strings.Builder, s, keep string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			(c < 0x80 && strings.IndexByte(keep, c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xF])
	}
}
