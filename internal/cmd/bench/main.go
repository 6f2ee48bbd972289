// Command bench measures what publishing costs as a site grows, and sets
// it beside a full Hugo build of the same posts. It generates seeded
// corpora of N posts, loads each as a site into the AWS emulator, and
// reports in one Markdown table: the S3 requests, bytes, handler time and
// invalidation paths of one publish, one edit and one delete; a bulk
// import; the function's size and cold start; the heap of a batch; Hugo's
// full build against our one publish; render throughput per core.
//
//	go run ./internal/cmd/bench                  # sizes 100,1000,10000 (about 15 minutes)
//	go run ./internal/cmd/bench -quick           # sizes 100,1000, fewer repeats (CI-sized)
//	go run ./internal/cmd/bench -out bench.md -cpuprofile cpu.pprof -memprofile mem.pprof
//
// It needs moto_server on the PATH (or an emulator at AWS_ENDPOINT_URL)
// and Hugo (`make bench` installs it). It is a measuring tool for people,
// not a test: it fails on errors, never on missed targets, which the
// table marks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postmill/postmill/internal/publish"
)

type options struct {
	sizes      []int
	quick      bool
	out        string
	seed       uint64
	repeats    int
	coldStarts int
	eventMax   int // largest N imported through the event path
	workers    int // function instances in the event path
	engines    int // engines in an in-process import
	batch      int // keys per in-process engine run
	hugo       bool
	hugoMax    int
	renderMax  int
	cpuprofile string
	memprofile string
}

func main() {
	var o options
	sizes := flag.String("sizes", "100,1000,10000", "site sizes, comma-separated")
	flag.BoolVar(&o.quick, "quick", false, "a CI-sized run: sizes 100,1000, fewer repeats, Hugo to 1000")
	flag.StringVar(&o.out, "out", "", "also write the table to this file")
	flag.Uint64Var(&o.seed, "seed", 1, "corpus seed")
	flag.IntVar(&o.repeats, "repeats", 5, "measured publishes per size")
	flag.IntVar(&o.coldStarts, "coldstarts", 10, "cold starts to take the median of")
	flag.IntVar(&o.eventMax, "event-max", 100, "largest size imported through the real event path; larger sizes are imported in-process and copied in")
	flag.IntVar(&o.workers, "workers", 4, "function instances in an event-path bulk import")
	flag.IntVar(&o.engines, "engines", 4, "engines at once in an in-process bulk import")
	flag.IntVar(&o.batch, "batch", 10, "keys per engine run in an in-process bulk import (10: an SQS batch)")
	flag.BoolVar(&o.hugo, "hugo", true, "compare with Hugo (needs hugo on PATH)")
	flag.IntVar(&o.hugoMax, "hugo-max", 10000, "largest size built with Hugo")
	flag.IntVar(&o.renderMax, "render-posts", 2000, "most posts in the render throughput run")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write CPU profiles of the publish and render paths to FILE.publish and FILE.render")
	flag.StringVar(&o.memprofile, "memprofile", "", "write allocation profiles of the publish and render paths to FILE.publish and FILE.render (FILE.base is the baseline)")
	child := flag.Bool("memory-child", false, "internal: measure one batch's memory")
	childSrc := flag.String("child-src", "", "internal")
	childDst := flag.String("child-dst", "", "internal")
	childKeys := flag.String("child-keys", "", "internal")
	flag.Parse()

	if *child {
		if err := memoryChild(*childSrc, *childDst, strings.Split(*childKeys, ",")); err != nil {
			fmt.Fprintln(os.Stderr, "bench: memory child:", err)
			os.Exit(1)
		}
		return
	}
	if o.quick {
		setDefault("sizes", sizes, "100,1000")
		setDefault("repeats", &o.repeats, 3)
		setDefault("coldstarts", &o.coldStarts, 5)
		setDefault("hugo-max", &o.hugoMax, 1000)
		setDefault("render-posts", &o.renderMax, 500)
		// The in-process import in SQS-sized batches costs half a CPU-minute
		// at N=1,000; -quick builds that site in big batches instead.
		setDefault("engines", &o.engines, 1)
		setDefault("batch", &o.batch, 250)
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 10 {
			fmt.Fprintf(os.Stderr, "bench: -sizes: %q is not a size of at least 10 posts\n", s)
			os.Exit(2)
		}
		o.sizes = append(o.sizes, n)
	}
	slices.Sort(o.sizes)
	if o.memprofile != "" {
		runtime.MemProfileRate = 64 << 10
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	table := rep.markdown()
	fmt.Print(table)
	if p := rep.profiles; p != nil {
		for _, t := range p.Tops {
			fmt.Fprintln(os.Stderr, t)
		}
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(table), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

// setDefault gives a flag the -quick value unless it was set explicitly.
func setDefault[T any](name string, dst *T, v T) {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	if !set {
		*dst = v
	}
}

func hostOS() string   { return runtime.GOOS }
func hostArch() string { return runtime.GOARCH }

// progress tells the person waiting what is going on, on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// every calls report every d until the returned stop is called, so a
// long step shows it is moving.
func every(d time.Duration, report func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				report()
			}
		}
	}()
	return func() { close(done) }
}

// moduleRoot is the directory of the postmill module, whose function the
// bench builds.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the bench from within the postmill module")
	}
	return filepath.Dir(gomod), nil
}

func run(ctx context.Context, o options) (*report, error) {
	began := time.Now()
	rep := &report{opts: o, machine: describeMachine()}
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	if o.hugo {
		if rep.hugoVersion, err = hugoVersion(ctx); err != nil {
			return nil, err
		}
	}

	scratch, err := os.MkdirTemp("", "postmill-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	progress("building the render function (linux/arm64 and %s/%s)", hostOS(), hostArch())
	art, err := buildArtifacts(ctx, root, filepath.Join(scratch, "dist"))
	if err != nil {
		return nil, err
	}
	rep.artifacts = art

	progress("starting the emulator")
	e, err := startEmulator(ctx)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	rep.endpoint = e.URL
	if e.cmd == nil {
		rep.emulator = "the emulator at AWS_ENDPOINT_URL"
	} else {
		rep.emulator = "moto_server, started by the bench"
	}

	progress("cold starts (%d)", o.coldStarts)
	env := e.functionEnv("postmill-bench-source", "postmill-bench-site")
	if rep.coldStarts, err = coldStarts(ctx, art.Host, env, o.coldStarts); err != nil {
		return nil, err
	}

	var last *memSite
	var lastCorpus *corpus
	for _, n := range o.sizes {
		res, mem, c, err := runSize(ctx, o, e, art, scratch, n, n == o.sizes[len(o.sizes)-1])
		if err != nil {
			return nil, fmt.Errorf("N=%d: %w", n, err)
		}
		rep.sizes = append(rep.sizes, res)
		last, lastCorpus = mem, c
	}
	if o.cpuprofile != "" || o.memprofile != "" {
		progress("profiling the publish and render paths at N=%d", len(lastCorpus.Posts))
		if rep.profiles, err = profile(ctx, o, last, lastCorpus); err != nil {
			return nil, err
		}
	}
	rep.took = time.Since(began)
	rep.loadAfter = loadAverage()
	return rep, nil
}

// sizeResult is everything measured at one size.
type sizeResult struct {
	N                int
	Vocab, TagsUsed  int
	Months           int
	SourceBytes      int64
	TopTagPosts      int
	Baseline         string
	BaselineObjects  int
	BaselineTime     time.Duration
	Import           importStats
	Ops              opResults // against the emulator, through the handler
	EngineCPU        summary   // in-process against memblob
	Mem              *memResult
	Render           renderRun
	Hugo, HugoOnCore *hugoRun
}

func runSize(ctx context.Context, o options, e *emulator, art *artifacts, scratch string, n int, largest bool) (*sizeResult, *memSite, *corpus, error) {
	c := generate(n, o.seed)
	res := &sizeResult{N: n, Vocab: len(c.Vocab), TagsUsed: len(c.tagCounts()), Months: c.months(), SourceBytes: c.bytes(),
		TopTagPosts: c.tagCounts()[c.Vocab[0]]}

	var mem *memSite
	var src, dst string
	var err error
	if n <= o.eventMax {
		progress("N=%d: bulk import through the event path", n)
		if src, dst, res.Import, err = importEvents(ctx, e, art.Host, c, o.workers); err != nil {
			return nil, nil, nil, err
		}
		progress("N=%d: checking the site against a clean in-process build", n)
		if mem, _, err = importInMemory(ctx, c, 1, 500); err != nil {
			return nil, nil, nil, err
		}
		got, err := etags(ctx, e.s3Bucket(dst), "")
		if err != nil {
			return nil, nil, nil, err
		}
		want, err := etags(ctx, mem.dst, "")
		if err != nil {
			return nil, nil, nil, err
		}
		if d := sameSite(got, want); d != "" {
			return nil, nil, nil, fmt.Errorf("the event path's site differs from a clean build: %s", d)
		}
		res.Baseline = "event path"
		res.BaselineObjects = len(got)
		res.BaselineTime = res.Import.Wall
	} else {
		progress("N=%d: bulk import in-process (memblob, %d engines, batches of %d)", n, o.engines, o.batch)
		if mem, res.Import, err = importInMemory(ctx, c, o.engines, o.batch); err != nil {
			return nil, nil, nil, err
		}
		progress("N=%d: copying the sources and state into the emulator", n)
		start := time.Now()
		if src, err = e.newBucket(ctx, "source"); err != nil {
			return nil, nil, nil, err
		}
		if dst, err = e.newBucket(ctx, "site"); err != nil {
			return nil, nil, nil, err
		}
		// The site bucket stays empty: a first delivery only writes
		// site files, it never reads them (careful passes do, and
		// none is measured here). Status objects are for authors.
		a, err := e.copyIn(ctx, src, mem.src, 32, publish.DefaultStatePrefix+"status/")
		if err != nil {
			return nil, nil, nil, err
		}
		res.Baseline = "copied"
		res.BaselineObjects, res.BaselineTime = a, time.Since(start)
	}

	progress("N=%d: publish ×%d, edit, delete against the emulator", n, o.repeats)
	t, err := s3Target(ctx, e, src, dst)
	if err != nil {
		return nil, nil, nil, err
	}
	if res.Ops, err = measureOps(ctx, t, c, o.repeats); err != nil {
		return nil, nil, nil, err
	}
	if res.EngineCPU, err = cpuOfPublish(ctx, mem, c, o.repeats); err != nil {
		return nil, nil, nil, err
	}
	if largest {
		progress("N=%d: heap of a batch of 10 publishes", n)
		var keys []string
		for i := 0; i < 10; i++ {
			p := c.newPost(100+i, measuredTags(c, 100+i))
			if err := e.put(ctx, src, p.Key, p.Body); err != nil {
				return nil, nil, nil, err
			}
			keys = append(keys, p.Key)
		}
		m, err := measureMemory(ctx, e, src, dst, keys)
		if err != nil {
			return nil, nil, nil, err
		}
		res.Mem = &m
	}

	progress("N=%d: render throughput on one core", n)
	r, err := newRenderer()
	if err != nil {
		return nil, nil, nil, err
	}
	if res.Render, err = renderPosts(r, c.Posts[:min(n, o.renderMax)]); err != nil {
		return nil, nil, nil, err
	}

	if o.hugo && n <= o.hugoMax {
		dir := filepath.Join(scratch, fmt.Sprintf("hugo-%d", n))
		if err := writeHugoSite(dir, c); err != nil {
			return nil, nil, nil, err
		}
		progress("N=%d: hugo full build", n)
		h, err := buildHugo(ctx, dir)
		if err != nil {
			return nil, nil, nil, err
		}
		res.Hugo = &h
		progress("N=%d: hugo full build on one core", n)
		h1, err := buildHugo(ctx, dir, "GOMAXPROCS=1", "HUGO_NUMWORKERMULTIPLIER=1")
		if err != nil {
			return nil, nil, nil, err
		}
		res.HugoOnCore = &h1
		os.RemoveAll(dir)
	}
	if !largest {
		mem = nil // let it go
	}
	return res, mem, c, nil
}
