package publish

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/permalink"
	"github.com/postmill/postmill/internal/site"
)

// Post pages link to the posts just older and newer in the site's order
// (newest first by publish time, key breaking ties). Those links make a
// page depend on the site listing, so pages are written by the site
// listing's writer, like its feeds: after its commit, and checked again
// when the head moves. The pages looked at are those of the posts that
// changed and of the posts around every place they took or left; the
// places an earlier version left stay in Record.Vacated until a writer has
// been through them, so a writer that dies midway is repaired too.

// slot is a place in the site's order, held by (or left by) key.
type slot struct {
	at  time.Time
	key string
}

// newerThan reports whether x sorts before the slot.
func (s slot) newerThan(x *catalog.Entry) bool {
	if !x.Published.Equal(s.at) {
		return x.Published.After(s.at)
	}
	return x.Key < s.key
}

// siteView is one version of the site listing: its head, and its months.
type siteView struct {
	head  *catalog.Head
	month func(m string) (*catalog.Month, error) // nil when the month has none
	loc   *time.Location
}

// around finds the entries just newer and just older than s, other than
// s.key's own.
func (v siteView) around(s slot) (newer, older *catalog.Entry, err error) {
	h := v.head
	if h == nil {
		return nil, nil, nil
	}
	for i := range h.Entries {
		x := &h.Entries[i]
		if x.Key == s.key {
			continue
		}
		if s.newerThan(x) {
			newer = x
			continue
		}
		older = x
		break
	}
	// The head is the top of the order: an older entry in it means the
	// slot is within it.
	if older != nil || len(h.Entries) >= h.Count() {
		return newer, older, nil
	}
	newer = nil
	month := catalog.MonthOf(s.at, v.loc)
	live := h.LiveMonths() // newest first
	// Newer: the slot's month, then the months above it, closest first.
	for i := len(live) - 1; i >= 0 && newer == nil; i-- {
		if live[i].Month < month {
			continue
		}
		m, err := v.month(live[i].Month)
		if err != nil {
			return nil, nil, err
		}
		if m == nil {
			continue
		}
		for j := range m.Entries {
			x := &m.Entries[j]
			if x.Key != s.key && s.newerThan(x) {
				newer = x
			}
		}
	}
	// Older: the slot's month, then the months below it.
	for i := 0; i < len(live) && older == nil; i++ {
		if live[i].Month > month {
			continue
		}
		m, err := v.month(live[i].Month)
		if err != nil {
			return nil, nil, err
		}
		if m == nil {
			continue
		}
		for j := range m.Entries {
			x := &m.Entries[j]
			if x.Key != s.key && !s.newerThan(x) {
				older = x
				break
			}
		}
	}
	return newer, older, nil
}

// find returns key's entry in the view, looking in its head and in the
// given months.
func (v siteView) find(key string, months ...string) (*catalog.Entry, error) {
	if v.head == nil {
		return nil, nil
	}
	for i := range v.head.Entries {
		if v.head.Entries[i].Key == key {
			return &v.head.Entries[i], nil
		}
	}
	seen := map[string]bool{}
	for _, mn := range months {
		if mn == "" || seen[mn] {
			continue
		}
		seen[mn] = true
		m, err := v.month(mn)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		for i := range m.Entries {
			if m.Entries[i].Key == key {
				return &m.Entries[i], nil
			}
		}
	}
	return nil, nil
}

// navPass renders and writes the post pages a change of the site listing
// may affect. One lives for the whole of an applyListing call, so pages
// written by an attempt that turned out stale are looked at again.
type navPass struct {
	e *Engine
	// wrote maps each page key written so far to the post it was for.
	wrote map[string]string
	// records caches the records read in one attempt, by key.
	records map[string]*catalog.Record
}

func (e *Engine) newNavPass() *navPass {
	return &navPass{e: e, wrote: map[string]string{}}
}

// write brings the pages around ts in line with the listing in after,
// comparing each with the content hash stored on the object. before is
// the listing as it was loaded (a nil head when it was new), a place to
// find content.
func (n *navPass) write(ctx context.Context, before, after siteView, ts []*transition, rc *recorder) error {
	e := n.e
	n.records = map[string]*catalog.Record{}
	months := map[string][]string{} // post key -> months to find it in
	trans := map[string]*transition{}
	var slots []slot
	for _, t := range ts {
		trans[t.key] = t
		months[t.key] = months[t.key]
		for _, en := range []*catalog.Entry{t.rec.Entry, t.old.Entry} {
			if en != nil {
				months[t.key] = append(months[t.key], en.Month)
				slots = append(slots, slot{en.Published, t.key})
			}
		}
		for _, at := range t.rec.Vacated {
			slots = append(slots, slot{at, t.key})
		}
	}
	// Pages an earlier attempt wrote are looked at again.
	for _, owner := range n.wrote {
		months[owner] = months[owner]
	}
	for _, s := range slots {
		newer, older, err := after.around(s)
		if err != nil {
			return err
		}
		for _, x := range []*catalog.Entry{newer, older} {
			if x != nil {
				months[x.Key] = append(months[x.Key], x.Month)
			}
		}
	}
	keys := make([]string, 0, len(months))
	for k := range months {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var check []site.File
	owners := map[string]string{} // page key -> post key
	for _, k := range keys {
		t := trans[k]
		cur, err := after.find(k, months[k]...)
		if err != nil {
			return err
		}
		if cur == nil {
			if rec, err := n.record(ctx, k); err != nil {
				return err
			} else if rec != nil && rec.Entry != nil {
				if cur, err = after.find(k, rec.Entry.Month); err != nil {
					return err
				}
			}
		}
		if cur == nil {
			// Not in the listing (any more, or yet): its own writer
			// deletes its page, or writes it after its commit.
			continue
		}
		full, err := n.content(ctx, t, cur, after.head, before.head)
		if err != nil {
			return err
		}
		if full == nil {
			continue // its writer is at work and renders it after its commit
		}
		f, err := n.render(after, full)
		if err != nil {
			return err
		}
		owners[f.Key] = k
		// Compared with what is stored, not with a rendering from the
		// state before: a writer that left a page to a post's own
		// writer (its record was ahead of the listing) leaves it stale
		// until then, and that writer's change may not touch the page.
		check = append(check, f)
	}

	// A page an earlier attempt wrote that nothing renders now may be
	// stale: put back what belongs there, or nothing.
	var gone []string
	for key := range n.wrote {
		if owners[key] != "" {
			continue
		}
		f, owned, err := n.owner(ctx, key)
		if err != nil {
			return err
		}
		switch {
		case f != nil:
			check = append(check, *f)
		case !owned:
			gone = append(gone, key)
		}
	}
	sort.Strings(gone)

	if err := e.writeFiles(ctx, nil, check, true, rc); err != nil {
		return err
	}
	for _, k := range gone {
		if err := e.dst.Delete(ctx, k, nil); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
		rc.removed(k)
		delete(n.wrote, k)
	}
	for key, owner := range owners {
		n.wrote[key] = owner
	}
	return nil
}

// render renders a post's page with its links in view.
func (n *navPass) render(view siteView, en *catalog.Entry) (site.File, error) {
	newer, older, err := view.around(slot{en.Published, en.Key})
	if err != nil {
		return site.File{}, err
	}
	return n.e.r.PageFile(en, site.Nav{Newer: newer, Older: older})
}

// content returns en with its content: a page needs the whole entry, and
// listings keep content only near their top. It is nil when the post's
// record has moved past en: then its writer is at work.
func (n *navPass) content(ctx context.Context, t *transition, en *catalog.Entry, heads ...*catalog.Head) (*catalog.Entry, error) {
	if t != nil {
		for _, x := range []*catalog.Entry{t.rec.Entry, t.old.Entry} {
			if x != nil && x.Rev == en.Rev {
				return x, nil
			}
		}
	}
	for _, h := range heads {
		if h == nil {
			continue
		}
		for i := range h.Entries {
			x := &h.Entries[i]
			if x.Key == en.Key && x.Rev == en.Rev && x.Content != "" {
				return x, nil
			}
		}
	}
	rec, err := n.record(ctx, en.Key)
	if err != nil || rec == nil || rec.Entry == nil || rec.Entry.Rev != en.Rev {
		return nil, err
	}
	return rec.Entry, nil
}

// record reads a post's record, once per pass.
func (n *navPass) record(ctx context.Context, key string) (*catalog.Record, error) {
	if r, ok := n.records[key]; ok {
		return r, nil
	}
	var r catalog.Record
	if _, err := n.e.load(ctx, catalog.RecordName(key), &r); err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			n.records[key] = nil
			return nil, nil
		}
		return nil, fmt.Errorf("load record of %s: %w", key, err)
	}
	n.records[key] = &r
	return &r, nil
}

// owner says what belongs at a page key now: an alias page of the post
// that claims it (returned), a page its own writer keeps (owned), or
// nothing.
func (n *navPass) owner(ctx context.Context, key string) (*site.File, bool, error) {
	var c catalog.Claim
	if _, err := n.e.load(ctx, catalog.ClaimName(key), &c); err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("load claim of %s: %w", key, err)
	}
	rec, err := n.record(ctx, c.Owner)
	if err != nil || rec == nil || rec.Entry == nil {
		return nil, false, err
	}
	if permalink.File(rec.Entry.Path) == key {
		return nil, true, nil
	}
	aliases, err := n.e.r.AliasFiles(rec)
	if err != nil {
		return nil, false, err
	}
	for _, f := range aliases {
		if f.Key == key {
			return &f, true, nil
		}
	}
	return nil, false, nil
}
