package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/post"
)

func TestCorpusIsDeterministic(t *testing.T) {
	a, b := generate(200, 7), generate(200, 7)
	for i := range a.Posts {
		if a.Posts[i].Key != b.Posts[i].Key || !bytes.Equal(a.Posts[i].Body, b.Posts[i].Body) {
			t.Fatalf("post %d differs between two runs with the same seed", i)
		}
	}
	if c := generate(200, 8); bytes.Equal(c.Posts[0].Body, a.Posts[0].Body) {
		t.Error("another seed gave the same first post")
	}
	if !bytes.Equal(a.newPost(3, []string{"Go"}).Body, b.newPost(3, []string{"Go"}).Body) {
		t.Error("measured posts differ between two runs")
	}
}

func TestCorpusShape(t *testing.T) {
	const n = 500
	c := generate(n, 1)
	if got, want := len(c.Vocab), tagVocabulary(n); got != want {
		t.Errorf("vocabulary of %d tags, want %d", got, want)
	}
	keys := map[string]bool{}
	toml := 0
	features := []string{"\n## ", "\n- ", "\n1. ", "\n```", "\n| ", "](", "\n> "}
	seen := map[string]int{}
	for i, p := range c.Posts {
		if keys[p.Key] {
			t.Fatalf("key %s twice", p.Key)
		}
		keys[p.Key] = true
		if i > 0 && p.Date.After(c.Posts[i-1].Date) {
			t.Errorf("post %d is newer than post %d: posts must be newest first", i, i-1)
		}
		if len(p.Tags) < 1 || len(p.Tags) > 4 {
			t.Errorf("%s has %d tags", p.Key, len(p.Tags))
		}
		if len(p.Body) < 3000 || len(p.Body) > 13000 {
			t.Errorf("%s is %d bytes, want about 3 to 12 KB", p.Key, len(p.Body))
		}
		if bytes.HasPrefix(p.Body, []byte("+++\n")) {
			toml++
		}
		for _, f := range features {
			if bytes.Contains(p.Body, []byte(f)) {
				seen[f]++
			}
		}
	}
	for _, f := range features {
		if seen[f] < n/2 {
			t.Errorf("only %d of %d posts have %q", seen[f], n, f)
		}
	}
	if toml == 0 || toml == n {
		t.Errorf("%d of %d posts have TOML front matter; want both formats", toml, n)
	}
	// About two posts a week: the site spans n/104 years, about nine
	// posts a month whatever n is.
	perMonth := float64(n) / float64(c.months())
	if perMonth < 6 || perMonth > 12 {
		t.Errorf("%.1f posts a month, want about 9", perMonth)
	}
	counts := c.tagCounts()
	if top := float64(counts[c.Vocab[0]]) / n; top < 0.1 || top > 0.4 {
		t.Errorf("the most popular tag is on %.0f%% of posts, want a Zipf head of 10–40%%", 100*top)
	}
	if rare := c.rareTags(2); counts[rare[0]] > 3 {
		t.Errorf("the rarest tag has %d posts", counts[rare[0]])
	}
}

// Every generated post must be one the engine publishes, or the bench
// would measure rejections.
func TestCorpusPostsParse(t *testing.T) {
	c := generate(300, 3)
	now := corpusEnd.Add(24 * time.Hour)
	posts := append(c.Posts, c.newPost(0, []string{"Go", "eBPF internals", "Nix"}))
	for _, p := range posts {
		got, err := post.Parse(p.Key, p.Body, post.Options{Location: time.UTC})
		if err != nil {
			t.Fatalf("%s: %v\n%s", p.Key, err, p.Body[:300])
		}
		if v := got.VisibleAt(now); !v.Published {
			t.Errorf("%s: not published: %s", p.Key, v.Reason)
		}
		if got.Title != p.Title || !got.PublishDate.Equal(p.Date) || strings.Join(got.Tags, ",") != strings.Join(p.Tags, ",") {
			t.Errorf("%s parsed as %q %v %v, generated as %q %v %v", p.Key, got.Title, got.PublishDate, got.Tags, p.Title, p.Date, p.Tags)
		}
	}
}

func TestEditedKeepsOneLastmod(t *testing.T) {
	c := generate(60, 1)
	for _, p := range c.Posts {
		body := edited(p)
		got, err := post.Parse(p.Key, body, post.Options{Location: time.UTC})
		if err != nil {
			t.Fatalf("%s after the edit: %v\n%s", p.Key, err, body[:300])
		}
		if want := p.Date.Add(90 * 24 * time.Hour); !got.Lastmod.Equal(want) {
			t.Errorf("%s: lastmod %v, want %v", p.Key, got.Lastmod, want)
		}
		if n := bytes.Count(body, []byte("\nlastmod")); n != 1 {
			t.Errorf("%s: %d lastmod lines", p.Key, n)
		}
	}
}

func TestSameSite(t *testing.T) {
	want := map[string]string{"a": "1", "b": "2"}
	for _, tt := range []struct {
		name string
		got  map[string]string
		ok   bool
	}{
		{"equal", map[string]string{"a": "1", "b": "2"}, true},
		{"missing", map[string]string{"a": "1"}, false},
		{"left over", map[string]string{"a": "1", "b": "2", "c": "3"}, false},
		{"differs", map[string]string{"a": "1", "b": "3"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if d := sameSite(tt.got, want); (d == "") != tt.ok {
				t.Errorf("sameSite = %q", d)
			}
		})
	}
}
