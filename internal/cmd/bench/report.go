package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/cdn"
)

// report gathers every measurement and renders the table.
type report struct {
	opts        options
	machine     string
	loadAfter   string
	hugoVersion string
	emulator    string
	endpoint    string
	artifacts   *artifacts
	coldStarts  []time.Duration
	sizes       []*sizeResult
	profiles    *profiles
	took        time.Duration
}

// describeMachine says what the numbers were measured on.
func describeMachine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
		f.Close()
	}
	mem := ""
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				var kb int64
				fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
				mem = fmt.Sprintf(", %.1f GiB memory", float64(kb)/(1<<20))
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%d × %s%s, %s/%s, %s; load average at start %s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version(), loadAverage())
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

// Formatting helpers.

func ms(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < 10*time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

func size(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func kinds(c blob.Counts) string {
	return fmt.Sprintf("%d (%d/%d/%d/%d/%d)", c.Requests(), c.Get, c.Put, c.Head, c.List, c.Delete)
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", b/a)
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// row is one line of the table: a cell per size, then ratio, target, met.
type row struct {
	measure string
	cells   []string
	ratio   string
	target  string
	met     string
}

func (r *report) perSize(f func(*sizeResult) string) []string {
	out := make([]string, len(r.sizes))
	for i, s := range r.sizes {
		out[i] = f(s)
	}
	return out
}

// sizeRatio is last ÷ first of a measure.
func (r *report) sizeRatio(f func(*sizeResult) float64) string {
	if len(r.sizes) < 2 {
		return "–"
	}
	return ratio(f(r.sizes[0]), f(r.sizes[len(r.sizes)-1]))
}

func (r *report) last() *sizeResult { return r.sizes[len(r.sizes)-1] }

// once puts a size-independent value in the first column.
func (r *report) once(v string) []string {
	out := make([]string, len(r.sizes))
	out[0] = v
	for i := 1; i < len(out); i++ {
		out[i] = "″"
	}
	return out
}

func (r *report) rows() []row {
	first, last := r.sizes[0], r.last()
	within := func(f func(*sizeResult) float64) bool {
		return f(last) <= 1.5*f(first)
	}
	pubReq := func(s *sizeResult) float64 { return float64(s.Ops.Publish.Counts.Requests()) }
	pubRead := func(s *sizeResult) float64 { return float64(s.Ops.Publish.Counts.BytesRead) }
	pubWritten := func(s *sizeResult) float64 { return float64(s.Ops.Publish.Counts.BytesWritten) }
	op := func(o summary) string {
		return fmt.Sprintf("%s · %s · %s / %s · %d paths", ms(o.Wall), kinds(o.Counts), size(o.Counts.BytesRead), size(o.Counts.BytesWritten), o.Paths)
	}

	rows := []row{
		{measure: "Corpus: posts · tags used (vocabulary) · months · source size",
			cells: r.perSize(func(s *sizeResult) string {
				return fmt.Sprintf("%s · %d (%d) · %d · %s", count(s.N), s.TagsUsed, s.Vocab, s.Months, size(s.SourceBytes))
			})},
		{measure: "Posts with the most popular tag (“Go”)",
			cells: r.perSize(func(s *sizeResult) string {
				return fmt.Sprintf("%s (%.0f%%)", count(s.TopTagPosts), 100*float64(s.TopTagPosts)/float64(s.N))
			})},
		{measure: "Site in the emulator: loaded by · objects · time",
			cells: r.perSize(func(s *sizeResult) string {
				return fmt.Sprintf("%s · %s · %s", s.Baseline, count(s.BaselineObjects), ms(s.BaselineTime))
			})},
		{measure: fmt.Sprintf("**Publish a new post, 3 tags** (1 popular, 2 rare): handler time, median of %d [min–max]", last.Ops.Publish.Runs),
			cells: r.perSize(func(s *sizeResult) string {
				p := s.Ops.Publish
				return fmt.Sprintf("%s [%s–%s]", ms(p.Wall), ms(p.WallMin), ms(p.WallMax))
			}),
			ratio: r.sizeRatio(func(s *sizeResult) float64 { return float64(s.Ops.Publish.Wall) })},
		{measure: "… S3 requests: total (GET/PUT/HEAD/LIST/DELETE) [min–max of the runs]",
			cells: r.perSize(func(s *sizeResult) string {
				p := s.Ops.Publish
				return fmt.Sprintf("%s [%d–%d]", kinds(p.Counts), p.ReqMin, p.ReqMax)
			}),
			ratio:  r.sizeRatio(pubReq),
			target: "< 40; ≤ 1.5× across sizes",
			met:    yes(pubReq(last) < 40 && within(pubReq))},
		{measure: "… bytes read / written",
			cells: r.perSize(func(s *sizeResult) string {
				return size(s.Ops.Publish.Counts.BytesRead) + " / " + size(s.Ops.Publish.Counts.BytesWritten)
			}),
			ratio:  r.sizeRatio(pubRead) + " / " + r.sizeRatio(pubWritten),
			target: "≤ 1.5× across sizes",
			met:    yes(within(pubRead) && within(pubWritten))},
		{measure: "… site files written · CloudFront invalidation paths",
			cells: r.perSize(func(s *sizeResult) string {
				return fmt.Sprintf("%d · %d", s.Ops.Publish.Written, s.Ops.Publish.Paths)
			}),
			ratio: r.sizeRatio(func(s *sizeResult) float64 { return float64(s.Ops.Publish.Paths) })},
		{measure: "… CPU time of our process (engine + SDK), median",
			cells: r.perSize(func(s *sizeResult) string { return ms(s.Ops.Publish.CPU) }),
			ratio: r.sizeRatio(func(s *sizeResult) float64 { return float64(s.Ops.Publish.CPU) })},
		{measure: "… CPU time of the engine alone (in-process, memblob), median",
			cells: r.perSize(func(s *sizeResult) string { return ms(s.EngineCPU.CPU) }),
			ratio: r.sizeRatio(func(s *sizeResult) float64 { return float64(s.EngineCPU.CPU) })},
		{measure: "**Edit** a mid-site post (body + lastmod): time · requests · bytes r/w · paths",
			cells: r.perSize(func(s *sizeResult) string { return op(s.Ops.Edit) }),
			ratio: r.sizeRatio(func(s *sizeResult) float64 { return float64(s.Ops.Edit.Counts.Requests()) })},
		{measure: "**Delete** a mid-site post: time · requests · bytes r/w · paths",
			cells: r.perSize(func(s *sizeResult) string { return op(s.Ops.Delete) }),
			ratio: r.sizeRatio(func(s *sizeResult) float64 { return float64(s.Ops.Delete.Counts.Requests()) })},
		{measure: "**Bulk import** of all N posts at once: path",
			cells: r.perSize(func(s *sizeResult) string {
				return s.Import.Path
			})},
		{measure: "… wall time · invocations · keys retried",
			cells: r.perSize(func(s *sizeResult) string {
				return fmt.Sprintf("%s · %s · %d", ms(s.Import.Wall), count(s.Import.Invocations), s.Import.Retried)
			})},
		{measure: "… S3 requests per post · bytes per post read / written",
			cells: r.perSize(func(s *sizeResult) string {
				n := int64(s.N)
				return fmt.Sprintf("%.1f · %s / %s", float64(s.Import.Counts.Requests())/float64(n), size(s.Import.Counts.BytesRead/n), size(s.Import.Counts.BytesWritten/n))
			}),
			ratio: r.sizeRatio(func(s *sizeResult) float64 { return float64(s.Import.Counts.Requests()) / float64(s.N) })},
	}

	if a := r.artifacts; a != nil {
		rows = append(rows, row{measure: "Function size (any N): bootstrap linux/arm64 · render.zip",
			cells:  r.once(fmt.Sprintf("%.1f MB · %.1f MB", a.LambdaMB, a.ZipMB)),
			target: "binary < 20 MB", met: yes(a.LambdaMB < 20)})
	}
	if n := len(r.coldStarts); n > 0 {
		med := r.coldStarts[n/2]
		rows = append(rows, row{measure: fmt.Sprintf("Cold start (any N): exec → first Runtime API poll, median of %d [min–max]", n),
			cells:  r.once(fmt.Sprintf("%s [%s–%s]", ms(med), ms(r.coldStarts[0]), ms(r.coldStarts[n-1]))),
			target: "< 50 ms", met: yes(med < 50*time.Millisecond)})
	}
	if m := last.Mem; m != nil {
		cells := make([]string, len(r.sizes))
		for i := range cells {
			cells[i] = "–"
		}
		cells[len(cells)-1] = fmt.Sprintf("peak heap %s (live before %s; GC goal ≤ %s) · allocated %s · peak RSS %s · %d requests, %s",
			size(int64(m.PeakHeap)), size(int64(m.Baseline)), size(int64(m.PeakGoal)), size(int64(m.Allocated)), size(int64(m.PeakRSS)), m.Requests, ms(time.Duration(m.MS)*time.Millisecond))
		rows = append(rows, row{measure: "**Memory**: one batch of 10 publishes in a fresh process wired like the function",
			cells: cells, target: "peak heap < 64 MB", met: yes(m.PeakHeap < 64<<20)})
	}

	hugo := func(f func(*sizeResult) string) []string {
		return r.perSize(func(s *sizeResult) string {
			if s.Hugo == nil {
				return "–"
			}
			return f(s)
		})
	}
	if r.hugoVersion != "" {
		hugoCPU := func(s *sizeResult) float64 {
			if s.Hugo == nil {
				return 0
			}
			return float64(s.Hugo.CPU)
		}
		ourCPU := func(s *sizeResult) time.Duration { return max(s.Ops.Publish.CPU, s.EngineCPU.CPU) }
		times := func(s *sizeResult) float64 {
			if s.Hugo == nil || ourCPU(s) <= 0 {
				return 0
			}
			return float64(s.Hugo.CPU) / float64(ourCPU(s))
		}
		rows = append(rows,
			row{measure: fmt.Sprintf("**Hugo %s** full build (`hugo --quiet`, all cores): wall · CPU · HTML pages", r.hugoVersion),
				cells: hugo(func(s *sizeResult) string {
					return fmt.Sprintf("%s · %s · %s", ms(s.Hugo.Wall), ms(s.Hugo.CPU), count(s.Hugo.Pages))
				}),
				ratio: r.sizeRatio(hugoCPU)},
			row{measure: "Hugo full-build CPU ÷ our one-publish CPU (the larger of the two above)",
				cells:  hugo(func(s *sizeResult) string { return fmt.Sprintf("%.0f×", times(s)) }),
				target: "≥ 100× at the largest N", met: func() string {
					if last.Hugo == nil {
						return "–"
					}
					return yes(times(last) >= 100)
				}()},
			row{measure: "Render throughput per core, ours: posts per CPU-second (Parse + Compile + PageFile + AliasFiles, GOMAXPROCS=1)",
				cells: r.perSize(func(s *sizeResult) string {
					return fmt.Sprintf("%.0f (%s posts)", s.Render.perCPUSecond(), count(s.Render.Posts))
				})},
			row{measure: "Render throughput per core, Hugo: HTML pages (posts) per CPU-second (GOMAXPROCS=1, HUGO_NUMWORKERMULTIPLIER=1)",
				cells: hugo(func(s *sizeResult) string {
					h := s.HugoOnCore
					return fmt.Sprintf("%.0f (%.0f)", float64(h.Pages)/h.CPU.Seconds(), float64(s.N)/h.CPU.Seconds())
				})},
			row{measure: "Ours ÷ Hugo's pages per CPU-second",
				cells: hugo(func(s *sizeResult) string {
					return fmt.Sprintf("%.2f", s.Render.perCPUSecond()/(float64(s.HugoOnCore.Pages)/s.HugoOnCore.CPU.Seconds()))
				}),
				target: "≥ 1", met: func() string {
					if last.HugoOnCore == nil {
						return "–"
					}
					h := last.HugoOnCore
					return yes(last.Render.perCPUSecond() >= float64(h.Pages)/h.CPU.Seconds())
				}()},
		)
	}
	return rows
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s; load average at end %s. Emulator: %s. Whole run: %s.\n\n", r.machine, r.loadAfter, r.emulator, ms(r.took))
	b.WriteString("| Measure |")
	for _, s := range r.sizes {
		fmt.Fprintf(&b, " N=%s |", count(s.N))
	}
	ratioHead := "ratio"
	if len(r.sizes) > 1 {
		ratioHead = fmt.Sprintf("%s/%s", short(r.last().N), short(r.sizes[0].N))
	}
	fmt.Fprintf(&b, " %s | Target | Met |\n|---|", ratioHead)
	for range r.sizes {
		b.WriteString("---|")
	}
	b.WriteString("---|---|---|\n")
	for _, row := range r.rows() {
		fmt.Fprintf(&b, "| %s |", row.measure)
		for _, c := range row.cells {
			fmt.Fprintf(&b, " %s |", c)
		}
		fmt.Fprintf(&b, " %s | %s | %s |\n", row.ratio, row.target, row.met)
	}
	b.WriteString("\nNotes:\n\n")
	for _, n := range r.notes() {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	return b.String()
}

// short writes 10000 as 10k.
func short(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func (r *report) notes() []string {
	o := r.opts
	var sizesEvent, sizesCopied []string
	for _, s := range r.sizes {
		if s.Baseline == "event path" {
			sizesEvent = append(sizesEvent, count(s.N))
		} else {
			sizesCopied = append(sizesCopied, count(s.N))
		}
	}
	notes := []string{
		fmt.Sprintf("Corpus: seed %d; posts shaped like testdata/posts (TOML or YAML front matter, headings, lists, code blocks, a table, links, quotes), bodies 3–12 KB; about two posts a week back from %s, so a month holds about nine posts at any N; 1–4 tags a post, Zipf (s=1.1, v=3) over a vocabulary of 30 + 3·√N tags.", o.seed, corpusEnd.Format("2 January 2006")),
	}
	if len(sizesEvent) > 0 {
		notes = append(notes, fmt.Sprintf("Baseline site at N=%s: built through the event path (the bulk import row), then checked object for object (ETags) against a clean in-process build.", strings.Join(sizesEvent, ", ")))
	}
	if len(sizesCopied) > 0 {
		notes = append(notes, fmt.Sprintf("Baseline site at N=%s: built by the engine in-process against memblob (the bulk import row), then the source bucket (posts and all state under _postmill/ but the authors' status objects) copied into the emulator with 32 concurrent PUTs; S3 computes the same ETags (MD5), so the state's recorded source ETags hold. The site bucket is left empty: a first delivery writes site files and never reads them (only careful passes, not measured here, do), so the measured requests and bytes are the same as over a full site.", strings.Join(sizesCopied, ", ")))
	}
	notes = append(notes,
		"Publish, edit and delete go through handler.HandleSQS (one SQS message carrying the S3 notification) into publish.New over s3store buckets wrapped in blob.NewCounter, with an S3 client configured as functions/render configures its own; requests and bytes are the counters' (payload bytes, not HTTP overhead). Handler time is wall time around HandleSQS against the emulator on this machine: moto answers in milliseconds, S3 in tens of milliseconds, so on AWS it is dominated by request latency. The author's upload is not counted.",
		fmt.Sprintf("The measured posts are dated just after the newest post (so they lead the home page and feeds) and tagged with the most popular tag and two of the rarest; each of the %d runs uses different rare tags. The edited post is the middle one by date, the deleted one next to it.", o.repeats),
		fmt.Sprintf("Invalidation paths: cdn.Paths of the keys the handler hands to CloudFront (written and deleted), not collapsed; above %d the function sends one “/*” instead.", cdn.DefaultThreshold),
		fmt.Sprintf("Event-path imports: the posts are uploaded 16 at a time; S3 notifications go to SQS (visibility timeout %d s here instead of production's 6 × 60 s, max receive %d, dead-letter queue checked empty); internal/pump feeds batches of 10 to %d render bootstraps run through the Lambda Runtime API (internal/lambdart); requests and bytes are summed from the function's JSON “batch” log lines. In-process imports run engines over one memblob, failed keys redelivered carefully; their wall time is CPU-bound on this machine's cores, not on S3.", eventVisibility, eventMaxReceive, o.workers),
		"Function size: built with the Makefile's flags (CGO_ENABLED=0 GOOS=linux GOARCH=arm64, -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\"), zipped like `zip -X -D`. Cold start: the same source built for this machine, started by lambdart with a configuration its init accepts (nothing in init touches the network), time from exec to the first GET of /runtime/invocation/next.",
		"Memory: a child process set up exactly as the function (awsenv.Load from the same environment, s3store, counters, renderer, handler) handles one SQS batch of 10 new posts against the largest site; heap sampled every 200 µs (runtime/metrics heap objects), plus the final MemStats; default GOGC.",
		"Our CPU per publish: rusage of this process (user + system, all threads) around the call, after a forced GC; “engine + SDK” is the publish against the emulator (our side only, not moto's), “engine alone” the same posts against memblob.",
		"Hugo: the same files under content/posts, config with tags only, the same permalinks, 10 posts a page, RSS of the newest 20, minimal baseof/single/list/terms layouts; CPU is the child's user + system time. Our render throughput is measured in this process on one P over the first posts of the corpus; Hugo's counts every HTML page it wrote (posts, list and pager pages, tags), per CPU-second of the whole build.",
	)
	if r.profiles != nil {
		notes = append(notes, "Profiles: "+strings.Join(r.profiles.Files, ", ")+" (publish: "+fmt.Sprint(profileRuns)+" publishes in-process against memblob at the largest N; render: the render throughput run). Top functions are printed on stderr.")
	}
	return notes
}
