package main

// The soak test's author: a seeded generator of posts and of what an
// author does to them afterwards. Everything here is deterministic for a
// seed; the text is made up from the word lists below.

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// soakTags are the tags posts draw from, most common first: a few tags
// carry most posts, a long tail carries one or two. Some spell one slug
// two ways, as authors do.
var soakTags = []string{
	"Go", "Kubernetes", "AWS", "SRE", "Observability", "Terraform", "DevOps", "CI",
	"Postgres", "Linux", "go", "Security", "Networking", "Incident review", "Testing",
	"Performance", "devops", "Prometheus", "eBPF", "GitOps", "Lambda", "S3", "Rust",
	"Python", "Tracing", "On-call", "Caching", "Career", "Conferences", "Books",
	"Helm", "Nix", "Writing", "Grafana", "DNS", "Queues",
}

var soakWords = strings.Fields(`
	the a our this every each one two three deploy deploys rollout rollback cluster
	node nodes pod queue queues message retry retries timeout budget latency error
	errors alert alerts pager runbook dashboard metric metrics trace span log logs
	cache key keys bucket object event events handler function build builds pipeline
	test tests flaky fixture release branch merge review incident outage postmortem
	capacity load shard shards replica leader lease lock write read stale fresh
	cold warm start small large slow fast quiet noisy cheap costly simple careful
	because although when after before until while since so but and or then again
	we they it team teams service services client server request requests week
	month quarter year morning night on-call handover note notes lesson lessons
	found fixed broke measured moved kept dropped added removed learned wrote read
	turned out mostly rarely always never sometimes twice later earlier instead
`)

var soakTopics = []string{
	"retries that made things worse", "a queue that never drained", "cache keys",
	"the cost of a cold start", "sharding a feed", "on-call handovers", "flaky tests",
	"a slow DNS lookup", "tracing a lost request", "budgets for latency",
	"rollbacks nobody rehearsed", "locks and leases", "a week of small releases",
	"reading the postmortem again", "dashboards people actually read",
	"what the pager taught us", "moving state out of the function",
	"conditional writes", "backpressure", "a quiet quarter", "migrating the bucket",
	"the runbook nobody wrote", "metrics with too many labels", "idempotent handlers",
}

// soakPost is the author's current version of one key.
type soakPost struct {
	n        int // the key's number: keeps titles, and so paths, unique
	format   int // 0 TOML, 1 YAML, 2 JSON front matter
	title    string
	date     time.Time
	dateOnly bool // written as a bare date, read in the site's zone
	lastmod  time.Time
	tags     []string
	cats     []string
	draft    bool
	future   bool // dated past any test run: scheduled, not published
	expired  bool // with an expiry date in the past
	desc     string
	alias    bool
	paras    []string
	code     bool
	more     bool // a <!--more--> summary divider
}

// soakGen makes posts and changes to them.
type soakGen struct {
	rng  *rand.Rand
	zipf *rand.Zipf
}

func newSoakGen(seed uint64) *soakGen {
	rng := rand.New(rand.NewPCG(seed, 0x50a4))
	return &soakGen{rng: rng, zipf: rand.NewZipf(rng, 1.25, 1.5, uint64(len(soakTags)-1))}
}

func (g *soakGen) words(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = soakWords[g.rng.IntN(len(soakWords))]
	}
	return strings.Join(w, " ")
}

func (g *soakGen) sentence() string {
	s := g.words(6 + g.rng.IntN(12))
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func (g *soakGen) paragraph() string {
	n := 2 + g.rng.IntN(5)
	s := make([]string, n)
	for i := range s {
		s[i] = g.sentence()
	}
	return strings.Join(s, " ")
}

func (g *soakGen) title(n int) string {
	t := soakTopics[g.rng.IntN(len(soakTopics))]
	switch g.rng.IntN(4) {
	case 0:
		return fmt.Sprintf("Notes on %s, part %d", t, n)
	case 1:
		return fmt.Sprintf("%s (%d)", strings.ToUpper(t[:1])+t[1:], n)
	case 2:
		return fmt.Sprintf("What we learned from %s: number %d", t, n)
	}
	return fmt.Sprintf("Field note %d: %s", n, t)
}

func (g *soakGen) tagSet() []string {
	n := 1 + g.rng.IntN(4)
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		t := soakTags[g.zipf.Uint64()]
		if l := strings.ToLower(t); !seen[l] {
			seen[l] = true
			out = append(out, t)
		}
	}
	return out
}

// date is a moment between 2019 and 2024; one in eight falls in the last
// hour of a month in UTC, the first of the next in the site's zone.
func (g *soakGen) date() time.Time {
	y, m := 2019+g.rng.IntN(6), time.Month(1+g.rng.IntN(12))
	if g.rng.IntN(8) == 0 {
		return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(1+g.rng.IntN(59)) * time.Minute)
	}
	return time.Date(y, m, 1+g.rng.IntN(28), g.rng.IntN(24), g.rng.IntN(60), 0, 0, time.UTC)
}

func (g *soakGen) newPost(n int) *soakPost {
	p := &soakPost{n: n, format: g.rng.IntN(3), title: g.title(n), date: g.date(), tags: g.tagSet()}
	p.dateOnly = g.rng.IntN(10) == 0
	switch r := g.rng.IntN(100); {
	case r < 4:
		p.draft = true
	case r < 6:
		p.future = true
	case r < 7:
		p.expired = true
	}
	if g.rng.IntN(3) == 0 {
		p.lastmod = p.date.Add(time.Duration(1+g.rng.IntN(2000)) * time.Hour)
	}
	if g.rng.IntN(4) == 0 {
		p.cats = []string{[]string{"Engineering", "Operations", "Notes"}[g.rng.IntN(3)]}
	}
	if g.rng.IntN(2) == 0 {
		p.desc = g.sentence()
	}
	p.alias = g.rng.IntN(10) == 0
	for i := 0; i < 2+g.rng.IntN(5); i++ {
		p.paras = append(p.paras, g.paragraph())
	}
	p.code = g.rng.IntN(4) == 0
	p.more = g.rng.IntN(5) == 0
	return p
}

func (p *soakPost) clone() *soakPost {
	c := *p
	c.tags = append([]string(nil), p.tags...)
	c.cats = append([]string(nil), p.cats...)
	c.paras = append([]string(nil), p.paras...)
	return &c
}

// soakEdits are the changes an author makes to a post that exists.
var soakEdits = []struct {
	kind   string
	weight int
	apply  func(g *soakGen, p *soakPost)
}{
	{"edit", 30, func(g *soakGen, p *soakPost) {
		if i := g.rng.IntN(len(p.paras) + 1); i < len(p.paras) {
			p.paras[i] = g.paragraph()
		} else {
			p.paras = append(p.paras, g.paragraph())
		}
		p.lastmod = p.date.Add(time.Duration(1+g.rng.IntN(5000)) * time.Hour)
	}},
	{"retitle", 10, func(g *soakGen, p *soakPost) { p.title = g.title(p.n) }},
	{"retag", 20, func(g *soakGen, p *soakPost) { p.tags = g.tagSet() }},
	{"redate", 14, func(g *soakGen, p *soakPost) { p.date = g.date() }},
	{"draft", 6, func(g *soakGen, p *soakPost) { p.draft = !p.draft }},
	{"touch", 5, func(g *soakGen, p *soakPost) {}}, // the same bytes again
}

// bytes writes the post as an author would, in its front matter format.
func (p *soakPost) bytes() []byte {
	date := p.date.Format(time.RFC3339)
	if p.dateOnly {
		date = p.date.Format("2006-01-02")
	}
	if p.future {
		date = p.date.AddDate(2090-p.date.Year(), 0, 0).Format(time.RFC3339)
	}
	type field struct {
		name string
		val  any // string, bool or []string
	}
	fields := []field{{"title", p.title}, {"date", date}}
	if !p.lastmod.IsZero() {
		fields = append(fields, field{"lastmod", p.lastmod.Format(time.RFC3339)})
	}
	if p.expired {
		fields = append(fields, field{"expiryDate", p.date.AddDate(0, 1, 0).Format(time.RFC3339)})
	}
	if p.draft {
		fields = append(fields, field{"draft", true})
	}
	if p.desc != "" {
		fields = append(fields, field{"description", p.desc})
	}
	fields = append(fields, field{"tags", p.tags})
	if len(p.cats) > 0 {
		fields = append(fields, field{"categories", p.cats})
	}
	if p.alias {
		fields = append(fields, field{"aliases", []string{fmt.Sprintf("/old/soak-%d/", p.n)}})
	}

	var b strings.Builder
	list := func(vs []string, sep string) string {
		q := make([]string, len(vs))
		for i, v := range vs {
			q[i] = fmt.Sprintf("%q", v)
		}
		return "[" + strings.Join(q, sep) + "]"
	}
	switch p.format {
	case 0:
		b.WriteString("+++\n")
		for _, f := range fields {
			switch v := f.val.(type) {
			case string:
				if f.name == "date" || f.name == "lastmod" || f.name == "expiryDate" {
					fmt.Fprintf(&b, "%s = %s\n", f.name, v) // a TOML datetime
				} else {
					fmt.Fprintf(&b, "%s = %q\n", f.name, v)
				}
			case bool:
				fmt.Fprintf(&b, "%s = %t\n", f.name, v)
			case []string:
				fmt.Fprintf(&b, "%s = %s\n", f.name, list(v, ", "))
			}
		}
		b.WriteString("+++\n")
	case 1:
		b.WriteString("---\n")
		for _, f := range fields {
			switch v := f.val.(type) {
			case string:
				fmt.Fprintf(&b, "%s: %q\n", f.name, v)
			case bool:
				fmt.Fprintf(&b, "%s: %t\n", f.name, v)
			case []string:
				fmt.Fprintf(&b, "%s:\n", f.name)
				for _, s := range v {
					fmt.Fprintf(&b, "  - %q\n", s)
				}
			}
		}
		b.WriteString("---\n")
	default:
		b.WriteString("{\n")
		for i, f := range fields {
			sep := ","
			if i == len(fields)-1 {
				sep = ""
			}
			switch v := f.val.(type) {
			case string:
				fmt.Fprintf(&b, "  %q: %q%s\n", f.name, v, sep)
			case bool:
				fmt.Fprintf(&b, "  %q: %t%s\n", f.name, v, sep)
			case []string:
				fmt.Fprintf(&b, "  %q: %s%s\n", f.name, list(v, ", "), sep)
			}
		}
		b.WriteString("}\n")
	}

	b.WriteString("\n" + p.paras[0] + "\n\n")
	if p.more {
		b.WriteString("<!--more-->\n\n")
	}
	for i, para := range p.paras[1:] {
		if i == 1 {
			b.WriteString("## What changed\n\n")
		}
		b.WriteString(para + "\n\n")
	}
	if p.code {
		fmt.Fprintf(&b, "```go\nfunc retry%d(ctx context.Context) error {\n\treturn backoff(ctx, %d)\n}\n```\n\n", p.n, p.n%7)
	}
	fmt.Fprintf(&b, "- see [the runbook](https://runbooks.example/%d)\n- and the [dashboard](https://grafana.example/d/%d)\n", p.n, p.n)
	return []byte(b.String())
}

// soakKey is the source key of post n. A few keys need the encoding S3
// applies to keys in notifications; some sit in subfolders.
func soakKey(n int) string {
	switch n % 25 {
	case 7:
		return fmt.Sprintf("posts/soak/notes %03d.md", n)
	case 13:
		return fmt.Sprintf("posts/soak/c++ and go %03d.md", n)
	case 19:
		return fmt.Sprintf("posts/soak/%d/%03d.md", 2019+n%6, n)
	}
	return fmt.Sprintf("posts/soak/p%03d.md", n)
}

// soakOp is one change to the source bucket.
type soakOp struct {
	key  string
	kind string // "upload", an edit kind, "delete" or "recreate"
	body []byte // nil for a delete
}

// soakSchedule is the upload of n posts, then changes of about as many
// ops, most to a hot few keys, each an edit, a delete, or a recreation
// of a deleted key.
func (g *soakGen) schedule(n, changes int) []soakOp {
	posts := make([]*soakPost, n)
	var ops []soakOp
	for i := range posts {
		posts[i] = g.newPost(i)
		ops = append(ops, soakOp{key: soakKey(i), kind: "upload", body: posts[i].bytes()})
	}
	hot := g.rng.Perm(n)[:max(1, n/20)]
	total := 0
	for _, e := range soakEdits {
		total += e.weight
	}
	for len(ops) < n+changes {
		i := g.rng.IntN(n)
		if g.rng.IntN(2) == 0 {
			i = hot[g.rng.IntN(len(hot))]
		}
		k := soakKey(i)
		switch {
		case posts[i] == nil:
			posts[i] = g.newPost(i)
			if g.rng.IntN(2) == 0 {
				posts[i].format = 0 // a recreation need not look like the old post
			}
			ops = append(ops, soakOp{key: k, kind: "recreate", body: posts[i].bytes()})
		case g.rng.IntN(100) < 15:
			posts[i] = nil
			ops = append(ops, soakOp{key: k, kind: "delete"})
		default:
			r := g.rng.IntN(total)
			for _, e := range soakEdits {
				if r -= e.weight; r < 0 {
					p := posts[i].clone()
					e.apply(g, p)
					posts[i] = p
					ops = append(ops, soakOp{key: k, kind: e.kind, body: p.bytes()})
					break
				}
			}
		}
	}
	return ops
}
