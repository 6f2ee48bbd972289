package markdown

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func BenchmarkRender35KB(b *testing.B) {
	src := conferenceNotes(35 << 10)
	r := New()
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := r.Render(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender35KBUnsafeHTML(b *testing.B) {
	src := conferenceNotes(35 << 10)
	r := New(WithUnsafeHTML(true))
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := r.Render(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAbsolutize(b *testing.B) {
	res, err := New().Render(conferenceNotes(35 << 10))
	if err != nil {
		b.Fatal(err)
	}
	base := mustParse(b, "https://blog.example/2019/11/01/velocity/")
	b.ReportAllocs()
	b.SetBytes(int64(len(res.HTML)))
	for b.Loop() {
		if _, err := Absolutize(res.HTML, base); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderPathological times the inputs of TestRenderPathological.
func BenchmarkRenderPathological(b *testing.B) {
	r := New()
	for _, tt := range pathological() {
		b.Run(strings.ReplaceAll(tt.name, " ", "_"), func(b *testing.B) {
			for b.Loop() {
				if _, err := r.Render([]byte(tt.src)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestConferenceNotesIsDeterministic(t *testing.T) {
	a, b := conferenceNotes(35<<10), conferenceNotes(35<<10)
	if string(a) != string(b) {
		t.Fatal("conferenceNotes differs between calls")
	}
	if n := len(a); n < 35<<10 || n > 37<<10 {
		t.Errorf("conferenceNotes(35 KiB) is %d bytes", n)
	}
}

// conferenceNotes writes a post of at least size bytes that reads like notes
// from a conference: sections per talk with paragraphs, lists, links, a
// table and a code block. The text comes from a fixed seed, so every run
// benchmarks the same bytes.
func conferenceNotes(size int) []byte {
	rng := rand.New(rand.NewPCG(2019, 11))
	pick := func(words []string) string { return words[rng.IntN(len(words))] }
	subjects := []string{"The speaker", "The team", "Our on-call rotation", "The platform group", "Every service", "The dashboard", "The load balancer", "A small change"}
	verbs := []string{"reduced", "measured", "doubled", "replaced", "traced", "rolled back", "documented", "automated"}
	objects := []string{"the p99 latency", "deploy frequency", "the error budget", "cold starts", "the alert noise", "the cache hit ratio", "the build time", "their runbooks"}
	tails := []string{"within a quarter", "without a rewrite", "after the incident", "by a factor of three", "using feature flags", "in every region", "before the holidays", "with one config file"}
	topics := []string{"Chaos engineering", "Tracing", "Cost control", "Incident review", "Edge caching", "Serverless", "Capacity planning", "Observability"}

	sentence := func() string {
		s := fmt.Sprintf("%s %s %s %s.", pick(subjects), pick(verbs), pick(objects), pick(tails))
		switch rng.IntN(6) {
		case 0:
			s = strings.Replace(s, pick(objects), "**"+pick(objects)+"**", 1)
		case 1:
			s += fmt.Sprintf(" See [the slides](https://slides.example/%d/) for details.", rng.IntN(500))
		case 2:
			s += " It was *not* free."
		case 3:
			s += " They called it `make deploy`."
		}
		return s
	}
	paragraph := func() string {
		n := 3 + rng.IntN(4)
		s := make([]string, n)
		for i := range s {
			s[i] = sentence()
		}
		return strings.Join(s, " ")
	}

	var b strings.Builder
	b.WriteString("Notes from the second day of the conference, written on the train home.\n\n")
	for talk := 1; b.Len() < size; talk++ {
		fmt.Fprintf(&b, "## %s, talk %d\n\n", pick(topics), talk)
		fmt.Fprintf(&b, "%s\n\n%s\n\n", paragraph(), paragraph())
		b.WriteString("Takeaways:\n\n")
		for range 3 + rng.IntN(3) {
			fmt.Fprintf(&b, "- %s\n", sentence())
		}
		b.WriteString("\n")
		switch talk % 4 {
		case 1:
			b.WriteString("| Metric | Before | After |\n|:--|--:|--:|\n")
			for range 4 {
				fmt.Fprintf(&b, "| %s | %d ms | %d ms |\n", pick(objects), 100+rng.IntN(900), 10+rng.IntN(90))
			}
			b.WriteString("\n")
		case 2:
			fmt.Fprintf(&b, "```go\nfunc retry(ctx context.Context, n int, f func() error) error {\n\tvar err error\n\tfor i := 0; i < n; i++ {\n\t\tif err = f(); err == nil {\n\t\t\treturn nil\n\t\t}\n\t\ttime.Sleep(%d * time.Millisecond)\n\t}\n\treturn err\n}\n```\n\n", 50+rng.IntN(200))
		case 3:
			fmt.Fprintf(&b, "> %s\n\n", sentence())
		}
		fmt.Fprintf(&b, "%s\n\n", paragraph())
	}
	return []byte(b.String())
}
