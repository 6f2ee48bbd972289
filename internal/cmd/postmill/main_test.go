package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/awstest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMain(m *testing.M) { awstest.Main(m) }

// testNow is the fixed clock of every test: after the expired sample
// post expired, before the scheduled one is due.
var testNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// syncBuffer is an output a running preview writes to while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testApp is the command with a fixed clock and the environment env
// instead of the process's.
func testApp(env map[string]string) (*app, *syncBuffer, *syncBuffer) {
	var stdout, stderr syncBuffer
	a := newApp(&stdout, &stderr)
	a.lookup = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	a.now = func() time.Time { return testNow }
	a.pollEvery = 20 * time.Millisecond
	return a, &stdout, &stderr
}

// postmill runs the command line args in an empty environment and
// returns what it printed and its exit status.
func postmill(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	a, out, errOut := testApp(env)
	code = a.run(t.Context(), args)
	return out.String(), errOut.String(), code
}

func TestRun(t *testing.T) {
	t.Run("help prints the usage and succeeds", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"help"}, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
		}
		golden(t, "help.golden", stdout.String())
	})
	t.Run("help for a command lists its flags", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"help", "publish"}, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
		}
		for _, want := range []string{"usage: postmill publish [-bucket NAME]", "-wait", "-bucket", "-endpoint", "-root"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("help publish lacks %q:\n%s", want, stdout.String())
			}
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no command", nil, "Usage:"},
		{"unknown command", []string{"deploy"}, `unknown command "deploy"`},
		{"check without files", []string{"check"}, "no files to check"},
		{"bad flag", []string{"check", "-nope", "x.md"}, "flag provided but not defined: -nope"},
		{"preview of two folders", []string{"preview", "a", "b"}, "one folder at a time"},
		{"status without a post", []string{"status"}, "no post named"},
	} {
		t.Run(tc.name+" is a usage error", func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr.String())
			}
		})
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff shows the lines that differ, marked - (want) and + (got).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n- " + wl + "\n+ " + gl + "\n")
		}
	}
	return b.String()
}

// wantLines compares output with the expected lines exactly.
func wantLines(t *testing.T, what, got string, want ...string) {
	t.Helper()
	exp := strings.Join(want, "\n")
	if len(want) > 0 {
		exp += "\n"
	}
	if got != exp {
		t.Errorf("%s:\n%s", what, lineDiff(exp, got))
	}
}

// writeFiles writes files (path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
