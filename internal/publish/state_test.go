package publish

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/postmill/postmill/internal/catalog"
)

// compareState asserts two catalogs list the same keys in every month shard.
func compareState(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if !strings.Contains(k, "/lists/") || strings.HasSuffix(k, "head.json") {
			continue
		}
		var a, b catalog.Month
		json.Unmarshal([]byte(got[k]), &a)
		json.Unmarshal([]byte(w), &b)
		var ak, bk []string
		for _, e := range a.Entries {
			ak = append(ak, e.Key)
		}
		for _, e := range b.Entries {
			bk = append(bk, e.Key)
		}
		if strings.Join(ak, ",") != strings.Join(bk, ",") {
			t.Errorf("month shard %s holds %v; a clean build holds %v", k, ak, bk)
		}
	}
}
