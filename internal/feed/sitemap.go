package feed

import (
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/feeds"
)

const sitemapNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

// Limits from the sitemaps.org protocol; each applies to a sitemap and to
// a sitemap index alike.
const (
	// MaxSitemapURLs is the most URLs one sitemap (or sitemaps one index)
	// may list; callers with more split them and list the parts in an
	// index.
	MaxSitemapURLs = 50_000
	// MaxSitemapBytes is the largest a sitemap may be, uncompressed.
	MaxSitemapBytes = 50 << 20
	// maxLocLen: a loc must be shorter than 2,048 characters.
	maxLocLen = 2048
)

// SitemapURL is one <url> of a sitemap or one <sitemap> of a sitemap index.
type SitemapURL struct {
	Loc     string    // absolute http or https URL, fewer than 2,048 characters
	LastMod time.Time // zero: omit <lastmod>
}

type urlSet struct {
	XMLName xml.Name     `xml:"urlset"`
	Xmlns   string       `xml:"xmlns,attr"`
	URLs    []sitemapLoc `xml:"url"`
}

// FeedXml makes urlSet a feeds.XmlFeed, so it shares the feeds' writer.
func (s *urlSet) FeedXml() any { return s }

type sitemapIndex struct {
	XMLName  xml.Name     `xml:"sitemapindex"`
	Xmlns    string       `xml:"xmlns,attr"`
	Sitemaps []sitemapLoc `xml:"sitemap"`
}

// FeedXml makes sitemapIndex a feeds.XmlFeed, so it shares the feeds' writer.
func (s *sitemapIndex) FeedXml() any { return s }

type sitemapLoc struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// Sitemap renders urls as a sitemaps.org <urlset>, sorted by Loc so the
// output does not depend on the order pages were found in. LastMod is
// written as a W3C date-time in UTC, to the second. It is an error to
// pass no URLs, more than [MaxSitemapURLs], the same Loc twice, or a Loc
// that is not an absolute http(s) URL, and an error if the result would
// exceed [MaxSitemapBytes].
func Sitemap(urls []SitemapURL) ([]byte, error) {
	locs, err := sitemapLocs(urls)
	if err != nil {
		return nil, fmt.Errorf("render sitemap: %w", err)
	}
	return writeSitemap(&urlSet{Xmlns: sitemapNS, URLs: locs})
}

// SitemapIndex renders sitemaps as a sitemaps.org <sitemapindex>, with the
// same ordering, formatting and limits as [Sitemap].
func SitemapIndex(sitemaps []SitemapURL) ([]byte, error) {
	locs, err := sitemapLocs(sitemaps)
	if err != nil {
		return nil, fmt.Errorf("render sitemap index: %w", err)
	}
	return writeSitemap(&sitemapIndex{Xmlns: sitemapNS, Sitemaps: locs})
}

func sitemapLocs(urls []SitemapURL) ([]sitemapLoc, error) {
	switch {
	case len(urls) == 0:
		return nil, errors.New("no urls")
	case len(urls) > MaxSitemapURLs:
		return nil, fmt.Errorf("%d urls, more than the %d allowed", len(urls), MaxSitemapURLs)
	}
	locs := make([]sitemapLoc, len(urls))
	for i, u := range urls {
		if !isAbsoluteURL(u.Loc) || len(u.Loc) >= maxLocLen {
			return nil, fmt.Errorf("loc %q is not an absolute url shorter than %d bytes", u.Loc, maxLocLen)
		}
		if !inRFC3339Range(u.LastMod) {
			return nil, fmt.Errorf("loc %q: lastmod %v is outside years 0000-9999", u.Loc, u.LastMod)
		}
		locs[i] = sitemapLoc{Loc: u.Loc, LastMod: timestamp(u.LastMod)}
	}
	slices.SortFunc(locs, func(a, b sitemapLoc) int { return strings.Compare(a.Loc, b.Loc) })
	for i := 1; i < len(locs); i++ {
		if locs[i].Loc == locs[i-1].Loc {
			return nil, fmt.Errorf("duplicate loc %q", locs[i].Loc)
		}
	}
	return locs, nil
}

func writeSitemap(doc feeds.XmlFeed) ([]byte, error) {
	out, err := writeXML(doc, 256)
	if err != nil {
		return nil, err
	}
	if len(out) > MaxSitemapBytes {
		return nil, fmt.Errorf("sitemap is %d bytes, more than the %d allowed", len(out), MaxSitemapBytes)
	}
	return out, nil
}
