// Package feed renders a postmill site's syndication documents: Atom 1.0
// feeds (RFC 4287), JSON Feed 1.1 feeds and XML sitemaps and sitemap
// indexes (sitemaps.org 0.9).
//
// The caller maps its posts into [Feed] and [Entry] values; this package
// owns the rules every reader relies on: stable ids ([TagURI]), entries
// sorted the same way on every run, an updated time derived from the
// entries rather than the clock, and text that stays well formed whatever
// bytes a post contains. The same input always gives the same bytes, so an
// unchanged feed is never re-uploaded and readers never see old posts as
// new.
//
// It is not for choosing which posts go into a feed (grouping by tag,
// drafts, future posts), rendering Markdown, rewriting relative URLs in
// content, compressing or uploading the output, RSS, or reading feeds.
package feed
