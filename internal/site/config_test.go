package site

import (
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/permalink"
)

// env is a lookup over fixed settings, as os.LookupEnv is in a function.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadDefaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lookup func(string) (string, bool)
	}{
		{"nothing set", env()},
		{"blank values count as unset", env("SITE_TITLE", "  ", "FEED_LIMIT", "", "TIME_ZONE", "\t", "SITE_BASE_URL", " ")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.lookup)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct{ name, got, want string }{
				{"Title", c.Title, "A postmill blog"},
				{"Description", c.Description, ""},
				{"BaseURL", c.BaseURL.String(), "http://127.0.0.1:8080/"},
				{"Language", c.Language, "en"},
				{"Author", c.Author, ""},
				{"Permalink", c.Permalink, permalink.Default},
				{"Location", c.Location.String(), "UTC"},
				{"IDDate", c.IDDate, "2026-01-01"},
				{"HubURL", c.HubURL, ""},
				{"Copyright", c.Copyright, ""},
			} {
				if f.got != f.want {
					t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
				}
			}
			if c.FeedLimit != 20 || c.PageSize != 10 || c.AllowHTML {
				t.Errorf("FeedLimit, PageSize, AllowHTML = %d, %d, %v; want 20, 10, false", c.FeedLimit, c.PageSize, c.AllowHTML)
			}
		})
	}
}

func TestLoadSettings(t *testing.T) {
	c, err := Load(env(
		"SITE_TITLE", " Field Notes ",
		"SITE_DESCRIPTION", "Notes from the field",
		"SITE_BASE_URL", "https://blog.example/notes",
		"SITE_LANGUAGE", "nl",
		"SITE_AUTHOR", "Ada",
		"SITE_AUTHOR_EMAIL", "ada@blog.example",
		"PERMALINK", "/:section/:slug/",
		"FEED_LIMIT", "200",
		"PAGE_SIZE", "1",
		"TIME_ZONE", "Europe/Amsterdam",
		"FEED_ID_DATE", "2019-11-01",
		"ALLOW_HTML", "Yes",
		"WEBSUB_HUB_URL", "https://hub.example/",
		"SITE_COPYRIGHT", "© 2019 Ada",
	))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Title: "Field Notes", Description: "Notes from the field", Language: "nl", Author: "Ada",
		AuthorEmail: "ada@blog.example", Permalink: "/:section/:slug/", FeedLimit: 200, PageSize: 1,
		IDDate: "2019-11-01", AllowHTML: true, HubURL: "https://hub.example/", Copyright: "© 2019 Ada",
	}
	got := c
	got.BaseURL, got.Location = nil, nil
	if got != want {
		t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
	}
	if c.BaseURL.String() != "https://blog.example/notes/" || c.Location.String() != "Europe/Amsterdam" {
		t.Errorf("BaseURL, Location = %s, %s", c.BaseURL, c.Location)
	}
}

func TestLoadAddsTrailingSlash(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://blog.example", "https://blog.example/"},
		{"https://blog.example/", "https://blog.example/"},
		{"https://blog.example/blog", "https://blog.example/blog/"},
		{"http://localhost:8080/a/b/", "http://localhost:8080/a/b/"},
	} {
		c, err := Load(env("SITE_BASE_URL", tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := c.BaseURL.String(); got != tc.want {
			t.Errorf("SITE_BASE_URL %s: base %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestLoadNamesInvalidVariables: each invalid value is reported with its
// variable's name, and no half-valid Config comes back.
func TestLoadNamesInvalidVariables(t *testing.T) {
	for _, tc := range []struct {
		name, key, value string
	}{
		{"base url without scheme", "SITE_BASE_URL", "blog.example"},
		{"base url with another scheme", "SITE_BASE_URL", "ftp://blog.example/"},
		{"base url without host", "SITE_BASE_URL", "https:///blog"},
		{"base url with a query", "SITE_BASE_URL", "https://blog.example/?lang=en"},
		{"base url with an empty query", "SITE_BASE_URL", "https://blog.example/?"},
		{"base url with a fragment", "SITE_BASE_URL", "https://blog.example/#top"},
		{"base url with credentials", "SITE_BASE_URL", "https://user:secret@blog.example/"},
		{"permalink without a per-post token", "PERMALINK", "/:year/:month/"},
		{"permalink with an unknown token", "PERMALINK", "/:category/:slug/"},
		{"permalink without slashes", "PERMALINK", ":slug"},
		{"feed limit zero", "FEED_LIMIT", "0"},
		{"feed limit too high", "FEED_LIMIT", "201"},
		{"feed limit not a number", "FEED_LIMIT", "twenty"},
		{"page size too high", "PAGE_SIZE", "101"},
		{"page size negative", "PAGE_SIZE", "-1"},
		{"unknown time zone", "TIME_ZONE", "Mars/Olympus_Mons"},
		{"the machine's zone", "TIME_ZONE", "Local"},
		{"feed id date not a date", "FEED_ID_DATE", "2026-13-01"},
		{"feed id date with a time", "FEED_ID_DATE", "2026-01-01T00:00:00Z"},
		{"allow html not a boolean", "ALLOW_HTML", "maybe"},
		{"hub url relative", "WEBSUB_HUB_URL", "/hub"},
		{"hub url with another scheme", "WEBSUB_HUB_URL", "ws://hub.example/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.key, tc.value))
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.key, tc.value)
			}
			if !strings.Contains(err.Error(), tc.key+": ") {
				t.Errorf("error does not name %s: %v", tc.key, err)
			}
			if c.BaseURL != nil || c.Location != nil {
				t.Errorf("a partial Config came back with the error: %+v", c)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(env("SITE_BASE_URL", "nope", "FEED_LIMIT", "0", "TIME_ZONE", "Nowhere", "ALLOW_HTML", "perhaps"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, k := range []string{"SITE_BASE_URL", "FEED_LIMIT", "TIME_ZONE", "ALLOW_HTML"} {
		if !strings.Contains(err.Error(), k+": ") {
			t.Errorf("error does not name %s:\n%v", k, err)
		}
	}
	if strings.Contains(err.Error(), "PAGE_SIZE") {
		t.Errorf("error names a valid setting:\n%v", err)
	}
}

func TestConfigURL(t *testing.T) {
	for _, tc := range []struct {
		base, path, want string
	}{
		{"https://blog.example/", "/", "https://blog.example/"},
		{"https://blog.example/", "/tags/go/", "https://blog.example/tags/go/"},
		{"https://blog.example/notes/", "/tags/go/index.xml", "https://blog.example/notes/tags/go/index.xml"},
		{"https://blog.example/", "/2022/06/15/über-beobachtbarkeit/", "https://blog.example/2022/06/15/%C3%BCber-beobachtbarkeit/"},
		{"https://blog.example/", "/tags/カンファレンス/", "https://blog.example/tags/%E3%82%AB%E3%83%B3%E3%83%95%E3%82%A1%E3%83%AC%E3%83%B3%E3%82%B9/"},
		{"https://blog.example/", "/tags/ärger-mit-alerts/", "https://blog.example/tags/%C3%A4rger-mit-alerts/"},
		{"https://blog.example/", "/a b/", "https://blog.example/a%20b/"},
		{"https://blog.example/", "/what?/", "https://blog.example/what%3F/"},
		{"https://blog.example/", "/c#/", "https://blog.example/c%23/"},
		{"http://localhost:8080/", "/x/", "http://localhost:8080/x/"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			c, err := Load(env("SITE_BASE_URL", tc.base))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.URL(tc.path); got != tc.want {
				t.Errorf("URL(%q) = %s, want %s", tc.path, got, tc.want)
			}
		})
	}
}

func TestConfigHost(t *testing.T) {
	for _, tc := range []struct{ base, want string }{
		{"https://blog.example/", "blog.example"},
		{"https://blog.example:8443/notes/", "blog.example"},
		{"http://127.0.0.1:8080/", "127.0.0.1"},
	} {
		c, err := Load(env("SITE_BASE_URL", tc.base))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Host(); got != tc.want {
			t.Errorf("Host() of %s = %q, want %q", tc.base, got, tc.want)
		}
	}
}

func TestLoadTimeZone(t *testing.T) {
	c, err := Load(env("TIME_ZONE", "Asia/Tokyo"))
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Date(2019, 12, 31, 20, 0, 0, 0, time.UTC).In(c.Location).Format("2006-01-02"); got != "2020-01-01" {
		t.Errorf("a UTC evening in Tokyo is %s", got)
	}
}
