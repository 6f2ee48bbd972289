package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// hugoConfig makes Hugo build what postmill builds, as far as Hugo can:
// the same permalinks, tag taxonomy only, ten posts a page, feeds of the
// newest twenty, highlighting with classes.
const hugoConfig = `baseURL = "https://blog.example/"
title = "Field Notes"
languageCode = "en"
paginate = 10
timeZone = "UTC"

[taxonomies]
  tag = "tags"

[permalinks]
  posts = "/:year/:month/:day/:slug/"

[outputs]
  home = ["HTML", "RSS"]
  section = ["HTML", "RSS"]
  taxonomy = ["HTML"]
  term = ["HTML", "RSS"]

[services.rss]
  limit = 20

[markup.highlight]
  noClasses = false

[params]
  author = "Ada Lovelace"
`

// hugoLayouts are minimal but real: every page gets a full document, the
// post page its content, tags and dates, lists their summaries and pages.
var hugoLayouts = map[string]string{
	"_default/baseof.html": `<!DOCTYPE html>
<html lang="{{ .Site.LanguageCode }}">
<head>
<meta charset="utf-8">
<title>{{ if not .IsHome }}{{ .Title }} – {{ end }}{{ .Site.Title }}</title>
<link rel="canonical" href="{{ .Permalink }}">
{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .Permalink }}">{{ end }}
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ .Site.Title }}</a> <a href="{{ "/tags/" | relURL }}">Tags</a></header>
<main>{{ block "main" . }}{{ end }}</main>
<footer>{{ .Site.Params.author }}</footer>
</body>
</html>
`,
	"_default/single.html": `{{ define "main" }}<article>
<h1>{{ .Title }}</h1>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "2 January 2006" }}</time> · {{ .ReadingTime }} min read</p>
{{ with .GetTerms "tags" }}<ul class="tags">{{ range . }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>{{ end }}
{{ .Content }}
</article>{{ end }}
`,
	"_default/list.html": `{{ define "main" }}<h1>{{ .Title }}</h1>
{{ $pages := .Pages }}{{ if .IsHome }}{{ $pages = where .Site.RegularPages "Section" "posts" }}{{ end }}
{{ range (.Paginate $pages).Pages }}<article>
<h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<time>{{ .Date.Format "2 January 2006" }}</time>
{{ .Summary }}
</article>{{ end }}
{{ template "_internal/pagination.html" . }}
{{ end }}
`,
	"_default/terms.html": `{{ define "main" }}<h1>Tags</h1>
<ul>{{ range .Data.Terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> ({{ .Count }})</li>{{ end }}</ul>
{{ end }}
`,
}

// writeHugoSite writes c as a Hugo site under dir: the same files, byte
// for byte, under content/posts.
func writeHugoSite(dir string, c *corpus) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(hugoConfig), 0o644); err != nil {
		return err
	}
	for name, body := range hugoLayouts {
		p := filepath.Join(dir, "layouts", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	posts := filepath.Join(dir, "content", "posts")
	if err := os.MkdirAll(posts, 0o755); err != nil {
		return err
	}
	for _, p := range c.Posts {
		if err := os.WriteFile(filepath.Join(posts, filepath.Base(p.Key)), p.Body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// hugoRun is one full build.
type hugoRun struct {
	Wall, CPU time.Duration
	Pages     int // HTML pages written
}

// hugoVersion fails clearly when Hugo is missing.
func hugoVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "hugo", "version").Output()
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			return "", errors.New("hugo is not installed: `make bench` installs it (apt-get install -y hugo); or pass -hugo=false")
		}
		return "", fmt.Errorf("hugo version: %w", err)
	}
	if m := regexp.MustCompile(`v\d+\.\d+\.\d+\S*`).Find(out); m != nil {
		return string(m), nil
	}
	return strings.TrimSpace(string(out)), nil
}

// buildHugo runs `hugo --quiet` over the site in dir into a fresh
// destination, with extra environment, and times it.
func buildHugo(ctx context.Context, dir string, env ...string) (hugoRun, error) {
	dest, err := os.MkdirTemp("", "postmill-bench-hugo-public-")
	if err != nil {
		return hugoRun{}, err
	}
	defer os.RemoveAll(dest)
	cache, err := os.MkdirTemp("", "postmill-bench-hugo-cache-")
	if err != nil {
		return hugoRun{}, err
	}
	defer os.RemoveAll(cache)
	cmd := exec.CommandContext(ctx, "hugo", "--quiet", "--source", dir, "--destination", dest, "--cacheDir", cache)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return hugoRun{}, fmt.Errorf("hugo: %v\n%s", err, tail(stderr.String(), 2000))
	}
	run := hugoRun{Wall: time.Since(start), CPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	err = filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".html") {
			run.Pages++
		}
		return err
	})
	return run, err
}
