package publish

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"path"
	"strings"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/permalink"
	"github.com/postmill/postmill/internal/post"
	"github.com/postmill/postmill/internal/site"
)

// fileKey is the site key of a page path.
func fileKey(p string) string { return permalink.File(p) }

// writeFiles writes what changed between before and after and deletes
// what after no longer has. Normally "changed" is judged by comparing the
// two renderings; a careful pass compares each file with the hash stored
// on the object instead, repairing whatever an earlier writer left.
func (e *Engine) writeFiles(ctx context.Context, before, after []site.File, careful bool, rc *recorder) error {
	var write []site.File
	var del []string
	if !careful {
		write, del = site.Diff(before, after)
	} else {
		keep := map[string]bool{}
		for _, f := range after {
			keep[f.Key] = true
			a, err := e.dst.Attributes(ctx, f.Key)
			if err != nil && !errors.Is(err, blob.ErrNotFound) {
				return fmt.Errorf("check %s: %w", f.Key, err)
			}
			if err == nil && a.Metadata[hashMeta] == f.Hash() {
				continue
			}
			write = append(write, f)
		}
		seen := map[string]bool{}
		for _, f := range before {
			if !keep[f.Key] && !seen[f.Key] {
				seen[f.Key] = true
				del = append(del, f.Key)
			}
		}
	}
	for _, f := range write {
		if err := e.put(ctx, f); err != nil {
			return err
		}
		rc.wrote(f.Key)
	}
	for _, k := range del {
		if err := e.dst.Delete(ctx, k, nil); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
		rc.removed(k)
	}
	return nil
}

// fileOptions are what a site file is written with: its type, cache
// policy and content hash.
func fileOptions(f site.File) *blob.WriteOptions {
	return &blob.WriteOptions{
		ContentType:  f.ContentType,
		CacheControl: f.CacheControl,
		Metadata:     map[string]string{hashMeta: f.Hash()},
	}
}

func (e *Engine) put(ctx context.Context, f site.File) error {
	_, err := e.dst.Write(ctx, f.Key, f.Body, fileOptions(f))
	if err != nil {
		return fmt.Errorf("write %s: %w", f.Key, err)
	}
	return nil
}

// finish writes a post's own files, deletes what its earlier versions
// left, and clears the record's pending list. If the record changed
// meanwhile, a newer writer is at work: go over its state carefully so
// nothing this run wrote outlives it.
func (e *Engine) finish(ctx context.Context, t *transition, rc *recorder) error {
	adopted := false
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var before []site.File
		var err error
		if !t.careful {
			if before, err = e.r.AliasFiles(t.old); err != nil {
				return err
			}
		}
		after, err := e.r.AliasFiles(t.rec)
		if err != nil {
			return err
		}
		for _, k := range t.deletes {
			before = append(before, site.File{Key: k})
		}
		if err := e.writeFiles(ctx, before, after, t.careful, rc); err != nil {
			return err
		}
		if err := e.restoreClaimed(ctx, t.deletes, rc); err != nil {
			return err
		}
		if err := e.copyAssets(ctx, t, rc); err != nil {
			return err
		}
		if err := e.writeStatus(ctx, t.old, t.rec, t.careful); err != nil {
			return err
		}
		if err := e.reschedule(ctx, t); err != nil {
			return err
		}
		if adopted || len(t.rec.Pending) == 0 && len(t.rec.PendingDeletes) == 0 && len(t.rec.Vacated) == 0 && len(t.rec.Unsettled) == 0 {
			// Nothing to clear (a newer version's pending list is its
			// writer's to clear: it may not have been through its
			// listings yet), so no conditional store to tell us
			// whether a newer version was recorded while we wrote its
			// status and schedule: look.
			moved, err := e.moved(ctx, catalog.RecordName(t.key), t.etag)
			if err != nil || !moved {
				return err
			}
		} else {
			done := *t.rec
			done.Pending, done.PendingDeletes, done.Vacated, done.Unsettled = nil, nil, nil, nil
			tag, err := e.store(ctx, catalog.RecordName(t.key), &done, t.etag)
			if err == nil {
				t.rec, t.etag = &done, tag
				return nil
			}
			if !errors.Is(err, blob.ErrPreconditionFailed) {
				return fmt.Errorf("store record of %s: %w", t.key, err)
			}
		}
		// A newer version was recorded. It carries our places and
		// deletes in its pending list, so its writer repairs the
		// listings; we make sure the post's own files, status and
		// schedule are its.
		var cur catalog.Record
		tag, err := e.load(ctx, catalog.RecordName(t.key), &cur)
		if err != nil {
			return fmt.Errorf("load record of %s: %w", t.key, err)
		}
		t.old, t.rec, t.etag, t.careful, adopted = t.rec, &cur, tag, true, true
		t.deletes = without(mergeStrings(cur.PendingDeletes, e.orphans(t.old, &cur)), e.ownedKeys(&cur))
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return fmt.Errorf("finish %s: %w", t.key, errGaveUp)
}

// copyAssets publishes a bundle's files beside its page. When the
// bundle's page is deleted its files become loose files, published at
// their own keys, as a clean build would have them.
func (e *Engine) copyAssets(ctx context.Context, t *transition, rc *recorder) error {
	if t.rec.Status == "deleted" && post.IsBundle(t.key) {
		dir := path.Dir(t.key) + "/"
		objs, err := blob.ListAll(ctx, e.src, dir)
		if err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		for _, o := range objs {
			if strings.HasSuffix(strings.ToLower(o.Key), ".md") || !assetAllowed(o.Key) {
				continue
			}
			if owner, _, err := e.bundleOf(ctx, o.Key); err != nil || owner != nil {
				continue // a file of a bundle further up, or unknown: leave it
			}
			if err := e.copyAsset(ctx, o.Key, o.Key, t.careful, rc); err != nil {
				return err
			}
		}
		return nil
	}
	if t.rec.Entry == nil {
		return nil
	}
	dir := path.Dir(t.key) + "/"
	for _, rel := range t.rec.Assets {
		if err := e.copyAsset(ctx, dir+rel, site.AssetKey(t.rec.Entry.Path, rel), t.careful, rc); err != nil {
			return err
		}
	}
	return nil
}

// copyAsset copies a source file to the site unless the site already has
// the same bytes there.
func (e *Engine) copyAsset(ctx context.Context, src, dst string, careful bool, rc *recorder) error {
	data, attrs, err := e.src.ReadAtMost(ctx, src, e.opt.MaxAssetBytes)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	if errors.Is(err, blob.ErrTooLarge) {
		return nil // reported by the asset's own event
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	f := site.File{Key: dst, Body: data, ContentType: contentType(src, attrs.ContentType), CacheControl: site.CacheAsset}
	cur, err := e.dst.Attributes(ctx, dst)
	if err == nil && cur.Metadata[hashMeta] == f.Hash() {
		return nil
	}
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("check %s: %w", dst, err)
	}
	if err := e.put(ctx, f); err != nil {
		return err
	}
	rc.wrote(dst)
	return nil
}

func contentType(name, stored string) string {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		return t
	}
	if stored != "" && stored != "binary/octet-stream" {
		return stored
	}
	return "application/octet-stream"
}

// applyAsset handles a non-Markdown file under the posts prefix. In a page
// bundle (a folder with index.md) it is published beside the bundle's page
// while that page is published; elsewhere it is published at its own path.
func (e *Engine) applyAsset(ctx context.Context, key string, careful bool, rc *recorder) error {
	owner, rel, err := e.bundleOf(ctx, key)
	if err != nil {
		return err
	}
	var dst string
	switch {
	case owner != nil && owner.Entry != nil:
		if !assetAllowed(rel) {
			return nil
		}
		dst = site.AssetKey(owner.Entry.Path, rel)
	case owner != nil:
		return nil // the bundle is not published; its page will copy it
	default:
		if !assetAllowed(key) {
			return nil
		}
		dst = key
	}
	_, err = e.src.Attributes(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		if err := e.dst.Delete(ctx, dst, nil); err != nil {
			return fmt.Errorf("delete %s: %w", dst, err)
		}
		rc.removed(dst)
		return nil
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", key, err)
	}
	return e.copyAsset(ctx, key, dst, careful, rc)
}

// bundleOf finds the record of the page bundle holding key: the index.md
// of its folder or of the nearest parent folder that has one.
func (e *Engine) bundleOf(ctx context.Context, key string) (*catalog.Record, string, error) {
	dir := path.Dir(key)
	for depth := 0; depth < 4 && dir != "." && dir != "/" && strings.HasPrefix(dir+"/", e.opt.PostsPrefix) && dir+"/" != e.opt.PostsPrefix; depth++ {
		index := dir + "/index.md"
		var rec catalog.Record
		_, err := e.load(ctx, catalog.RecordName(index), &rec)
		if err == nil && rec.Status != "deleted" {
			return &rec, strings.TrimPrefix(key, dir+"/"), nil
		}
		if err != nil && !errors.Is(err, blob.ErrNotFound) {
			return nil, "", fmt.Errorf("load record of %s: %w", index, err)
		}
		// The bundle's page may be uploaded but not processed yet: then
		// it owns the file, and copies it when it is published.
		if _, err := e.src.Attributes(ctx, index); err == nil {
			return &catalog.Record{Key: index, Status: "pending"}, strings.TrimPrefix(key, dir+"/"), nil
		} else if !errors.Is(err, blob.ErrNotFound) {
			return nil, "", fmt.Errorf("check %s: %w", index, err)
		}
		dir = path.Dir(dir)
	}
	return nil, "", nil
}

// reschedule keeps the post's schedule at its next change of visibility:
// set when there is one, cleared when there is none.
func (e *Engine) reschedule(ctx context.Context, t *transition) error {
	s := e.opt.Scheduler
	if s == nil || (!t.careful && t.rec.NextChange.Equal(t.old.NextChange)) {
		return nil
	}
	if t.rec.NextChange.IsZero() {
		return s.Clear(ctx, t.key)
	}
	return s.Set(ctx, t.key, t.rec.NextChange)
}
