package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/blob/memblob"
	"github.com/postmill/postmill/internal/edge"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/site"
)

var previewCommand = &command{
	name:  "preview",
	args:  "[-addr 127.0.0.1:1313] [-headers FILE] [-watch] [DIR]",
	short: "render a folder of posts and serve it as the CDN would",
	long: `Preview publishes every file in DIR (default testdata/posts) with the
function's engine into in-memory buckets, each at "posts/" + its path in
DIR (a page bundle keeps its folder), and serves the site with the local
CDN: the same rewrites, response headers, 404 page and compression as
production.

SITE_BASE_URL defaults to the preview's own address, so links work; the
other settings come from the environment, as in the function. Preview
prints the problems of posts that would be rejected, then
"preview: http://ADDR/", and serves until interrupted.

With -watch it looks at DIR every second and publishes again what was
added, changed or removed, so a reload shows the edit.`,
	setup: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		addr := fs.String("addr", "127.0.0.1:1313", "the address to serve on")
		headers := fs.String("headers", "infra/cloudfront/security-headers.json", "the distribution's response headers policy")
		watch := fs.Bool("watch", false, "publish changes to DIR again as they are saved")
		return func(ctx context.Context, a *app, args []string) int {
			dir := "testdata/posts"
			switch len(args) {
			case 0:
			case 1:
				dir = args[0]
			default:
				return a.usageError("preview", "one folder at a time, got %d", len(args))
			}
			if err := a.preview(ctx, dir, *addr, *headers, *watch); err != nil {
				return a.fail("preview", err)
			}
			return exitOK
		}
	},
}

func (a *app) preview(ctx context.Context, dir, addr, headersFile string, watch bool) error {
	if st, err := os.Stat(dir); err != nil {
		return err
	} else if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	headers, err := edge.LoadHeaders(headersFile)
	if err != nil {
		return fmt.Errorf("%w (run from the repository root, or pass -headers)", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String() + "/"
	cfg, err := site.Load(func(k string) (string, bool) {
		v, ok := a.lookup(k)
		if k == "SITE_BASE_URL" && strings.TrimSpace(v) == "" {
			return base, true
		}
		return v, ok
	})
	if err != nil {
		return err
	}
	r, err := site.NewRenderer(cfg)
	if err != nil {
		return err
	}
	src, dst := memblob.New(memblob.WithClock(a.now)), memblob.New(memblob.WithClock(a.now))
	pv := &previewer{app: a, dir: dir, root: defaultRoot(dir), src: src, cfg: cfg, eng: publish.New(src, dst, r, publish.Options{Clock: a.now})}
	if err := pv.sync(ctx, false); err != nil {
		return err
	}

	srv := &http.Server{
		Handler: edge.New(dst, headers, edge.WithErrorHandler(func(r *http.Request, err error) {
			fmt.Fprintf(a.stderr, "preview: %s: %v\n", r.URL.Path, err)
		})),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(a.stdout, "preview: %s\n", base)

	var tick <-chan time.Time
	if watch {
		t := time.NewTicker(a.pollEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(shut)
		case err := <-served:
			return err
		case <-tick:
			if err := pv.sync(ctx, true); err != nil {
				fmt.Fprintf(a.stderr, "preview: %v\n", err)
			}
		}
	}
}

// previewer keeps the in-memory source bucket in line with a folder.
type previewer struct {
	app  *app
	dir  string
	root string // what keys are relative to: dir, unless it is a page bundle
	src  *memblob.Bucket
	eng  *publish.Engine
	cfg  site.Config
	seen map[string]stamp  // by key, as last published
	path map[string]string // key → local path, deleted files included
}

// stamp is what tells a changed file: editors rewrite, so the size or
// the modification time moves.
type stamp struct {
	size    int64
	modTime time.Time
}

// sync publishes what changed in the folder since the last call. The
// first call reports only rejected posts; later calls (verbose) say what
// became of every changed file.
func (pv *previewer) sync(ctx context.Context, verbose bool) error {
	now := map[string]stamp{}
	if pv.path == nil {
		pv.path = map[string]string{}
	}
	err := filepath.WalkDir(pv.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != pv.dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		key, err := sourceKey(pv.root, abs)
		if err != nil {
			return err
		}
		now[key] = stamp{info.Size(), info.ModTime()}
		pv.path[key] = p
		return nil
	})
	if err != nil {
		return err
	}
	var changes []publish.Change
	for key, st := range now {
		if old, ok := pv.seen[key]; ok && old == st {
			continue
		}
		data, err := os.ReadFile(pv.path[key])
		if errors.Is(err, fs.ErrNotExist) {
			delete(now, key) // gone since the walk: the next round sees it
			continue
		}
		if err != nil {
			return err
		}
		f := localFile{key: key}
		if _, err := pv.src.Write(ctx, key, data, &blob.WriteOptions{ContentType: f.contentType()}); err != nil {
			return err
		}
		changes = append(changes, publish.Change{Key: key})
	}
	for key := range pv.seen {
		if _, ok := now[key]; !ok {
			if err := pv.src.Delete(ctx, key, nil); err != nil {
				return err
			}
			changes = append(changes, publish.Change{Key: key})
		}
	}
	pv.seen = now
	if len(changes) == 0 {
		return nil
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Key < changes[j].Key })
	res := pv.eng.Apply(ctx, changes)
	a := pv.app
	for _, o := range res.Outcomes {
		file := pv.path[o.Key]
		switch {
		case o.Err != nil:
			fmt.Fprintf(a.stderr, "preview: %s: %v\n", file, o.Err)
		case o.Status == "rejected":
			for _, p := range o.Problems {
				fmt.Fprintln(a.stdout, localProblem(p, o.Key, file))
			}
		case !verbose:
		case o.Status == "published":
			fmt.Fprintf(a.stdout, "%s: published at %s\n", file, pv.cfg.URL(o.Path))
		case o.Status == "asset":
			fmt.Fprintf(a.stdout, "%s: updated\n", file)
		default:
			fmt.Fprintf(a.stdout, "%s: %s\n", file, o.Status)
		}
	}
	return nil
}

// localProblem puts the local path in place of the key a problem line
// starts with, so an editor can open it.
func localProblem(line, key, file string) string {
	if rest, ok := strings.CutPrefix(line, key+":"); ok {
		return file + ":" + rest
	}
	return line
}
