package post_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/post"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// parsed is what a golden file records of a parse: every field of the
// post, its visibility at a fixed moment, or the problems.
type parsed struct {
	Key         string      `json:"key"`
	Format      string      `json:"format,omitempty"`
	Title       string      `json:"title,omitempty"`
	Description string      `json:"description,omitempty"`
	Summary     string      `json:"summary,omitempty"`
	Author      post.Author `json:"author,omitzero"`
	Draft       bool        `json:"draft,omitempty"`
	Date        string      `json:"date,omitempty"`
	PublishDate string      `json:"publishDate,omitempty"`
	Lastmod     string      `json:"lastmod,omitempty"`
	ExpiryDate  string      `json:"expiryDate,omitempty"`
	Slug        string      `json:"slug,omitempty"`
	URL         string      `json:"url,omitempty"`
	Path        string      `json:"path,omitempty"`
	Aliases     []string    `json:"aliases,omitempty"`
	Tags        []string    `json:"tags,omitempty"`
	TagSlugs    []string    `json:"tagSlugs,omitempty"`
	Categories  []string    `json:"categories,omitempty"`
	BodyLine    int         `json:"bodyLine,omitempty"`
	Body        string      `json:"body,omitempty"`
	Visibility  string      `json:"visibility,omitempty"`
	NextChange  string      `json:"nextChange,omitempty"`
	Problems    []string    `json:"problems,omitempty"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// TestParseGolden parses each testdata/parse/*.md as posts/NAME.md of a
// site in Europe/Amsterdam, and compares the result with NAME.golden.
// Run "go test -run TestParseGolden -update" after a deliberate change.
func TestParseGolden(t *testing.T) {
	ams := amsterdam(t)
	now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := post.Options{Location: ams, ModTime: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)}
	files, err := filepath.Glob(filepath.Join("testdata", "parse", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/parse/*.md files")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".md")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			key := "posts/" + name + ".md"
			got := parsed{Key: key}
			p, err := post.Parse(key, src, opts)
			var perr *post.Error
			switch {
			case errors.As(err, &perr):
				got.Problems = perr.Lines()
			case err != nil:
				t.Fatalf("Parse error %v is not a *post.Error", err)
			default:
				v := p.VisibleAt(now)
				got = parsed{
					Key: p.Key, Format: string(p.Format), Title: p.Title, Description: p.Description, Summary: p.Summary,
					Author: p.Author, Draft: p.Draft,
					Date: rfc3339(p.Date), PublishDate: rfc3339(p.PublishDate), Lastmod: rfc3339(p.Lastmod), ExpiryDate: rfc3339(p.ExpiryDate),
					Slug: p.Slug, URL: p.URL, Path: p.Path, Aliases: p.Aliases, Tags: p.Tags, TagSlugs: p.SortedTagSlugs(), Categories: p.Categories,
					BodyLine: p.BodyLine, Body: string(p.Body),
					Visibility: v.Reason, NextChange: rfc3339(p.NextChange(now)),
				}
				if v.Published {
					got.Visibility = "published"
				}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			out := buf.Bytes()
			golden := filepath.Join("testdata", "parse", name+".golden")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("Parse(%s) differs from %s (run go test -update if the change is intended):\n%s", file, golden, lineDiff(string(want), string(out)))
			}
		})
	}
}

// lineDiff shows the lines where want and got differ, each with its line
// number: enough to read a golden file mismatch without a diff tool.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "%4d - %s\n%4d + %s\n", i+1, wl, i+1, gl)
		}
	}
	return b.String()
}
