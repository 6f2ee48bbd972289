package theme

import (
	"html/template"
	"time"
)

// Link is a titled hyperlink. URL may be a site-absolute path ("/tags/")
// or an absolute URL; it is escaped and filtered like every other URL, so a
// javascript: link comes out as "#ZgotmplZ".
type Link struct {
	Title string
	URL   string
}

// Site is what every page of the site shares.
type Site struct {
	Title       string
	Description string // default meta description
	Language    string // BCP 47 tag for <html lang>, e.g. "en"; "en" when empty
	BaseURL     string // absolute, with a trailing slash: "https://blog.example/"
	Author      string

	// StylesheetURL is where the caller serves Stylesheet (plus any
	// syntax-highlighting rules), e.g. "/css/site.3f2a9c1e.css". It must
	// be site-absolute or absolute: the 404 page is served at any path.
	StylesheetURL string

	FeedURL     string // the site's Atom feed (absolute)
	JSONFeedURL string // the site's JSON Feed (absolute); optional

	// Nav is the header navigation after the site title, in order,
	// e.g. Tags and About. The site title always links home.
	Nav []Link

	// Copyright is printed in the footer as given, e.g. "© 2019 Mara
	// Lindqvist". The theme reads no clock, so it never makes up a year.
	Copyright string
}

// Page is the <head> data every page needs. Fields left empty fall back
// to the page's content where that makes sense (a post's title, URL and
// description) and then to Site.
type Page struct {
	// Title is the page's own title; the theme appends " – " and
	// Site.Title. Leave it empty on the home page, whose <title> is the
	// site title alone.
	Title       string
	Description string
	Canonical   string // absolute URL

	// Feeds are the Atom discovery links. The site feed is added first
	// when it is missing, so callers list only extra ones, such as a tag
	// page's own feed.
	Feeds []Link

	// JSONFeeds are JSON Feed discovery links; the site's JSON Feed is
	// added first when Site.JSONFeedURL is set and it is missing.
	JSONFeeds []Link

	NoIndex bool // ask search engines not to index the page
}

// Tag is a tag with the URL of its page and, on the tags index, the number
// of posts that carry it.
type Tag struct {
	Name  string
	URL   string
	Count int
}

// PostSummary is one entry in a listing.
type PostSummary struct {
	Title     string
	URL       string
	Published time.Time // must be set
	// Summary is trusted HTML, already sanitized by the caller; it is
	// written unescaped.
	Summary        template.HTML
	Truncated      bool // the summary is not the whole post: link "Read more"
	Tags           []Tag
	ReadingMinutes int // 0 hides the reading time
}

// Post is a single post page.
type Post struct {
	Title       string
	Description string
	URL         string    // absolute canonical URL
	Published   time.Time // must be set
	Updated     time.Time // shown only when it falls on a later day than Published
	Author      string    // shown when set
	Tags        []Tag
	// Content is trusted HTML, already sanitized by the caller; it is
	// written unescaped.
	Content        template.HTML
	ReadingMinutes int   // 0 hides the reading time
	Prev           *Link // the next older post, if any
	Next           *Link // the next newer post, if any
}

// ArchiveMonth is one month in a listing's archive.
type ArchiveMonth struct {
	Label string // e.g. "November 2019"
	URL   string
	Count int // posts in that month; 0 leaves the count out
}

// ListPage is a listing of posts: the home page, a tag page or a month
// archive page. Entries are shown in the order given.
type ListPage struct {
	Heading string
	Intro   string // plain text under the heading; optional
	Entries []PostSummary

	// Newer and Older link neighbouring month archive pages; their titles
	// name the month, e.g. "October 2019".
	Newer *Link
	Older *Link

	Archive []ArchiveMonth // shown at the bottom when set
	// ArchiveAll links the whole archive when Archive shows only part.
	ArchiveAll *Link
	Feed       *Link // the listing's own feed, as a subscribe link
}

// TagsPage is the index of all tags, shown in the order given.
type TagsPage struct {
	Tags []Tag
}

// Redirect is an alias page that sends readers and crawlers to the post's
// current address.
type Redirect struct {
	// Target is where the page moved: an absolute http(s) URL, or a
	// path resolved against Site.BaseURL.
	Target string
}
