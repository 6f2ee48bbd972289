package publish

import (
	"context"
	"fmt"
	"slices"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/catalog"
)

// Status is what an author can read about their post after an upload, at
// StatusKey(key) in the source bucket.
type Status struct {
	Key    string `json:"key"`
	Status string `json:"status"`
	// URL is where the post is live. After a rejection it is the version
	// that stayed on the site, if any.
	URL      string   `json:"url,omitempty"`
	Problems []string `json:"problems,omitempty"`
	Revision int64    `json:"revision"`
	// SourceETag is the ETag of the uploaded version this status is
	// about, so an author's tool can tell when its upload was seen.
	SourceETag string `json:"sourceETag,omitempty"`
}

// StatusKey is where the status of the post at key is kept, under the
// default state prefix.
func StatusKey(key string) string { return DefaultStatePrefix + "status/" + key + ".json" }

// StatusKey is where this engine keeps the status of the post at key.
func (e *Engine) StatusKey(key string) string { return e.opt.StatePrefix + "status/" + key + ".json" }

func (e *Engine) status(r *catalog.Record) Status {
	s := Status{Key: r.Key, Status: r.Status, Problems: r.Problems, Revision: r.Rev, SourceETag: r.SourceETag}
	if r.Entry != nil {
		s.URL = e.r.Config().URL(r.Entry.Path)
	}
	return s
}

// writeStatus updates the author's status object when what it says
// changed. A careful pass always writes it: the run that committed old
// may have died before writing old's status.
func (e *Engine) writeStatus(ctx context.Context, old, rec *catalog.Record, careful bool) error {
	a, b := e.status(old), e.status(rec)
	if !careful && old.Rev > 0 && a.Status == b.Status && a.URL == b.URL && a.SourceETag == b.SourceETag && slices.Equal(a.Problems, b.Problems) {
		return nil
	}
	data, err := encode(b)
	if err != nil {
		return err
	}
	if _, err := e.src.Write(ctx, e.StatusKey(rec.Key), data, &blob.WriteOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("write status of %s: %w", rec.Key, err)
	}
	return nil
}
