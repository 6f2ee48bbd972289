package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/postmill/postmill/internal/permalink"
	"github.com/postmill/postmill/internal/post"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/site"
)

var checkCommand = &command{
	name:  "check",
	args:  "[-root DIR] FILE|DIR...",
	short: "find what the function would reject, as file:line: problem",
	long: `Check validates posts with the code the function publishes them with:
the front matter is read with the site's settings from the environment
(permalink pattern, time zone) and the Markdown is rendered. It prints
"file:line: problem" for each problem, as editors understand it, using
the file's path as given.

Like the function, it rejects a post over 4 MiB, and two posts that want
the same page path or alias ("path /x/ is claimed by both a.md and b.md").
It compares only the files it is given: a clash with a post already on
the site shows in "postmill status" after the upload.

A valid post that will not be published yet says so in a note: a draft,
a post scheduled for a later date, or one that has expired. Unlike the
function, check renders drafts and scheduled posts too, so that their
problems show before they go live.

Files that are not Markdown are published as they are; check only makes
sure they are not too large. The exit status is 1 when any file would be
rejected.`,
	setup: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		root := fs.String("root", "", "the folder source keys are relative to (default: see \"postmill help\")")
		return func(ctx context.Context, a *app, args []string) int {
			if len(args) == 0 {
				return a.usageError("check", "no files to check")
			}
			files, err := collect(args, *root)
			if err != nil {
				return a.fail("check", err)
			}
			ck, err := a.checker(a.lookup)
			if err != nil {
				return a.fail("check", err)
			}
			if ck.report(a.stdout, ck.check(files)) {
				return exitProblem
			}
			return exitOK
		}
	},
}

// checker validates posts the way the function does.
type checker struct {
	cfg site.Config
	r   *site.Renderer
	now time.Time
}

func (a *app) checker(lookup func(string) (string, bool)) (*checker, error) {
	cfg, err := site.Load(lookup)
	if err != nil {
		return nil, err
	}
	r, err := site.NewRenderer(cfg)
	if err != nil {
		return nil, err
	}
	return &checker{cfg: cfg, r: r, now: a.now()}, nil
}

// verdict is what check found in one file.
type verdict struct {
	file     localFile
	post     *post.Post // when the post is valid
	problems []string   // "file:line: problem"
	note     string     // why a valid post will not be published
}

// check looks at every file, then at what they claim together.
func (c *checker) check(files []localFile) []verdict {
	vs := make([]verdict, len(files))
	for i, f := range files {
		vs[i] = c.checkFile(f)
	}
	c.checkClaims(vs)
	return vs
}

func (c *checker) checkFile(f localFile) verdict {
	v := verdict{file: f}
	if !f.isPost() {
		// The function skips an asset over the limit without a word.
		if f.size > publish.DefaultMaxAsset {
			v.problems = []string{fmt.Sprintf("%s:1: the file is %s; files may be at most %s", f.path, publish.FormatSize(f.size), publish.FormatSize(publish.DefaultMaxAsset))}
		}
		return v
	}
	if f.size > publish.DefaultMaxPostBytes {
		// The function's words, so the author meets them only once.
		v.problems = []string{fmt.Sprintf("%s:1: the file is %s; posts may be at most %s", f.path, publish.FormatSize(f.size), publish.FormatSize(publish.DefaultMaxPostBytes))}
		return v
	}
	src, err := os.ReadFile(f.path)
	if err != nil {
		v.problems = []string{fmt.Sprintf("%s:1: %v", f.path, err)}
		return v
	}
	p, err := post.Parse(f.key, src, post.Options{Location: c.cfg.Location, Permalink: c.cfg.Permalink, ModTime: f.modTime})
	if err == nil {
		_, err = c.r.Compile(p, 1)
	}
	if err != nil {
		v.problems = problemLines(f.path, err)
		return v
	}
	v.post = p
	switch vis := p.VisibleAt(c.now); vis.Reason {
	case "":
	case "draft":
		v.note = "draft, not published"
	case "scheduled":
		v.note = "scheduled for " + c.date(p.PublishDate) + ", not published until then"
	case "expired":
		v.note = "expired on " + c.date(p.ExpiryDate) + ", not published"
	default:
		v.note = vis.Reason + ", not published"
	}
	return v
}

func (c *checker) date(t time.Time) string { return t.In(c.cfg.Location).Format(time.RFC3339) }

// problemLines formats a parse or render error with the file's path in
// place of its key.
func problemLines(file string, err error) []string {
	var pe *post.Error
	if errors.As(err, &pe) {
		named := *pe
		named.Key = file
		return named.Lines()
	}
	return []string{file + ":1: " + err.Error()}
}

// checkClaims finds what the function would reject for the company a post
// keeps: two files stored at one key, and two published posts wanting one
// page. The first file named keeps what it claims, as the first uploaded
// would.
func (c *checker) checkClaims(vs []verdict) {
	keys := map[string]string{}  // key → file
	pages := map[string]string{} // site file → file
	for i := range vs {
		v := &vs[i]
		if first, ok := keys[v.file.key]; ok {
			v.problems = append(v.problems, fmt.Sprintf("%s:1: %s and %s would both be stored as %s", v.file.path, first, v.file.path, v.file.key))
			v.post, v.note = nil, ""
			continue
		}
		keys[v.file.key] = v.file.path
		if v.post == nil || v.note != "" {
			continue // only published posts claim paths
		}
		paths := append([]string{v.post.Path}, v.post.Aliases...)
		for _, p := range paths {
			// "/a/" and "/a/index.html" are one page.
			if first, ok := pages[permalink.File(p)]; ok {
				v.problems = append(v.problems, fmt.Sprintf("%s:1: path %s is claimed by both %s and %s", v.file.path, p, first, v.file.path))
			}
		}
		if len(v.problems) > 0 {
			v.post = nil
			continue
		}
		for _, p := range paths {
			pages[permalink.File(p)] = v.file.path
		}
	}
}

// report prints problems and notes in file order, and reports whether
// there were problems.
func (c *checker) report(w io.Writer, vs []verdict) (rejected bool) {
	for _, v := range vs {
		for _, p := range v.problems {
			fmt.Fprintln(w, p)
			rejected = true
		}
		if v.note != "" {
			fmt.Fprintf(w, "%s: note: %s\n", v.file.path, v.note)
		}
	}
	return rejected
}
