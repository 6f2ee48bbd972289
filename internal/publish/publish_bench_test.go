package publish

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/site"
)

// BenchmarkPublishOne publishes one new post with three tags (the most
// popular and two rare ones) into an in-memory site of 1,000 posts, and
// reports the S3 requests and bytes each publish costs besides its time.
// internal/cmd/bench measures the same against the emulator at several
// sizes; this is the quick, repeatable core of it.
func BenchmarkPublishOne(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	cfg, err := site.Load(func(k string) (string, bool) {
		v, ok := map[string]string{"SITE_BASE_URL": "https://blog.example/", "SITE_TITLE": "Field Notes", "SITE_AUTHOR": "Ada"}[k]
		return v, ok
	})
	if err != nil {
		b.Fatal(err)
	}
	r, err := site.NewRenderer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	src, dst := memblob.New(), memblob.New()
	srcC, dstC := blob.NewCounter(src), blob.NewCounter(dst)
	eng := New(srcC, dstC, r, Options{})

	rng := rand.New(rand.NewPCG(1, n))
	vocab := benchTags(30 + 3*32) // 30 + 3·√n
	zipf := rand.NewZipf(rng, 1.1, 3, uint64(len(vocab)-1))
	newest := time.Date(2026, 1, 20, 18, 0, 0, 0, time.UTC)
	var changes []Change
	for i := 0; i < n; i++ {
		tags := map[string]bool{}
		for want := 1 + rng.IntN(4); len(tags) < want; {
			tags[vocab[zipf.Uint64()]] = true
		}
		var ts []string
		for t := range tags {
			ts = append(ts, t)
		}
		key := fmt.Sprintf("posts/p%04d.md", i)
		date := newest.Add(-time.Duration(i) * 84 * time.Hour)
		if _, err := src.Write(ctx, key, benchPost(rng, fmt.Sprintf("Post %d", i), date, ts), nil); err != nil {
			b.Fatal(err)
		}
		changes = append(changes, Change{Key: key})
	}
	for i := 0; i < len(changes); i += 250 {
		for _, o := range eng.Apply(ctx, changes[i:min(i+250, len(changes))]).Outcomes {
			if o.Err != nil || o.Status != "published" {
				b.Fatalf("%s: %s %v", o.Key, o.Status, o.Err)
			}
		}
	}
	// The rarest tags are the last of the vocabulary: Zipf draws them
	// least.
	rare := vocab[len(vocab)-20:]

	srcC.Reset()
	dstC.Reset()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		key := fmt.Sprintf("posts/new/%05d.md", i)
		body := benchPost(rng, fmt.Sprintf("New post %d", i), newest.Add(time.Duration(i+1)*time.Minute),
			[]string{vocab[0], rare[(2*i)%len(rare)], rare[(2*i+1)%len(rare)]})
		if _, err := src.Write(ctx, key, body, nil); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res := eng.Apply(ctx, []Change{{Key: key}})
		if o := res.Outcomes[0]; o.Err != nil || o.Status != "published" {
			b.Fatalf("%s: %s %v", key, o.Status, o.Err)
		}
		i++
	}
	c := srcC.Snapshot().Add(dstC.Snapshot())
	b.ReportMetric(float64(c.Requests())/float64(i), "requests/op")
	b.ReportMetric(float64(c.BytesRead)/float64(i), "S3-read-B/op")
	b.ReportMetric(float64(c.BytesWritten)/float64(i), "S3-written-B/op")
}

func benchTags(n int) []string {
	base := []string{"Go", "AWS", "Kubernetes", "Terraform", "SRE", "DevOps", "Observability", "PostgreSQL",
		"Serverless", "Lambda", "S3", "CI", "Security", "Networking", "Linux", "Talks"}
	out := make([]string, n)
	for i := range out {
		out[i] = base[i%len(base)]
		if i >= len(base) {
			out[i] += fmt.Sprintf(" %d", i/len(base))
		}
	}
	return out
}

// benchPost is a post shaped like testdata/posts: front matter, headings,
// prose, a list, a code block and a table, 3 to 12 KB in all.
func benchPost(rng *rand.Rand, title string, date time.Time, tags []string) []byte {
	q := make([]string, len(tags))
	for i, t := range tags {
		q[i] = fmt.Sprintf("%q", t)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "+++\ntitle = %q\ndate = %s\ntags = [%s]\n+++\n\n", title, date.Format(time.RFC3339), strings.Join(q, ", "))
	words := strings.Fields("the queue handler retries each message until the conditional write lands and the feed " +
		"shows the post within a minute of the upload because only the shards it touches are read and written")
	size := 3000 + rng.IntN(9001)
	for section := 1; b.Len() < size; section++ {
		fmt.Fprintf(&b, "## Section %d\n\n", section)
		for s := 0; s < 4; s++ {
			for w := 0; w < 12; w++ {
				b.WriteString(words[rng.IntN(len(words))])
				b.WriteByte(' ')
			}
			b.WriteString("and [a link](https://example.org/docs).\n")
		}
		b.WriteString("\n- one `item`\n- another item\n- a third\n\n```go\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n```\n\n")
		b.WriteString("| Setting | Before | After |\n|---|---|---|\n| timeout | 900 ms | 60 ms |\n\n")
	}
	return []byte(b.String())
}

// BenchmarkImport200 publishes 200 posts into an empty in-memory site in
// batches of ten, newest first, as a bulk upload arrives: most posts land
// below the heads, in month shards. One op is the whole import.
func BenchmarkImport200(b *testing.B) {
	const n = 200
	ctx := context.Background()
	cfg, err := site.Load(func(k string) (string, bool) {
		v, ok := map[string]string{"SITE_BASE_URL": "https://blog.example/", "SITE_TITLE": "Field Notes"}[k]
		return v, ok
	})
	if err != nil {
		b.Fatal(err)
	}
	r, err := site.NewRenderer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, n))
	vocab := benchTags(40)
	newest := time.Date(2026, 1, 20, 18, 0, 0, 0, time.UTC)
	posts := map[string][]byte{}
	var keys []string
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("posts/p%04d.md", i)
		tags := []string{vocab[rng.IntN(4)], vocab[rng.IntN(len(vocab))]}
		posts[key] = benchPost(rng, fmt.Sprintf("Post %d", i), newest.Add(-time.Duration(i)*84*time.Hour), tags)
		keys = append(keys, key)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		src, dst := memblob.New(), memblob.New()
		for _, k := range keys {
			if _, err := src.Write(ctx, k, posts[k], nil); err != nil {
				b.Fatal(err)
			}
		}
		eng := New(src, dst, r, Options{})
		b.StartTimer()
		for i := 0; i < n; i += 10 {
			var cs []Change
			for _, k := range keys[i : i+10] {
				cs = append(cs, Change{Key: k})
			}
			for _, o := range eng.Apply(ctx, cs).Outcomes {
				if o.Err != nil {
					b.Fatalf("%s: %v", o.Key, o.Err)
				}
			}
		}
	}
}
