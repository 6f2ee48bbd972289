// Package site holds a site's settings and turns the catalog's state into
// the site's files: post pages, listings, feeds, sitemaps and the
// stylesheet. Given the same state and settings it produces the same bytes.
//
// It does no I/O: reading and writing buckets is package publish's job.
package site

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/postmill/postmill/internal/permalink"
)

// Config is everything that shapes a site's output.
type Config struct {
	Title       string
	Description string
	BaseURL     *url.URL // absolute, with a trailing slash
	Language    string
	Author      string
	AuthorEmail string
	Permalink   string
	FeedLimit   int            // entries per feed
	PageSize    int            // entries on a home or tag page
	Location    *time.Location // for offset-less dates and archive months
	IDDate      string         // the date in feed entry ids (tag:host,DATE:…)
	AllowHTML   bool           // raw HTML in Markdown, sanitized
	JSONFeed    bool           // a JSON Feed beside each Atom feed
	HubURL      string         // optional WebSub hub
	Copyright   string
}

// Defaults are the settings a variable left unset takes.
var Defaults = map[string]string{
	"SITE_TITLE":     "A postmill blog",
	"SITE_LANGUAGE":  "en",
	"PERMALINK":      permalink.Default,
	"FEED_LIMIT":     "20",
	"PAGE_SIZE":      "10",
	"TIME_ZONE":      "UTC",
	"FEED_ID_DATE":   "2026-01-01",
	"ALLOW_HTML":     "false",
	"JSON_FEED":      "false",
	"SITE_BASE_URL":  "http://127.0.0.1:8080/",
	"SITE_AUTHOR":    "",
	"SITE_COPYRIGHT": "",
}

// Load reads settings through lookup (os.LookupEnv in a function's main),
// applying Defaults, and validates them. Every problem is reported, each
// naming its variable.
func Load(lookup func(string) (string, bool)) (Config, error) {
	get := func(k string) string {
		if v, ok := lookup(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return Defaults[k]
	}
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", k, fmt.Sprintf(format, args...)))
	}
	c := Config{
		Title:       get("SITE_TITLE"),
		Description: get("SITE_DESCRIPTION"),
		Language:    get("SITE_LANGUAGE"),
		Author:      get("SITE_AUTHOR"),
		AuthorEmail: get("SITE_AUTHOR_EMAIL"),
		Permalink:   get("PERMALINK"),
		IDDate:      get("FEED_ID_DATE"),
		HubURL:      get("WEBSUB_HUB_URL"),
		Copyright:   get("SITE_COPYRIGHT"),
	}
	u, err := url.Parse(get("SITE_BASE_URL"))
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		// An empty query ("…/?") would end every URL of the site in "?".
		bad("SITE_BASE_URL", "want an absolute http(s) URL like https://blog.example/, got %q", get("SITE_BASE_URL"))
	case u.User != nil:
		// Credentials would be copied into every page, feed and sitemap.
		bad("SITE_BASE_URL", "must not hold a user name or password, got %q", u.Redacted())
	default:
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c.BaseURL = u
	}
	if err := permalink.ValidatePattern(c.Permalink); err != nil {
		bad("PERMALINK", "%v", err)
	}
	for _, f := range []struct {
		key string
		dst *int
		max int
	}{{"FEED_LIMIT", &c.FeedLimit, 200}, {"PAGE_SIZE", &c.PageSize, 100}} {
		n, err := strconv.Atoi(get(f.key))
		if err != nil || n < 1 || n > f.max {
			bad(f.key, "want a whole number from 1 to %d, got %q", f.max, get(f.key))
		}
		*f.dst = n
	}
	if loc, err := time.LoadLocation(get("TIME_ZONE")); err != nil {
		bad("TIME_ZONE", "unknown time zone %q (use an IANA name like Europe/Amsterdam)", get("TIME_ZONE"))
	} else if get("TIME_ZONE") == "Local" {
		// Whatever zone the machine has: the same posts would give
		// different pages on different machines.
		bad("TIME_ZONE", "%q depends on the machine; use an IANA name like Europe/Amsterdam", "Local")
	} else {
		c.Location = loc
	}
	if _, err := time.Parse("2006-01-02", c.IDDate); err != nil {
		bad("FEED_ID_DATE", "want a date like 2026-01-01, got %q", c.IDDate)
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"ALLOW_HTML", &c.AllowHTML}, {"JSON_FEED", &c.JSONFeed}} {
		switch strings.ToLower(get(f.key)) {
		case "true", "1", "yes":
			*f.dst = true
		case "false", "0", "no":
		default:
			bad(f.key, "want true or false, got %q", get(f.key))
		}
	}
	if c.HubURL != "" {
		if h, err := url.Parse(c.HubURL); err != nil || (h.Scheme != "https" && h.Scheme != "http") || h.Host == "" {
			bad("WEBSUB_HUB_URL", "want an absolute http(s) URL, got %q", c.HubURL)
		}
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid site settings: %w", errors.Join(errs...))
	}
	return c, nil
}

// URL returns the absolute URL of a site path such as "/tags/go/",
// percent-encoding what needs it.
func (c Config) URL(p string) string {
	u := *c.BaseURL
	u.Path = strings.TrimSuffix(c.BaseURL.Path, "/") + p
	u.RawPath = ""
	return u.String()
}

// Host is the base URL's host, the authority of feed ids.
func (c Config) Host() string { return c.BaseURL.Hostname() }
