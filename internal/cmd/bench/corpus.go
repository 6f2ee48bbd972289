package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/postmill/postmill/internal/permalink"
)

// corpusEnd is the date of the newest generated post. It is fixed, not
// today, so the same seed gives the same bytes on any day; it must only
// lie in the past, which it will from now on.
var corpusEnd = time.Date(2026, 1, 20, 18, 0, 0, 0, time.UTC)

// postInterval is the mean time between two posts: about two a week, so
// a site of N posts goes back N/100 years and a month holds about nine
// posts whatever N is.
const postInterval = 84 * time.Hour

// srcPost is one generated source file.
type srcPost struct {
	Key   string // "posts/<slug>.md"
	Title string
	Date  time.Time
	Tags  []string
	Body  []byte // the whole file, front matter included
}

// corpus is a generated site: posts newest first, and the tag vocabulary
// most popular first.
type corpus struct {
	Posts []srcPost
	Vocab []string
	seed  uint64
}

// tagVocabulary grows with the square root of the site: a blog of ten
// thousand posts has more tags than one of a hundred, but not a hundred
// times more.
func tagVocabulary(n int) int { return 30 + int(3*math.Sqrt(float64(n))) }

// generate makes n posts shaped like testdata/posts: TOML or YAML front
// matter, headings, lists, code blocks, a table, links, blockquotes;
// bodies of 3 to 12 KB; one to four tags, drawn from a Zipf distribution
// over the vocabulary. The same n and seed give the same bytes.
func generate(n int, seed uint64) *corpus {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	c := &corpus{Vocab: vocabulary(tagVocabulary(n)), seed: seed}
	zipf := rand.NewZipf(rng, 1.1, 3, uint64(len(c.Vocab)-1))

	titles := map[string]bool{}
	date := corpusEnd
	c.Posts = make([]srcPost, n)
	for i := range c.Posts {
		p := &c.Posts[i]
		p.Date = date.Add(-time.Duration(rng.Int64N(int64(2 * time.Hour)))).Truncate(time.Minute)
		// At least the jitter apart, so the order stays newest first.
		date = date.Add(-2*time.Hour - time.Duration(rng.Int64N(int64(2*postInterval-2*time.Hour))))
		p.Title = uniqueTitle(rng, titles)
		p.Key = "posts/" + permalink.Slugify(p.Title) + ".md"
		want := 1 + rng.IntN(4)
		seen := map[string]bool{}
		for len(p.Tags) < want {
			t := c.Vocab[zipf.Uint64()]
			if !seen[t] {
				seen[t] = true
				p.Tags = append(p.Tags, t)
			}
		}
	}
	// Bodies link to older posts, as real ones do, so they are written
	// once every path is known.
	for i := range c.Posts {
		var older *srcPost
		if i+1 < n {
			older = &c.Posts[i+1+rng.IntN(min(n-i-1, 50))]
		}
		c.Posts[i].Body = document(rng, &c.Posts[i], older, 3000+rng.IntN(9001))
	}
	return c
}

// newPost makes the i-th post published during a measurement: newer than
// every post of the corpus, with the given tags.
func (c *corpus) newPost(i int, tags []string) srcPost {
	rng := rand.New(rand.NewPCG(c.seed^0x9e3779b97f4a7c15, uint64(i)))
	p := srcPost{
		Title: fmt.Sprintf("Measured post %d: %s", i, title(rng)),
		Date:  corpusEnd.Add(time.Duration(i+1) * 30 * time.Minute),
		Tags:  tags,
	}
	p.Key = "posts/measured/" + permalink.Slugify(p.Title) + ".md"
	var older *srcPost
	if len(c.Posts) > 0 {
		older = &c.Posts[0]
	}
	p.Body = document(rng, &p, older, 3000+rng.IntN(9001))
	return p
}

// tagCounts counts the posts of each tag.
func (c *corpus) tagCounts() map[string]int {
	m := map[string]int{}
	for _, p := range c.Posts {
		for _, t := range p.Tags {
			m[t]++
		}
	}
	return m
}

// rareTags returns the k least used tags that have posts, rarest first,
// ties broken by name.
func (c *corpus) rareTags(k int) []string {
	counts := c.tagCounts()
	var used []string
	for t := range counts {
		used = append(used, t)
	}
	sort.Slice(used, func(i, j int) bool {
		if counts[used[i]] != counts[used[j]] {
			return counts[used[i]] < counts[used[j]]
		}
		return used[i] < used[j]
	})
	return used[:min(k, len(used))]
}

// months counts the calendar months that hold posts.
func (c *corpus) months() int {
	m := map[string]bool{}
	for _, p := range c.Posts {
		m[p.Date.Format("2006-01")] = true
	}
	return len(m)
}

// bytes is the total size of the sources.
func (c *corpus) bytes() int64 {
	var n int64
	for _, p := range c.Posts {
		n += int64(len(p.Body))
	}
	return n
}

// baseTags are real tags of an infrastructure blog, roughly by how often
// one would use them; the vocabulary's long tail qualifies them.
var baseTags = []string{
	"Go", "AWS", "Kubernetes", "Terraform", "SRE", "DevOps", "Observability", "PostgreSQL",
	"Serverless", "Lambda", "S3", "CI", "Security", "Networking", "Linux", "Talks",
	"Conferences", "Runbooks", "Testing", "Performance", "Architecture", "Incidents", "GitOps",
	"Platform Engineering", "Databases", "Rust", "Python", "Prometheus", "OpenTelemetry",
	"Tracing", "Logging", "Metrics", "eBPF", "Containers", "Docker", "Helm", "Argo CD", "Envoy",
	"CDN", "CloudFront", "DNS", "TLS", "IAM", "Cost", "Caching", "Redis", "Kafka", "SQS",
	"Event-driven", "Microservices", "APIs", "gRPC", "HTTP", "WebAssembly", "Static sites",
	"Markdown", "Writing", "Documentation", "Teams", "Leadership", "Meetups", "Open source",
	"Releases", "Migrations", "Backups", "Disaster recovery", "Chaos engineering",
	"Load testing", "Capacity planning", "Autoscaling", "ARM", "Nix", "Bazel", "Shell", "Git",
	"Code review", "Refactoring", "Generics", "Concurrency", "Profiling", "On-call", "Hiring",
}

var tagQualifiers = []string{"internals", "at scale", "tooling", "patterns", "in practice"}

// vocabulary returns n distinct tags, most popular first.
func vocabulary(n int) []string {
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		if i < len(baseTags) {
			out = append(out, baseTags[i])
			continue
		}
		j := i - len(baseTags)
		out = append(out, baseTags[j%len(baseTags)]+" "+tagQualifiers[(j/len(baseTags))%len(tagQualifiers)])
	}
	return out
}

var (
	topics = []string{"the deployment pipeline", "our on-call rotation", "a flaky integration test", "the staging cluster",
		"connection pools", "the build cache", "feature flags", "canary releases", "a schema migration", "the edge cache",
		"cold starts", "retry budgets", "the incident review", "cost allocation tags", "state locking", "DNS failover",
		"the message queue", "a memory leak", "TLS certificates", "read replicas", "the service mesh", "log retention"}
	verbs = []string{"Rethinking", "Debugging", "Shipping", "Measuring", "Replacing", "Scaling", "Simplifying",
		"Migrating", "Automating", "Testing", "Securing", "Operating", "Notes on", "Lessons from", "Living with"}
	nouns = []string{"latency", "throughput", "queue", "deploy", "rollback", "budget", "cluster", "bucket", "function",
		"handler", "timeout", "replica", "checksum", "manifest", "pipeline", "runbook", "alert", "dashboard",
		"trace", "span", "shard", "cache", "lease", "token", "quota", "region", "snapshot", "webhook"}
	adjectives = []string{"slow", "noisy", "stale", "idempotent", "eventual", "regional", "conditional", "cheap",
		"boring", "partial", "concurrent", "versioned", "immutable", "ephemeral", "sharded", "cold"}
	fillers = []string{"it turned out that", "in practice", "after a week", "to our surprise", "once again",
		"as expected", "on the second attempt", "for most services", "in the worst case", "by default"}
	people  = []string{"Sanne de Boer", "Noor Visser", "Ada Lovelace", "Kenji Watanabe", "Lena Fischer", "Tomás Ruiz"}
	domains = []string{"go.dev", "docs.aws.amazon.com", "kubernetes.io", "developer.hashicorp.com", "sre.google", "www.postgresql.org"}
)

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func title(rng *rand.Rand) string {
	return pick(rng, verbs) + " " + pick(rng, topics) + " with " + pick(rng, adjectives) + " " + pick(rng, nouns) + "s"
}

// uniqueTitle draws titles until one is new: two posts must not share a
// page path, and their keys are derived from their titles.
func uniqueTitle(rng *rand.Rand, seen map[string]bool) string {
	t := title(rng)
	for k := 2; seen[permalink.Slugify(t)]; k++ {
		t = fmt.Sprintf("%s, part %d", title(rng), k)
	}
	seen[permalink.Slugify(t)] = true
	return t
}

func sentence(rng *rand.Rand) string {
	var b strings.Builder
	switch rng.IntN(4) {
	case 0:
		fmt.Fprintf(&b, "The %s %s was %s, and %s nobody noticed until the %s paged", pick(rng, adjectives), pick(rng, nouns), pick(rng, adjectives), pick(rng, fillers), pick(rng, nouns))
	case 1:
		fmt.Fprintf(&b, "We moved %s behind a `%s` %s so that every %s stays %s", pick(rng, topics), pick(rng, nouns), pick(rng, nouns), pick(rng, nouns), pick(rng, adjectives))
	case 2:
		f := pick(rng, fillers)
		fmt.Fprintf(&b, "%s, the %s needs a %s %s more than a faster %s", strings.ToUpper(f[:1])+f[1:], pick(rng, nouns), pick(rng, adjectives), pick(rng, nouns), pick(rng, nouns))
	default:
		fmt.Fprintf(&b, "Each %s keeps its own %s, which makes %s **%s** and easy to reason about", pick(rng, nouns), pick(rng, nouns), pick(rng, topics), pick(rng, adjectives))
	}
	return b.String() + "."
}

func paragraph(rng *rand.Rand, sentences int) string {
	s := make([]string, sentences)
	for i := range s {
		s[i] = sentence(rng)
	}
	return wrap(strings.Join(s, " "))
}

// wrap breaks prose at about 75 columns, as the sample posts are written.
func wrap(s string) string {
	var b strings.Builder
	col := 0
	for i, w := range strings.Fields(s) {
		if i > 0 {
			if col+1+len(w) > 75 {
				b.WriteByte('\n')
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

var codeSamples = []struct{ lang, body string }{
	{"go", "func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) error {\n\tfor _, m := range ev.Records {\n\t\tif err := h.process(ctx, m); err != nil {\n\t\t\treturn fmt.Errorf(\"message %s: %w\", m.MessageId, err)\n\t\t}\n\t}\n\treturn nil\n}"},
	{"bash", "aws s3 sync ./public s3://$BUCKET --delete --cache-control max-age=60\naws cloudfront create-invalidation --distribution-id \"$DIST\" --paths '/*'"},
	{"yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: api\n          image: registry.example/api:1.4.2\n          resources:\n            limits: {memory: 256Mi}"},
	{"hcl", "resource \"aws_s3_bucket\" \"site\" {\n  bucket = \"${var.name}-site\"\n\n  tags = {\n    Owner = \"platform\"\n  }\n}"},
	{"json", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": \"arn:aws:s3:::site/*\"}]\n}"},
	{"sql", "SELECT date_trunc('hour', created_at) AS hour, count(*)\nFROM requests\nWHERE status >= 500\nGROUP BY 1\nORDER BY 1 DESC\nLIMIT 24;"},
}

func block(rng *rand.Rand, older *srcPost) string {
	switch rng.IntN(9) {
	case 0, 1:
		n := pick(rng, nouns)
		return "## " + strings.ToUpper(n[:1]) + n[1:] + " and " + pick(rng, topics) + "\n\n" + paragraph(rng, 2+rng.IntN(4))
	case 2:
		n := 3 + rng.IntN(4)
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf("- Keep the `%s` %s %s.", pick(rng, nouns), pick(rng, adjectives), pick(rng, fillers))
		}
		return strings.Join(items, "\n")
	case 3:
		n := 3 + rng.IntN(3)
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf("%d. %s", i+1, sentence(rng))
		}
		return strings.Join(items, "\n")
	case 4:
		c := pick(rng, codeSamples)
		return "```" + c.lang + "\n" + c.body + "\n```"
	case 5:
		var b strings.Builder
		b.WriteString("| Setting | Before | After |\n|---------|--------|-------|\n")
		for i := 0; i < 3+rng.IntN(3); i++ {
			fmt.Fprintf(&b, "| `%s_%s` | %d ms | %d ms |\n", pick(rng, nouns), pick(rng, nouns), 50+rng.IntN(900), 5+rng.IntN(90))
		}
		return strings.TrimSuffix(b.String(), "\n")
	case 6:
		return "> " + strings.ReplaceAll(paragraph(rng, 2), "\n", "\n> ")
	case 7:
		link := fmt.Sprintf("[the %s documentation](https://%s/%s/%s)", pick(rng, nouns), pick(rng, domains), pick(rng, nouns), pick(rng, nouns))
		if older != nil && rng.IntN(2) == 0 {
			link = fmt.Sprintf("[an earlier post](/%s/%s/)", older.Date.Format("2006/01/02"), permalink.Slugify(older.Title))
		}
		return wrap(sentence(rng) + " More in " + link + ". " + sentence(rng))
	default:
		return paragraph(rng, 3+rng.IntN(4))
	}
}

// document renders a post's file, body of about size bytes.
func document(rng *rand.Rand, p *srcPost, older *srcPost, size int) []byte {
	var b strings.Builder
	toml := rng.IntN(5) < 3
	q := make([]string, len(p.Tags))
	for i, t := range p.Tags {
		q[i] = fmt.Sprintf("%q", t)
	}
	date := p.Date.Format(time.RFC3339)
	if rng.IntN(2) == 0 {
		date = p.Date.In(time.FixedZone("", 3600*(1+rng.IntN(2)))).Format(time.RFC3339)
	}
	description := ""
	if rng.IntN(2) == 0 {
		description = strings.TrimSuffix(sentence(rng), ".")
		description = strings.NewReplacer("`", "", "**", "").Replace(description)
	}
	author := ""
	if rng.IntN(3) == 0 {
		author = pick(rng, people)
	}
	lastmod := ""
	if rng.IntN(3) == 0 {
		lastmod = p.Date.Add(time.Duration(1+rng.IntN(40)) * 24 * time.Hour).Format(time.RFC3339)
	}
	if toml {
		fmt.Fprintf(&b, "+++\ntitle = %q\ndate = %s\n", p.Title, date)
		if lastmod != "" {
			fmt.Fprintf(&b, "lastmod = %s\n", lastmod)
		}
		fmt.Fprintf(&b, "tags = [%s]\n", strings.Join(q, ", "))
		if description != "" {
			fmt.Fprintf(&b, "description = %q\n", description)
		}
		if author != "" {
			fmt.Fprintf(&b, "\n[author]\nname = %q\n", author)
		}
		b.WriteString("+++\n\n")
	} else {
		fmt.Fprintf(&b, "---\ntitle: %q\ndate: %s\n", p.Title, date)
		if lastmod != "" {
			fmt.Fprintf(&b, "lastmod: %s\n", lastmod)
		}
		fmt.Fprintf(&b, "tags: [%s]\n", strings.Join(q, ", "))
		if description != "" {
			fmt.Fprintf(&b, "description: %q\n", description)
		}
		if author != "" {
			fmt.Fprintf(&b, "author: %q\n", author)
		}
		b.WriteString("---\n\n")
	}
	start := b.Len()
	b.WriteString(paragraph(rng, 2+rng.IntN(3)))
	for b.Len()-start < size {
		b.WriteString("\n\n")
		b.WriteString(block(rng, older))
	}
	b.WriteString("\n")
	return []byte(b.String())
}
