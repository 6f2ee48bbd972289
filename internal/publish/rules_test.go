package publish

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func (f *fixture) status(key string) Status {
	f.t.Helper()
	data, _, err := f.src.Read(context.Background(), f.eng.StatusKey(key))
	if err != nil {
		f.t.Fatalf("status of %s: %v", key, err)
	}
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		f.t.Fatal(err)
	}
	return s
}

func TestSecondPostClaimingAPathIsRejected(t *testing.T) {
	f := newFixture(t)
	f.put("posts/a.md", "+++\ntitle = \"A\"\ndate = 2019-11-01\nurl = \"/same/\"\n+++\nfirst")
	f.apply("posts/a.md")
	f.put("posts/b.md", "+++\ntitle = \"B\"\ndate = 2019-11-02\nurl = \"/same/\"\n+++\nsecond")
	res := f.apply("posts/b.md")
	if o := res.Outcomes[0]; o.Status != "rejected" || !strings.Contains(strings.Join(o.Problems, " "), "posts/a.md") || !strings.Contains(strings.Join(o.Problems, " "), "posts/b.md") {
		t.Fatalf("outcome %+v: want a rejection naming both posts", o)
	}
	if page := snapshot(t, f.dst)["same/index.html"]; !strings.Contains(page, "first") {
		t.Errorf("the first post's page was replaced")
	}
	if s := f.status("posts/b.md"); s.Status != "rejected" || len(s.Problems) == 0 {
		t.Errorf("status %+v", s)
	}
	// Once the owner moves away, the path is free.
	f.put("posts/a.md", "+++\ntitle = \"A\"\ndate = 2019-11-01\nurl = \"/elsewhere/\"\n+++\nfirst")
	f.apply("posts/a.md")
	f.apply("posts/b.md") // an author re-uploads, or a rebuild runs
	if page := snapshot(t, f.dst)["same/index.html"]; !strings.Contains(page, "second") {
		t.Errorf("the path was not freed for the second post")
	}
}

func TestBrokenEditKeepsThePublishedVersion(t *testing.T) {
	f := newFixture(t)
	f.put("posts/a.md", doc("Alpha", "2019-11-01T10:00:00Z", "Go"))
	f.apply("posts/a.md")
	before := snapshot(t, f.dst)
	f.put("posts/a.md", "+++\ntitle = \"Alpha\"\ndate = not-a-date\n+++\nbroken")
	res := f.apply("posts/a.md")
	if o := res.Outcomes[0]; o.Status != "rejected" || o.Err != nil {
		t.Fatalf("outcome %+v", o)
	}
	if len(res.Written)+len(res.Deleted) != 0 {
		t.Errorf("a rejected edit changed the site: wrote %v deleted %v", res.Written, res.Deleted)
	}
	after := snapshot(t, f.dst)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed", k)
		}
	}
	s := f.status("posts/a.md")
	if s.Status != "rejected" || !strings.HasPrefix(s.Problems[0], "posts/a.md:3: ") || s.URL == "" {
		t.Errorf("status %+v: want the problem at line 3 and the live URL", s)
	}
}

func TestDraftUnpublishes(t *testing.T) {
	f := newFixture(t)
	f.put("posts/a.md", doc("Alpha", "2019-11-01T10:00:00Z", "Go"))
	f.apply("posts/a.md")
	f.put("posts/a.md", "+++\ntitle = \"Alpha\"\ndate = 2019-11-01T10:00:00Z\ntags = [\"Go\"]\ndraft = true\n+++\nhidden")
	f.apply("posts/a.md")
	got := snapshot(t, f.dst)
	for k, v := range got {
		if strings.Contains(v, "Alpha") {
			t.Errorf("%s still shows the draft", k)
		}
	}
	if _, ok := got["tags/go/index.xml"]; ok {
		t.Errorf("the emptied tag's feed remains")
	}
	if s := f.status("posts/a.md"); s.Status != "draft" || s.URL != "" {
		t.Errorf("status %+v", s)
	}
}

func TestOversizedPostIsRejectedWithItsSize(t *testing.T) {
	f := newFixture(t)
	f.eng.opt.MaxPostBytes = 1024
	f.put("posts/big.md", doc("Big", "2019-11-01T10:00:00Z")+strings.Repeat("word ", 400))
	res := f.apply("posts/big.md")
	if o := res.Outcomes[0]; o.Status != "rejected" || !strings.Contains(o.Problems[0], "at most 1.0 KiB") {
		t.Fatalf("outcome %+v", o)
	}
}

func TestBundleFileBeforeItsPage(t *testing.T) {
	f := newFixture(t)
	f.put("posts/talk/slide.png", "\x89PNG fake")
	f.apply("posts/talk/slide.png") // no page yet: a loose file
	if _, ok := snapshot(t, f.dst)["posts/talk/slide.png"]; !ok {
		t.Fatal("a loose file is published at its own key")
	}
	f.put("posts/talk/index.md", doc("Talk", "2019-11-01T10:00:00Z", "Go"))
	f.apply("posts/talk/index.md")
	got := snapshot(t, f.dst)
	if _, ok := got["posts/talk/slide.png"]; ok {
		t.Error("the loose copy outlived the bundle's page")
	}
	if _, ok := got["2019/11/01/talk/slide.png"]; !ok {
		t.Errorf("the file is not beside its page; have %v", keysOf(got))
	}
	// Deleting the file removes it from beside the page.
	f.rm("posts/talk/slide.png")
	f.apply("posts/talk/slide.png")
	if _, ok := snapshot(t, f.dst)["2019/11/01/talk/slide.png"]; ok {
		t.Error("a deleted bundle file is still published")
	}
}

func TestAliasCannotTakeAnotherPostsPage(t *testing.T) {
	f := newFixture(t)
	f.put("posts/a.md", "+++\ntitle = \"A\"\ndate = 2019-11-01\nurl = \"/same/\"\n+++\nfirst")
	f.apply("posts/a.md")
	f.put("posts/b.md", "+++\ntitle = \"B\"\ndate = 2019-11-02\naliases = [\"/same/index.html\"]\n+++\nsecond")
	res := f.apply("posts/b.md")
	if o := res.Outcomes[0]; o.Status != "rejected" || !strings.Contains(strings.Join(o.Problems, " "), "posts/a.md") {
		t.Fatalf("outcome %+v: an alias over another post's page must be rejected", o)
	}
	if page := snapshot(t, f.dst)["same/index.html"]; !strings.Contains(page, "first") {
		t.Error("the alias overwrote the first post's page")
	}
}

func TestDeletedBundlePageLeavesItsFilesLoose(t *testing.T) {
	f := newFixture(t)
	f.put("posts/talk/index.md", doc("Talk", "2019-11-01T10:00:00Z", "Go"))
	f.put("posts/talk/slide.png", "\x89PNG fake")
	f.apply("posts/talk/index.md", "posts/talk/slide.png")
	f.rm("posts/talk/index.md")
	f.apply("posts/talk/index.md")
	got := snapshot(t, f.dst)
	if _, ok := got["2019/11/01/talk/slide.png"]; ok {
		t.Error("the file is still beside a page that is gone")
	}
	if _, ok := got["posts/talk/slide.png"]; !ok {
		t.Errorf("the file is not published as a loose file, as a clean build has it; have %v", keysOf(got))
	}
}
