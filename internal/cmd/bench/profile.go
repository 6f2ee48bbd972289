package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
)

// profiles are the files written and their top functions.
type profiles struct {
	Files []string
	Tops  []string // go tool pprof -top, one per profile
}

// profileRuns is how many publishes the publish profile covers.
const profileRuns = 40

// profile runs the one-publish path (in-process against the in-memory
// site, so the engine and not the emulator is what shows) and the render
// path under pprof.
func profile(ctx context.Context, o options, s *memSite, c *corpus) (*profiles, error) {
	t, err := memTarget(s)
	if err != nil {
		return nil, err
	}
	t.noGC = true
	r, err := newRenderer()
	if err != nil {
		return nil, err
	}
	ps := &profiles{}
	writeHeap := func(path string) error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.GC()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	var memBase string
	if o.memprofile != "" {
		memBase = suffixed(o.memprofile, "base")
		if err := writeHeap(memBase); err != nil {
			return nil, err
		}
	}
	paths := []struct {
		name string
		run  func() error
	}{
		{"publish", func() error {
			for i := 0; i < profileRuns; i++ {
				if _, err := t.publishNew(ctx, c.newPost(1000+i, measuredTags(c, 1000+i))); err != nil {
					return err
				}
			}
			return nil
		}},
		{"render", func() error {
			_, err := renderPosts(r, c.Posts[:min(len(c.Posts), o.renderMax)])
			return err
		}},
	}
	for _, p := range paths {
		var cpuFile *os.File
		if o.cpuprofile != "" {
			path := suffixed(o.cpuprofile, p.name)
			if cpuFile, err = os.Create(path); err != nil {
				return nil, err
			}
			if err := pprof.StartCPUProfile(cpuFile); err != nil {
				return nil, err
			}
			ps.Files = append(ps.Files, path)
		}
		err := p.run()
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
			ps.Tops = append(ps.Tops, top(ctx, "cpu, "+p.name, "", cpuFile.Name()))
		}
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", p.name, err)
		}
		if o.memprofile != "" {
			path := suffixed(o.memprofile, p.name)
			if err := writeHeap(path); err != nil {
				return nil, err
			}
			ps.Files = append(ps.Files, path)
			ps.Tops = append(ps.Tops, top(ctx, "allocated bytes, "+p.name, memBase, path))
			memBase = path
		}
	}
	return ps, nil
}

// suffixed turns "cpu.pprof" into "cpu.publish.pprof".
func suffixed(path, name string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + name + ext
}

// top is `go tool pprof -top` of a profile, the difference from base if
// there is one; an explanation when go is not there to run it.
func top(ctx context.Context, title, base, path string) string {
	args := []string{"tool", "pprof", "-top", "-nodecount=10"}
	if base != "" {
		args = append(args, "-sample_index=alloc_space", "-base", base)
	}
	out, err := exec.CommandContext(ctx, "go", append(args, path)...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s: go tool pprof: %v\n%s", title, err, out)
	}
	return title + " (" + path + ")\n" + string(out)
}
