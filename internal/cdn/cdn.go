// Package cdn turns changed site keys into CloudFront invalidation paths
// and sends one invalidation per batch.
//
// It knows how the site maps keys to URLs ("a/index.html" is served as
// "/a/" too); it does not decide what changed. Client makes CloudFront's
// CreateInvalidation call as one signed HTTPS request (package awsrest)
// rather than through the SDK's CloudFront client, which would add 5 MB
// to the function for this one call.
package cdn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// DefaultThreshold is how many paths one invalidation lists before it is
// collapsed to "/*". CloudFront charges per path beyond a free allowance,
// and a wildcard counts as one.
const DefaultThreshold = 50

// Paths returns the sorted, de-duplicated URL paths to invalidate for the
// changed keys: "a/b/index.html" → "/a/b/" and "/a/b/index.html".
// Above threshold paths it returns just "/*".
func Paths(keys []string, threshold int) []string {
	set := map[string]bool{}
	for _, k := range keys {
		p := "/" + escape(k)
		set[p] = true
		if k == "index.html" || strings.HasSuffix(k, "/index.html") {
			set[strings.TrimSuffix(p, "index.html")] = true
		}
	}
	if threshold > 0 && len(set) > threshold {
		return []string{"/*"}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// escape percent-encodes a key as CloudFront expects paths, keeping "/".
func escape(k string) string {
	return (&url.URL{Path: k}).EscapedPath()
}

// API is the CloudFront call used here; Client makes it.
type API interface {
	// CreateInvalidation asks the distribution to drop the paths. The
	// caller reference makes retries of one invalidation idempotent.
	CreateInvalidation(ctx context.Context, distribution, callerReference string, paths []string) error
}

// Invalidator sends invalidations for one distribution.
type Invalidator struct {
	api          API
	distribution string
	threshold    int
	clock        func() time.Time
}

// New returns an invalidator for distribution.
func New(api API, distribution string, threshold int, clock func() time.Time) *Invalidator {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if clock == nil {
		clock = time.Now
	}
	return &Invalidator{api: api, distribution: distribution, threshold: threshold, clock: clock}
}

// Invalidate sends one invalidation for the keys.
func (v *Invalidator) Invalidate(ctx context.Context, keys []string) error {
	paths := Paths(keys, v.threshold)
	if len(paths) == 0 {
		return nil
	}
	sum := sha256.Sum256([]byte(strings.Join(paths, "\n")))
	ref := fmt.Sprintf("postmill-%d-%s", v.clock().UnixNano(), hex.EncodeToString(sum[:8]))
	if err := v.api.CreateInvalidation(ctx, v.distribution, ref, paths); err != nil {
		return fmt.Errorf("invalidate %d paths on %s: %w", len(paths), v.distribution, err)
	}
	return nil
}
