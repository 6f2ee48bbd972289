package main

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/postmill/postmill/internal/lambdart"
)

// lambdaFlags are the Makefile's GOFLAGS_LAMBDA: what `make build` ships.
var lambdaFlags = []string{"-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid="}

// build compiles the render function for goos/goarch with the flags the
// Makefile uses, from the module at root.
func build(ctx context.Context, root, out, goos, goarch string) error {
	args := append(append([]string{"build"}, lambdaFlags...), "-o", out, "./functions/render")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build (%s/%s): %v\n%s", goos, goarch, err, out)
	}
	return nil
}

// zipBootstrap writes the deployment zip as the Makefile's `zip -X -D`
// does: one entry, no extra attributes, a fixed timestamp.
func zipBootstrap(bin, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	in, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := io.Copy(w, in); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// artifacts are the function's binaries, built into a scratch directory.
type artifacts struct {
	Lambda    string // linux/arm64, what is deployed
	Zip       string
	Host      string // this machine's, for the Runtime API
	LambdaMB  float64
	ZipMB     float64
	BuildTime time.Duration
}

func buildArtifacts(ctx context.Context, root, dir string) (*artifacts, error) {
	a := &artifacts{
		Lambda: filepath.Join(dir, "lambda", "render", "bootstrap"),
		Zip:    filepath.Join(dir, "render.zip"),
		Host:   filepath.Join(dir, "local", "render", "bootstrap"),
	}
	start := time.Now()
	if err := build(ctx, root, a.Lambda, "linux", "arm64"); err != nil {
		return nil, err
	}
	if err := zipBootstrap(a.Lambda, a.Zip); err != nil {
		return nil, err
	}
	if err := build(ctx, root, a.Host, hostOS(), hostArch()); err != nil {
		return nil, err
	}
	a.BuildTime = time.Since(start)
	for _, f := range []struct {
		path string
		mb   *float64
	}{{a.Lambda, &a.LambdaMB}, {a.Zip, &a.ZipMB}} {
		fi, err := os.Stat(f.path)
		if err != nil {
			return nil, err
		}
		*f.mb = float64(fi.Size()) / (1 << 20)
	}
	return a, nil
}

// coldStarts starts the host bootstrap n times, each time with a fresh
// process and a configuration its init accepts, and returns each start's
// time from exec to its first request for an invocation.
func coldStarts(ctx context.Context, bootstrap string, env []string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < n; i++ {
		logs := &syncBuffer{}
		p, err := lambdart.Start(ctx, bootstrap, env, logs, lambdart.WithFunctionName("render"))
		if err != nil {
			return nil, fmt.Errorf("cold start: %w\n%s", err, logs.String())
		}
		out = append(out, p.ColdStart())
		p.Stop()
	}
	slices.Sort(out)
	return out, nil
}
