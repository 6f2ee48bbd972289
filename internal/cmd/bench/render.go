package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/post"
	"github.com/postmill/postmill/internal/site"
)

// renderRun is our render throughput over some posts.
type renderRun struct {
	Posts     int
	Wall, CPU time.Duration
}

// renderPosts parses, compiles and renders the page of each post, as a
// publish does, on one core: GOMAXPROCS=1 for the duration, so the
// garbage collector shares that core too.
func renderPosts(r *site.Renderer, posts []srcPost) (renderRun, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	cfg := r.Config()
	runtime.GC()
	cpu0, start := cpuTime(), time.Now()
	for _, sp := range posts {
		p, err := post.Parse(sp.Key, sp.Body, post.Options{Location: cfg.Location, Permalink: cfg.Permalink, ModTime: sp.Date})
		if err != nil {
			return renderRun{}, fmt.Errorf("parse %s: %w", sp.Key, err)
		}
		e, err := r.Compile(p, 1)
		if err != nil {
			return renderRun{}, err
		}
		if _, err := r.PageFile(e, site.Nav{}); err != nil {
			return renderRun{}, err
		}
		if _, err := r.AliasFiles(&catalog.Record{Key: sp.Key, Rev: 1, Status: "published", Entry: e, Aliases: p.Aliases}); err != nil {
			return renderRun{}, err
		}
	}
	return renderRun{Posts: len(posts), Wall: time.Since(start), CPU: cpuTime() - cpu0}, nil
}

func (r renderRun) perCPUSecond() float64 {
	if r.CPU <= 0 {
		return 0
	}
	return float64(r.Posts) / r.CPU.Seconds()
}
