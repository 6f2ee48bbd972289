package publish

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeScheduler struct {
	mu  sync.Mutex
	set map[string]time.Time
}

func (f *fakeScheduler) Set(_ context.Context, key string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set[key] = at
	return nil
}

func (f *fakeScheduler) Clear(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.set, key)
	return nil
}

func TestSchedulesFollowPostDates(t *testing.T) {
	f := newFixture(t)
	now := testNow
	f.eng.opt.Clock = func() time.Time { return now }
	sched := &fakeScheduler{set: map[string]time.Time{}}
	f.eng.opt.Scheduler = sched
	future := "+++\ntitle = \"Soon\"\ndate = 2026-11-03T09:00:00Z\ntags = [\"Go\"]\n+++\nsoon"

	f.put("posts/soon.md", future)
	f.apply("posts/soon.md")
	if got := sched.set["posts/soon.md"]; !got.Equal(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("scheduled at %v; want the publish date", got)
	}
	if strings.Contains(snapshot(t, f.dst)["index.xml"], "Soon") {
		t.Fatal("a scheduled post is already published")
	}

	// The author moves the date: the schedule moves.
	f.put("posts/soon.md", strings.Replace(future, "2026-11-03", "2026-11-04", 1))
	f.apply("posts/soon.md")
	if got := sched.set["posts/soon.md"]; got.Day() != 4 {
		t.Fatalf("schedule not moved: %v", got)
	}

	// The moment comes and the schedule fires: the post appears, and with
	// no further change due its schedule is gone.
	now = time.Date(2026, 11, 4, 9, 0, 30, 0, time.UTC)
	f.eng.Apply(context.Background(), []Change{{Key: "posts/soon.md", Careful: true}})
	if !strings.Contains(snapshot(t, f.dst)["index.xml"], "Soon") {
		t.Fatal("the post did not appear when its schedule fired")
	}
	if _, ok := sched.set["posts/soon.md"]; ok {
		t.Error("schedule left after publishing")
	}

	// An expiry date schedules the disappearance; deleting the post clears it.
	f.put("posts/soon.md", strings.Replace(future, "+++\nsoon", "expiryDate = 2026-12-01T00:00:00Z\n+++\nsoon", 1))
	f.apply("posts/soon.md")
	if got := sched.set["posts/soon.md"]; got.Month() != time.December {
		t.Fatalf("expiry not scheduled: %v", got)
	}
	f.rm("posts/soon.md")
	f.apply("posts/soon.md")
	if _, ok := sched.set["posts/soon.md"]; ok {
		t.Error("a deleted post keeps its schedule")
	}
}
