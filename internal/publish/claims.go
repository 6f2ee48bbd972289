package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/permalink"
)

// claimConflict is a rejection: another post owns the path.
type claimConflict struct{ path, owner string }

func (c *claimConflict) Error() string {
	return fmt.Sprintf("path %s is already used by %s; change this post's slug or url", c.path, c.owner)
}

// claim makes rec the owner of every path it needs. Paths are claimed by
// the file they are written to, so "/x/" and "/x/index.html" are one. A claim held by a
// post that no longer uses the path (it moved, or a writer died) is taken
// over; a live one is a conflict.
func (e *Engine) claim(ctx context.Context, rec, old *catalog.Record) error {
	had := map[string]bool{}
	for _, p := range old.Paths() {
		had[permalink.File(p)] = true
	}
	for _, p := range rec.Paths() {
		if had[permalink.File(p)] {
			continue // ours since the last version
		}
		// Most paths are new: try to create the claim, and only read it
		// when someone holds it.
		claim := catalog.Claim{Path: p, Owner: rec.Key, Rev: rec.Rev}
		_, err := e.store(ctx, catalog.ClaimName(permalink.File(p)), claim, "")
		if err == nil {
			continue
		}
		if !errors.Is(err, blob.ErrPreconditionFailed) {
			return fmt.Errorf("claim %s: %w", p, err)
		}
		var c catalog.Claim
		etag, err := e.load(ctx, catalog.ClaimName(permalink.File(p)), &c)
		if err != nil {
			return fmt.Errorf("load claim of %s: %w", p, err) // a vanished claim: retry
		}
		if c.Owner != rec.Key {
			live, err := e.stillOwns(ctx, c.Owner, p)
			if err != nil {
				return err
			}
			if live {
				return &claimConflict{path: p, owner: c.Owner}
			}
		}
		if _, err := e.store(ctx, catalog.ClaimName(permalink.File(p)), claim, etag); err != nil {
			return fmt.Errorf("claim %s: %w", p, err)
		}
	}
	return nil
}

// stillOwns reports whether owner's current record uses path p.
func (e *Engine) stillOwns(ctx context.Context, owner, p string) (bool, error) {
	var r catalog.Record
	if _, err := e.load(ctx, catalog.RecordName(owner), &r); err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("load record of %s: %w", owner, err)
	}
	for _, q := range r.Paths() {
		if permalink.File(q) == permalink.File(p) {
			return true, nil
		}
	}
	return false, nil
}

// releaseClaims gives up the paths old used and rec does not, unless
// someone else took them meanwhile.
func (e *Engine) releaseClaims(ctx context.Context, old, rec *catalog.Record) error {
	keep := map[string]bool{}
	for _, p := range rec.Paths() {
		keep[permalink.File(p)] = true
	}
	for _, p := range old.Paths() {
		if keep[permalink.File(p)] {
			continue
		}
		var c catalog.Claim
		etag, err := e.load(ctx, catalog.ClaimName(permalink.File(p)), &c)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("load claim of %s: %w", p, err)
		}
		if c.Owner != rec.Key {
			continue
		}
		err = e.src.Delete(ctx, e.stateKey(catalog.ClaimName(permalink.File(p))), &blob.DeleteOptions{IfMatch: etag})
		if err != nil && !errors.Is(err, blob.ErrPreconditionFailed) && !errors.Is(err, blob.ErrNotFound) {
			return fmt.Errorf("release claim of %s: %w", p, err)
		}
	}
	return nil
}
