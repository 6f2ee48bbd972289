package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/catalog"
)

// RebuildReport says what a rebuild did.
type RebuildReport struct {
	Keys     int      // source keys and records looked at
	Failed   []string // keys to retry
	Written  int
	Deleted  int      // files rewritten or removed by the careful pass
	Orphans  []string // site files no state accounts for, deleted
	Rejected []string // posts that cannot be published, with reasons
}

// Rebuild brings the whole site in line with the source bucket, as after
// a change of theme or settings: every post is read and rendered again,
// every derived file is compared with what is stored, and files that no
// longer belong to anything are deleted. It is safe to run while events
// are being processed.
func (e *Engine) Rebuild(ctx context.Context, batch int) (RebuildReport, error) {
	if batch <= 0 {
		batch = 25
	}
	keys := map[string]bool{}
	srcObjs, err := blob.ListAll(ctx, e.src, e.opt.PostsPrefix)
	if err != nil {
		return RebuildReport{}, fmt.Errorf("list sources: %w", err)
	}
	for _, o := range srcObjs {
		keys[o.Key] = true
	}
	// Records whose sources are gone must be applied too, to unpublish.
	recPrefix := e.stateKey("posts/")
	recs, err := blob.ListAll(ctx, e.src, recPrefix)
	if err != nil {
		return RebuildReport{}, fmt.Errorf("list records: %w", err)
	}
	for _, o := range recs {
		name := strings.TrimSuffix(strings.TrimPrefix(o.Key, recPrefix), ".json")
		if k, err := url.PathUnescape(name); err == nil {
			keys[k] = true
		}
	}
	ordered := make([]string, 0, len(keys))
	for k := range keys {
		ordered = append(ordered, k)
	}
	sort.Strings(ordered)

	rep := RebuildReport{Keys: len(ordered)}
	for i := 0; i < len(ordered); i += batch {
		var cs []Change
		for _, k := range ordered[i:min(i+batch, len(ordered))] {
			cs = append(cs, Change{Key: k, Careful: true})
		}
		res := e.Apply(ctx, cs)
		rep.Written += len(res.Written)
		rep.Deleted += len(res.Deleted)
		for _, o := range res.Outcomes {
			if o.Err != nil {
				rep.Failed = append(rep.Failed, o.Key+": "+o.Err.Error())
			}
			if o.Status == "rejected" {
				rep.Rejected = append(rep.Rejected, strings.Join(o.Problems, "; "))
			}
		}
	}
	if len(rep.Failed) > 0 {
		return rep, fmt.Errorf("%d keys failed; not collecting orphans", len(rep.Failed))
	}
	orphans, err := e.collectOrphans(ctx)
	rep.Orphans = orphans
	return rep, err
}

// collectOrphans deletes site files that no record, head or month
// accounts for: leftovers of settings or theme changes, or of writers
// that died before the pending-list era of their post.
func (e *Engine) collectOrphans(ctx context.Context) ([]string, error) {
	want := map[string]bool{}
	objs, err := blob.ListAll(ctx, e.src, e.opt.StatePrefix)
	if err != nil {
		return nil, err
	}
	heads := map[string]*catalog.Head{}
	var months []*catalog.Month
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, e.opt.StatePrefix)
		switch {
		case strings.HasPrefix(rest, "posts/"):
			var r catalog.Record
			if err := e.read(ctx, o.Key, &r); err != nil {
				return nil, err
			}
			for _, k := range e.ownedKeys(&r) {
				want[k] = true
			}
		case strings.HasPrefix(rest, "lists/") && strings.HasSuffix(rest, "/head.json"):
			var h catalog.Head
			if err := e.read(ctx, o.Key, &h); err != nil {
				return nil, err
			}
			heads[h.Listing] = &h
		case strings.HasPrefix(rest, "lists/"):
			var m catalog.Month
			if err := e.read(ctx, o.Key, &m); err != nil {
				return nil, err
			}
			months = append(months, &m)
		}
	}
	for _, h := range heads {
		files, err := e.r.HeadFiles(h)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			want[f.Key] = true
		}
	}
	for _, m := range months {
		h := heads[m.Listing]
		if h == nil || h.Compact() || m.Epoch != h.Epoch {
			continue // shards of a conversion that lost its race
		}
		files, err := e.r.MonthFiles(h, m)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			want[f.Key] = true
		}
	}
	// Loose assets (outside bundles) are published at their own key.
	srcObjs, err := blob.ListAll(ctx, e.src, e.opt.PostsPrefix)
	if err != nil {
		return nil, err
	}
	for _, o := range srcObjs {
		if !strings.HasSuffix(strings.ToLower(o.Key), ".md") {
			want[o.Key] = true
		}
	}
	have, err := blob.ListAll(ctx, e.dst, "")
	if err != nil {
		return nil, err
	}
	var orphans []string
	for _, o := range have {
		if want[o.Key] {
			continue
		}
		if err := e.dst.Delete(ctx, o.Key, nil); err != nil {
			return orphans, fmt.Errorf("delete %s: %w", o.Key, err)
		}
		orphans = append(orphans, o.Key)
	}
	return orphans, nil
}

func (e *Engine) read(ctx context.Context, key string, v any) error {
	data, _, err := e.src.ReadAtMost(ctx, key, maxStateBytes)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}
