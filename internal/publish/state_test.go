package publish

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/postmill/postmill/internal/catalog"
)

// listingState is what a catalog holds for each listing: per month, the
// keys in it, read from the month shards of the head's epoch, or from the
// head itself while the listing is compact.
func listingState(t *testing.T, state map[string]string) map[string]string {
	t.Helper()
	heads := map[string]*catalog.Head{}
	for k, v := range state {
		if strings.HasSuffix(k, "/head.json") {
			var h catalog.Head
			if err := json.Unmarshal([]byte(v), &h); err != nil {
				t.Fatal(err)
			}
			heads[h.Listing] = &h
		}
	}
	byMonth := map[string][]string{} // "listing month" → keys
	for _, h := range heads {
		if h.Compact() {
			for _, e := range h.Entries {
				byMonth[h.Listing+" "+e.Month] = append(byMonth[h.Listing+" "+e.Month], e.Key)
			}
		}
	}
	for k, v := range state {
		if !strings.Contains(k, "/lists/") || strings.HasSuffix(k, "/head.json") {
			continue
		}
		var m catalog.Month
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			t.Fatal(err)
		}
		h := heads[m.Listing]
		if h == nil || h.Compact() || h.Epoch != m.Epoch {
			continue
		}
		for _, e := range m.Entries {
			byMonth[m.Listing+" "+m.Month] = append(byMonth[m.Listing+" "+m.Month], e.Key)
		}
	}
	out := map[string]string{}
	for lm, keys := range byMonth {
		sort.Strings(keys)
		out[lm] = strings.Join(keys, ",")
	}
	return out
}

// compareState asserts two catalogs list the same keys in every month of
// every listing, however each stores them.
func compareState(t *testing.T, got, want map[string]string) {
	t.Helper()
	g, w := listingState(t, got), listingState(t, want)
	for lm, keys := range w {
		if g[lm] != keys {
			t.Errorf("catalog %s holds [%s]; a clean build holds [%s]", lm, g[lm], keys)
		}
	}
	for lm, keys := range g {
		if _, ok := w[lm]; !ok && keys != "" {
			t.Errorf("catalog %s holds [%s]; a clean build has nothing there", lm, keys)
		}
	}
}

// headKeys lists, per listing, the keys its head holds, for diagnosis.
func headKeys(t *testing.T, state map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range state {
		if strings.HasSuffix(k, "/head.json") {
			var h catalog.Head
			if err := json.Unmarshal([]byte(v), &h); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, e := range h.Entries {
				keys = append(keys, e.Key+"@"+e.Published.Format("01-02"))
			}
			var ms []string
			for _, m := range h.LiveMonths() {
				ms = append(ms, m.Month+":"+fmt.Sprint(m.Count))
			}
			out[h.Listing] = strings.Join(keys, ",") + " months " + strings.Join(ms, ",")
		}
	}
	return out
}
