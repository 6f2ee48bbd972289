package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// samplePosts is the repository's sample site.
const samplePosts = "../../../testdata/posts"

func TestCheckSamplePostsAreValid(t *testing.T) {
	// The zone shows settings come from the environment: dates in notes
	// are the site's.
	stdout, stderr, code := postmill(t, map[string]string{"TIME_ZONE": "Europe/Amsterdam"}, "check", samplePosts)
	if code != exitOK {
		t.Errorf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	wantLines(t, "stdout", stdout,
		samplePosts+"/draft-ebpf-notes.md: note: draft, not published",
		samplePosts+"/kubecon-2031-preview.md: note: scheduled for 2031-03-20T09:00:00+01:00, not published until then",
		samplePosts+"/meetup-announcement-2022.md: note: expired on 2022-10-01T00:00:00+02:00, not published",
	)
	wantLines(t, "stderr", stderr)
}

func TestCheckRejects(t *testing.T) {
	const ok = "---\ntitle: Fine\ndate: 2024-01-02\n---\nText.\n"
	for _, tc := range []struct {
		name  string
		env   map[string]string
		files map[string]string
		args  []string // default: the files, sorted
		want  []string
	}{
		{
			name:  "bad TOML at its line",
			files: map[string]string{"bad.md": "+++\ntitle = \"A\"\ndate = 2024-01-02\ntags = [\"x\"\n+++\nText.\n"},
			want:  []string{"bad.md:4: invalid TOML front matter: array is incomplete"},
		},
		{
			name:  "no title",
			files: map[string]string{"untitled.md": "---\ndate: 2024-01-02\n---\nText.\n"},
			want:  []string{"untitled.md:1: the front matter has no title"},
		},
		{
			name:  "no front matter",
			files: map[string]string{"bare.md": "Just text.\n"},
			want:  []string{`bare.md:1: no front matter: a post needs at least a title, e.g. +++\ntitle = "…"\n+++`},
		},
		{
			name:  "bad date at its line",
			files: map[string]string{"late.md": "---\ntitle: Late\ndate: yesterday\n---\nText.\n"},
			want:  []string{`late.md:3: date: cannot read "yesterday" as a date; use RFC 3339 like 2019-11-01T09:00:00+01:00, or 2019-11-01`},
		},
		{
			name:  "every problem of a file",
			files: map[string]string{"many.md": "---\ndate: soon\ndraft: maybe\n---\nText.\n"},
			want: []string{
				"many.md:1: the front matter has no title",
				`many.md:3: draft: want true or false, got "maybe"`,
				`many.md:2: date: cannot read "soon" as a date; use RFC 3339 like 2019-11-01T09:00:00+01:00, or 2019-11-01`,
			},
		},
		{
			name:  "empty file",
			files: map[string]string{"empty.md": ""},
			want:  []string{"empty.md:1: the file is empty"},
		},
		{
			name:  "over the size limit",
			files: map[string]string{"big.md": "---\ntitle: Big\n---\n" + strings.Repeat("x", 5<<20)},
			want:  []string{"big.md:1: the file is 5.0 MiB; posts may be at most 256.0 KiB"},
		},
		{
			name: "two posts with one url",
			files: map[string]string{
				"a.md": "---\ntitle: A\nurl: /same/\ndate: 2024-01-02\n---\nText.\n",
				"b.md": "---\ntitle: B\nurl: /same\ndate: 2024-01-02\n---\nText.\n",
			},
			want: []string{"b.md:1: path /same/ is claimed by both a.md and b.md"},
		},
		{
			name: "an alias onto another post's page",
			files: map[string]string{
				"a.md": "---\ntitle: A\nurl: /same/\ndate: 2024-01-02\n---\nText.\n",
				"b.md": "---\ntitle: B\naliases: [/same/index.html]\ndate: 2024-01-02\n---\nText.\n",
			},
			want: []string{"b.md:1: path /same/index.html is claimed by both a.md and b.md"},
		},
		{
			name: "the first file named keeps the path",
			files: map[string]string{
				"a.md": "---\ntitle: A\nurl: /same/\ndate: 2024-01-02\n---\nText.\n",
				"b.md": "---\ntitle: B\nurl: /same/\ndate: 2024-01-02\n---\nText.\n",
			},
			args: []string{"b.md", "a.md"},
			want: []string{"a.md:1: path /same/ is claimed by both b.md and a.md"},
		},
		{
			name: "paths follow PERMALINK from the environment",
			env:  map[string]string{"PERMALINK": "/:slug/"},
			files: map[string]string{
				"2023.md": "---\ntitle: Hello\ndate: 2023-05-01\n---\nText.\n",
				"2024.md": "---\ntitle: Hello\ndate: 2024-05-01\n---\nText.\n",
			},
			want: []string{"2024.md:1: path /hello/ is claimed by both 2023.md and 2024.md"},
		},
		{
			name: "two files stored at one key",
			files: map[string]string{
				"one/post.md": ok,
				"two/post.md": ok,
			},
			want: []string{"two/post.md:1: one/post.md and two/post.md would both be stored as posts/post.md"},
		},
		{
			name: "a broken post next to a draft and a valid one",
			files: map[string]string{
				"draft.md": "---\ntitle: Draft\ndraft: true\n---\nText.\n",
				"fine.md":  ok,
				"x.md":     "---\ntitle: [\n---\nText.\n",
			},
			want: []string{
				"draft.md: note: draft, not published",
				"x.md:3: invalid YAML front matter: did not find expected node content",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			writeFiles(t, ".", tc.files)
			args := tc.args
			if args == nil {
				for name := range tc.files {
					args = append(args, name)
				}
				slices.Sort(args)
			}
			stdout, stderr, code := postmill(t, tc.env, append([]string{"check"}, args...)...)
			if code != exitProblem {
				t.Errorf("exit %d, want %d", code, exitProblem)
			}
			wantLines(t, "stdout", stdout, tc.want...)
			wantLines(t, "stderr", stderr)
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "a draft claims no path",
			files: map[string]string{
				"a.md": "---\ntitle: A\nurl: /same/\ndate: 2024-01-02\n---\nText.\n",
				"b.md": "---\ntitle: B\nurl: /same/\ndraft: true\n---\nText.\n",
			},
			want: []string{"b.md: note: draft, not published"},
		},
		{
			name: "a page bundle with its picture",
			files: map[string]string{
				"talk/index.md":    "---\ntitle: Talk\ndate: 2024-01-02\n---\n![x](./slide.png)\n",
				"talk/slide.png":   "\x89PNG",
				"talk/.index.swp":  "editor junk",
				"notes/.DS_Store":  "finder junk",
				"another/index.md": "---\ntitle: Another\ndate: 2024-01-02\n---\nText.\n",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			writeFiles(t, ".", tc.files)
			stdout, stderr, code := postmill(t, nil, "check", ".")
			if code != exitOK {
				t.Errorf("exit %d, want 0", code)
			}
			wantLines(t, "stdout", stdout, tc.want...)
			wantLines(t, "stderr", stderr)
		})
	}
}

func TestCheckCannotRead(t *testing.T) {
	stdout, stderr, code := postmill(t, nil, "check", filepath.Join(t.TempDir(), "missing.md"))
	if code != exitProblem {
		t.Errorf("exit %d, want %d", code, exitProblem)
	}
	wantLines(t, "stdout", stdout)
	if !strings.Contains(stderr, "missing.md: no such file or directory") {
		t.Errorf("stderr does not say the file is missing:\n%s", stderr)
	}
}

func TestCheckBadSettings(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.md": "---\ntitle: A\n---\n"})
	_, stderr, code := postmill(t, map[string]string{"TIME_ZONE": "Mars/Olympus"}, "check", filepath.Join(dir, "a.md"))
	if code != exitProblem {
		t.Errorf("exit %d, want %d", code, exitProblem)
	}
	if !strings.Contains(stderr, `TIME_ZONE: unknown time zone "Mars/Olympus"`) {
		t.Errorf("stderr does not name the bad setting:\n%s", stderr)
	}
}

func TestSourceKeys(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"drafts/velocity.md":        "",
		"drafts/talk/index.md":      "",
		"drafts/talk/slides.pdf":    "",
		"drafts/talk/img/stage.jpg": "",
		"site/posts/2024/a.md":      "",
	})
	t.Chdir(dir)
	for _, tc := range []struct {
		name string
		root string
		args []string
		want []string // key per file, in order
	}{
		{"a file is keyed by its name", "", []string{"drafts/velocity.md"}, []string{"posts/velocity.md"}},
		{"a bundle keeps its folder", "", []string{"drafts/talk/index.md", "drafts/talk/slides.pdf", "drafts/talk/img/stage.jpg"},
			[]string{"posts/talk/index.md", "posts/talk/slides.pdf", "posts/talk/img/stage.jpg"}},
		{"a folder is its own root", "", []string{"drafts"},
			[]string{"posts/talk/img/stage.jpg", "posts/talk/index.md", "posts/talk/slides.pdf", "posts/velocity.md"}},
		{"a bundle named as a folder keeps its name", "", []string{"drafts/talk"},
			[]string{"posts/talk/img/stage.jpg", "posts/talk/index.md", "posts/talk/slides.pdf"}},
		{"-root keeps the folders below it", "site/posts", []string{"site/posts/2024/a.md"}, []string{"posts/2024/a.md"}},
		{"a file named twice is one file", "", []string{"drafts/velocity.md", "./drafts/velocity.md"}, []string{"posts/velocity.md"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := collect(tc.args, tc.root)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range files {
				got = append(got, f.key)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("keys %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("a file outside -root is an error", func(t *testing.T) {
		_, err := collect([]string{"drafts/velocity.md"}, "site")
		if err == nil || !strings.Contains(err.Error(), "not inside the root folder site") {
			t.Errorf("err = %v, want one about the root", err)
		}
	})
}

func TestPublishRefusesRejectedPosts(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.md": "---\ndate: 2024-01-02\n---\n"})
	// No emulator needed: nothing is uploaded, so no client is made.
	stdout, stderr, code := postmill(t, nil, "publish", "-bucket", "nowhere", filepath.Join(dir, "a.md"))
	if code != exitProblem {
		t.Errorf("exit %d, want %d", code, exitProblem)
	}
	wantLines(t, "stdout", stdout, filepath.Join(dir, "a.md")+":1: the front matter has no title")
	wantLines(t, "stderr", stderr, "postmill publish: nothing uploaded: fix the problems above")
}
