package readers

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// validators is what a feed reader keeps of a response to revalidate it.
type validators struct {
	etag, lastModified string
}

// fetchValidators GETs a path and returns its validators, failing unless
// the answer is a 200 with both.
func (s *testSite) fetchValidators(path string) validators {
	s.t.Helper()
	resp, _ := s.get(path)
	v := validators{resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")}
	if resp.StatusCode != http.StatusOK || v.etag == "" || v.lastModified == "" {
		s.t.Fatalf("GET %s: %s, ETag %q, Last-Modified %q; want 200 with both", path, resp.Status, v.etag, v.lastModified)
	}
	return v
}

// revalidate asks for path again as a feed reader does, with one
// validator, and checks the status: 304 while the copy is current, 200
// with the new body once it is not.
func (s *testSite) revalidate(path, header, value string, want int) *http.Response {
	s.t.Helper()
	resp, body := s.get(path, header, value)
	if resp.StatusCode != want {
		s.t.Errorf("GET %s with %s: %s: %s, want %d", path, header, value, resp.Status, want)
	}
	if resp.StatusCode == http.StatusNotModified && len(body) > 0 {
		s.t.Errorf("GET %s with %s: 304 with a %d-byte body", path, header, len(body))
	}
	return resp
}

// edit appends a paragraph to a post and publishes it an hour later,
// returning the site keys written.
func (s *testSite) edit(key, paragraph string) []string {
	s.t.Helper()
	s.put(key, s.source(key)+"\n"+paragraph+"\n")
	s.clock.Advance(time.Hour)
	return s.publish(key).Written
}

// TestConditionalGET follows a feed reader polling a tag feed through the
// CDN: it revalidates with If-None-Match and with If-Modified-Since and
// gets 304; a publish that does not change the feed (an edit of a post
// with other tags) leaves its ETag and Last-Modified as they were, because
// the engine skips unchanged writes, so the reader still gets 304; an
// edit of a post in the feed gives 200 with a new ETag.
func TestConditionalGET(t *testing.T) {
	s := newTestSite(t, nil)
	const (
		tagFeed  = "/tags/kubernetes/index.xml"
		tagPage  = "/tags/kubernetes/"
		siteFeed = "/index.xml"
		inFeed   = "posts/gitops-fleet-rollouts.md" // tagged Kubernetes
		outside  = "posts/postgres-major-upgrade.md"
	)
	feed, page, site := s.fetchValidators(tagFeed), s.fetchValidators(tagPage), s.fetchValidators(siteFeed)

	t.Run("a current copy is not sent again", func(t *testing.T) {
		for _, p := range []struct {
			path string
			v    validators
		}{{tagFeed, feed}, {tagPage, page}, {siteFeed, site}} {
			s.revalidate(p.path, "If-None-Match", p.v.etag, http.StatusNotModified)
			s.revalidate(p.path, "If-Modified-Since", p.v.lastModified, http.StatusNotModified)
		}
	})

	t.Run("a publish elsewhere leaves the feed's validators", func(t *testing.T) {
		written := s.edit(outside, "Postscript: the replica caught up in four minutes.")
		if !slices.Contains(written, "index.xml") {
			t.Fatalf("editing %s wrote %v; want the site feed among them", outside, written)
		}
		for _, k := range []string{"tags/kubernetes/index.xml", "tags/kubernetes/index.html"} {
			if slices.Contains(written, k) {
				t.Errorf("editing %s rewrote %s, which does not show it", outside, k)
			}
		}
		if got := s.fetchValidators(tagFeed); got != feed {
			t.Errorf("%s validators went from %v to %v", tagFeed, feed, got)
		}
		s.revalidate(tagFeed, "If-None-Match", feed.etag, http.StatusNotModified)
		s.revalidate(tagFeed, "If-Modified-Since", feed.lastModified, http.StatusNotModified)
		s.revalidate(tagPage, "If-None-Match", page.etag, http.StatusNotModified)
		// The site feed shows the edited post: readers get it again.
		s.revalidate(siteFeed, "If-None-Match", site.etag, http.StatusOK)
		s.revalidate(siteFeed, "If-Modified-Since", site.lastModified, http.StatusOK)
	})

	t.Run("an edit in the feed is sent with a new ETag", func(t *testing.T) {
		written := s.edit(inFeed, "Update: the last eight clusters moved over in November.")
		if !slices.Contains(written, "tags/kubernetes/index.xml") {
			t.Fatalf("editing %s wrote %v; want the Kubernetes feed among them", inFeed, written)
		}
		resp := s.revalidate(tagFeed, "If-None-Match", feed.etag, http.StatusOK)
		if got := resp.Header.Get("ETag"); got == "" || got == feed.etag {
			t.Errorf("ETag after the edit %q; want a new one (was %q)", got, feed.etag)
		}
		if got := resp.Header.Get("Last-Modified"); got == feed.lastModified {
			t.Errorf("Last-Modified after the edit %q; want a later one", got)
		}
		s.revalidate(tagFeed, "If-Modified-Since", feed.lastModified, http.StatusOK)
		now := s.fetchValidators(tagFeed)
		s.revalidate(tagFeed, "If-None-Match", now.etag, http.StatusNotModified)
		s.revalidate(tagFeed, "If-Modified-Since", now.lastModified, http.StatusNotModified)
	})
}
