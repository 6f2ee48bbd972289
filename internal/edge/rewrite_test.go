package edge_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/postmill/postmill/internal/edge"
)

// rewriteCases is the file shared with the CloudFront Function's tests.
var rewriteCases = filepath.Join("..", "..", "testdata", "edge", "rewrite-cases.json")

func TestRewrite(t *testing.T) {
	b, err := os.ReadFile(rewriteCases)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name string `json:"name"`
			URI  string `json:"uri"`
			Want string `json:"want"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatalf("%s: %v", rewriteCases, err)
	}
	if len(file.Cases) == 0 {
		t.Fatalf("%s has no cases", rewriteCases)
	}
	for _, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if got := edge.Rewrite(c.URI); got != c.Want {
				t.Errorf("Rewrite(%q) = %q, want %q", c.URI, got, c.Want)
			}
		})
	}
}
