package cdn

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPaths(t *testing.T) {
	tests := []struct {
		name      string
		keys      []string
		threshold int
		want      []string
	}{
		{"home page in both forms", []string{"index.html"}, 10, []string{"/", "/index.html"}},
		{"folder page in both forms", []string{"tags/go/index.html", "tags/go/index.xml"}, 10, []string{"/tags/go/", "/tags/go/index.html", "/tags/go/index.xml"}},
		{"unicode and spaces escaped", []string{"tags/über/index.html", "posts/a b.png"}, 10, []string{"/posts/a%20b.png", "/tags/%C3%BCber/", "/tags/%C3%BCber/index.html"}},
		{"duplicates once", []string{"index.xml", "index.xml"}, 10, []string{"/index.xml"}},
		{"over the threshold collapses to a wildcard", []string{"a/index.html", "b/index.html"}, 3, []string{"/*"}},
		{"nothing changed", nil, 10, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Paths(tt.keys, tt.threshold); !slices.Equal(got, tt.want) {
				t.Errorf("Paths(%v) = %v, want %v", tt.keys, got, tt.want)
			}
		})
	}
}

type invalidation struct {
	distribution, ref string
	paths             []string
}

type fakeAPI struct {
	in []invalidation
}

func (f *fakeAPI) CreateInvalidation(_ context.Context, distribution, ref string, paths []string) error {
	f.in = append(f.in, invalidation{distribution, ref, paths})
	return nil
}

func TestInvalidateSendsOneBatch(t *testing.T) {
	api := &fakeAPI{}
	v := New(api, "E123", 0, func() time.Time { return time.Unix(0, 42) })
	if err := v.Invalidate(context.Background(), []string{"index.html", "index.xml"}); err != nil {
		t.Fatal(err)
	}
	if len(api.in) != 1 || api.in[0].distribution != "E123" || !slices.Equal(api.in[0].paths, []string{"/", "/index.html", "/index.xml"}) ||
		!strings.HasPrefix(api.in[0].ref, "postmill-42-") {
		t.Fatalf("unexpected calls %+v", api.in)
	}
	if err := v.Invalidate(context.Background(), nil); err != nil || len(api.in) != 1 {
		t.Errorf("empty key list should send nothing")
	}
}
