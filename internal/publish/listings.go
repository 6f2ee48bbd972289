package publish

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/catalog"
	"github.com/postmill/postmill/internal/site"
)

// tagInfo is what the site's tag index needs from a tag's head.
type tagInfo struct {
	slug, name string
	count      int
	gen        int64
}

// applyListings updates every listing the transitions touch, each once:
// tags first (in parallel), then the site, whose tag index they feed.
// It returns the keys whose listings could not be brought up to date.
func (e *Engine) applyListings(ctx context.Context, trans []*transition, rc *recorder) map[string]error {
	byListing := map[string][]*transition{}
	for _, t := range trans {
		seen := map[string]bool{}
		for _, p := range t.places {
			if !seen[p.listing] {
				seen[p.listing] = true
				byListing[p.listing] = append(byListing[p.listing], t)
			}
		}
	}
	// Pages a stopped writer left unchecked are the site listing's.
	for _, t := range trans {
		if len(t.rec.Unsettled) > 0 && !slices.Contains(byListing[catalog.Site], t) {
			byListing[catalog.Site] = append(byListing[catalog.Site], t)
		}
	}
	var tags []string
	for l := range byListing {
		if l != catalog.Site {
			tags = append(tags, l)
		}
	}
	sort.Strings(tags)

	failed := map[string]error{}
	var mu sync.Mutex
	fail := func(ts []*transition, err error) {
		mu.Lock()
		defer mu.Unlock()
		for _, t := range ts {
			if failed[t.key] == nil {
				failed[t.key] = err
			}
		}
	}
	var infos []tagInfo
	sem := make(chan struct{}, e.opt.Concurrency)
	var wg sync.WaitGroup
	for _, l := range tags {
		wg.Add(1)
		sem <- struct{}{}
		go func(l string) {
			defer wg.Done()
			defer func() { <-sem }()
			info, err := e.applyListing(ctx, l, byListing[l], nil, rc)
			if err != nil {
				fail(byListing[l], err)
				return
			}
			mu.Lock()
			infos = append(infos, info)
			mu.Unlock()
		}(l)
	}
	wg.Wait()
	sort.Slice(infos, func(i, j int) bool { return infos[i].slug < infos[j].slug })
	if ts, ok := byListing[catalog.Site]; ok || len(infos) > 0 {
		if _, err := e.applyListing(ctx, catalog.Site, ts, infos, rc); err != nil {
			fail(ts, err)
		}
	}
	return failed
}

type monthState struct {
	m, before *catalog.Month
	etag      string
	touched   bool // changes may be applied (else loaded only to render or refill)
}

// applyListing brings one listing in line with the transitions, commits
// its shards and writes the files that changed. It retries when another
// writer commits first, and checks after writing that the state it
// rendered is still current.
func (e *Engine) applyListing(ctx context.Context, listing string, ts []*transition, tags []tagInfo, rc *recorder) (_ tagInfo, err error) {
	careful := false
	for _, t := range ts {
		careful = careful || t.careful
	}
	capacity := max(e.r.Config().FeedLimit, e.r.Config().PageSize)
	// Months whose files an earlier attempt wrote: a later attempt must
	// render them again, or a stale page it wrote could outlive it.
	rendered := map[string]bool{}
	var nav *navPass
	if listing == catalog.Site {
		nav = e.newNavPass()
		defer func() {
			if err != nil {
				err = nav.leave(ctx, ts, err)
			}
		}()
	}
	// Files an earlier attempt may have written: a careful pass checks
	// each again, deleting those that no longer belong.
	wrote := map[string]bool{}
	// Conflicting commits count against maxAttempts. Once committed, a
	// writer checks again for as long as others commit while it writes
	// (up to maxRechecks): leaving early would leave pages written from a
	// stale view for someone else to find.
	rechecks := 0
	for attempt := 0; attempt < maxAttempts; attempt++ {
		head := &catalog.Head{Listing: listing}
		headTag, err := e.load(ctx, catalog.HeadName(listing), head)
		if err != nil && !errors.Is(err, blob.ErrNotFound) {
			return tagInfo{}, fmt.Errorf("load head of %s: %w", listing, err)
		}
		var beforeHead *catalog.Head
		if headTag != "" {
			beforeHead = head.Clone()
		}
		months := map[string]*monthState{}
		loadMonth := func(m string, touch bool) (*monthState, error) {
			if ms, ok := months[m]; ok {
				ms.touched = ms.touched || touch
				return ms, nil
			}
			ms := &monthState{m: &catalog.Month{Listing: listing, Epoch: head.Epoch, Month: m}, touched: touch}
			tag, err := e.load(ctx, catalog.MonthName(listing, head.Epoch, m), ms.m)
			if err != nil && !errors.Is(err, blob.ErrNotFound) {
				return nil, fmt.Errorf("load month %s of %s: %w", m, listing, err)
			}
			ms.etag = tag
			if tag != "" {
				ms.before = ms.m.Clone()
			}
			months[m] = ms
			return ms, nil
		}

		now := e.opt.Clock()
		headChanged := false
		if head.Compact() {
			// A small tag: every entry lives in the head.
			for _, t := range ts {
				if head.PutAll(t.key, t.rec.Rev, inListing(t.rec.Entry, listing), now) {
					headChanged = true
				}
			}
			if len(head.Entries) > capacity {
				// Outgrown: move every entry into month shards, once.
				all := append([]catalog.Entry(nil), head.Entries...)
				head.Sharded, head.Months = true, nil
				head.Epoch = fmt.Sprintf("e%x%04x", now.UnixNano(), rand.IntN(1<<16))
				for i := range all {
					ms, err := loadMonth(all[i].Month, true)
					if err != nil {
						return tagInfo{}, err
					}
					ms.m.Put(all[i].Key, all[i].Rev, &all[i], now)
				}
				for _, m := range sortedMonths(months) {
					head.SetMonth(m, len(months[m].m.Entries), months[m].m.Gen)
				}
				head.Entries = all[:capacity]
				headChanged = true
			}
		} else {
			for _, t := range ts {
				want := inListing(t.rec.Entry, listing)
				for _, p := range t.places {
					if p.listing != listing {
						continue
					}
					ms, err := loadMonth(p.month, true)
					if err != nil {
						return tagInfo{}, err
					}
					var d *catalog.Entry
					if want != nil && want.Month == p.month {
						d = want
					}
					ms.m.Put(t.key, t.rec.Rev, d, now)
				}
			}
			for _, m := range sortedMonths(months) {
				ms := months[m]
				if ms.touched && head.SetMonth(m, len(ms.m.Entries), ms.m.Gen) {
					headChanged = true
				}
			}
			for _, t := range ts {
				if head.Put(t.key, t.rec.Rev, inListing(t.rec.Entry, listing), capacity, now) {
					headChanged = true
				}
			}
			if filled, err := e.refill(ctx, head, capacity, loadMonth); err != nil {
				return tagInfo{}, err
			} else if filled {
				headChanged = true
			}
		}
		for _, ti := range tags {
			if head.SetTag(ti.slug, ti.name, ti.count, ti.gen) {
				headChanged = true
			}
		}
		if headChanged {
			head.Gen++
		}

		if !head.Compact() {
			for m := range rendered {
				if _, err := loadMonth(m, false); err != nil {
					return tagInfo{}, err
				}
			}
			// Months whose links change when a month appears or
			// disappears. (A compact head renders its months itself.)
			changed := neighbourChanges(beforeHead, head)
			if beforeHead == nil || e.r.HasArchive(beforeHead) != e.r.HasArchive(head) {
				// A tag crossed one page: every month page appears or
				// goes.
				changed = nil
				for _, m := range head.LiveMonths() {
					changed = append(changed, m.Month)
				}
			}
			if careful {
				// A run that died may have opened or closed a month
				// without re-rendering its neighbours' links.
				for _, m := range sortedMonths(months) {
					if months[m].touched {
						n, o := site.Neighbours(head, m)
						changed = append(changed, n, o)
					}
				}
			}
			for _, m := range changed {
				if m == "" {
					continue
				}
				if _, err := loadMonth(m, false); err != nil {
					return tagInfo{}, err
				}
			}
		}

		// Commit months first, then the head that counts them.
		conflict := false
		committed := map[string]string{}
		for _, m := range sortedMonths(months) {
			ms := months[m]
			if !ms.touched || (ms.before != nil && ms.before.Gen == ms.m.Gen) || (ms.before == nil && len(ms.m.Entries) == 0 && len(ms.m.Tombstones) == 0) {
				continue
			}
			tag, err := e.store(ctx, catalog.MonthName(listing, head.Epoch, m), ms.m, ms.etag)
			if errors.Is(err, blob.ErrPreconditionFailed) {
				conflict = true
				break
			}
			if err != nil {
				return tagInfo{}, fmt.Errorf("store month %s of %s: %w", m, listing, err)
			}
			committed[m] = tag
			ms.etag = tag
		}
		if !conflict && headChanged {
			tag, err := e.store(ctx, catalog.HeadName(listing), head, headTag)
			if errors.Is(err, blob.ErrPreconditionFailed) {
				conflict = true
			} else if err != nil {
				return tagInfo{}, fmt.Errorf("store head of %s: %w", listing, err)
			} else {
				headTag = tag
			}
		}
		if conflict {
			// The rival may be ourselves: a write that landed but
			// whose answer was lost comes back as 412 on retry. Either
			// way what is committed now looks unchanged to the next
			// attempt, so its files must be checked, not diffed.
			careful = true
			if len(committed) > 0 {
				for m := range months {
					if _, ok := committed[m]; ok {
						rendered[m] = true
					}
				}
			}
			if err := backoff(ctx, attempt); err != nil {
				return tagInfo{}, err
			}
			continue
		}

		// Write the files that changed.
		before, after, err := e.listingFiles(beforeHead, head, months, careful)
		if err != nil {
			return tagInfo{}, err
		}
		if careful {
			before = append(before, e.skeleton(listing, months)...)
			for k := range wrote {
				before = append(before, site.File{Key: k})
			}
		}
		if err := e.writeFiles(ctx, before, after, careful, rc); err != nil {
			return tagInfo{}, err
		}
		for _, fs := range [][]site.File{before, after} {
			for _, f := range fs {
				wrote[f.Key] = true
				if m, ok := site.MonthOfKey(listing, f.Key); ok {
					rendered[m] = true
				}
			}
		}

		if nav != nil {
			before, after := e.siteViews(ctx, beforeHead, head, months)
			if err := nav.write(ctx, before, after, ts, rc); err != nil {
				return tagInfo{}, err
			}
		}

		// Did anyone commit while we wrote? Then what we wrote may be
		// stale: go again, comparing with what is stored. The head is
		// enough to look at: every month commit records the month's new
		// generation in the head, so it changes the head too.
		moved, err := e.moved(ctx, catalog.HeadName(listing), headTag)
		if err != nil {
			return tagInfo{}, err
		}
		if moved {
			careful = true
			if rechecks++; rechecks < maxRechecks {
				attempt-- // not a conflict: our commit stands
			}
			if err := backoff(ctx, 0); err != nil {
				return tagInfo{}, err
			}
			continue
		}
		return tagInfo{slug: catalog.TagOf(listing), name: head.TagName(), count: head.Count(), gen: head.Gen}, nil
	}
	return tagInfo{}, fmt.Errorf("listing %s: %w", listing, errGaveUp)
}

// siteViews are the site listing before and after this attempt's
// changes, reading months not loaded yet as they are stored.
func (e *Engine) siteViews(ctx context.Context, beforeHead, head *catalog.Head, months map[string]*monthState) (before, after siteView) {
	stored := map[string]*catalog.Month{}
	read := func(m string) (*catalog.Month, error) {
		if c, ok := stored[m]; ok {
			return c, nil
		}
		c := &catalog.Month{}
		_, err := e.load(ctx, catalog.MonthName(head.Listing, head.Epoch, m), c)
		if errors.Is(err, blob.ErrNotFound) {
			c = nil
		} else if err != nil {
			return nil, fmt.Errorf("load month %s of %s: %w", m, head.Listing, err)
		}
		stored[m] = c
		return c, nil
	}
	loc := e.r.Config().Location
	before = siteView{head: beforeHead, loc: loc, month: func(m string) (*catalog.Month, error) {
		if ms, ok := months[m]; ok {
			return ms.before, nil
		}
		return read(m)
	}}
	after = siteView{head: head, loc: loc, month: func(m string) (*catalog.Month, error) {
		if ms, ok := months[m]; ok {
			return ms.m, nil
		}
		return read(m)
	}}
	return before, after
}

func inListing(e *catalog.Entry, listing string) *catalog.Entry {
	if e == nil {
		return nil
	}
	for _, l := range e.Listings() {
		if l == listing {
			return e
		}
	}
	return nil
}

func sortedMonths(m map[string]*monthState) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// neighbourChanges lists months whose newer/older links differ between
// two heads.
func neighbourChanges(before, after *catalog.Head) []string {
	// Each head's live months are computed once: this runs on every
	// publish, and a site has hundreds of months.
	links := func(h *catalog.Head) map[string][2]string {
		out := map[string][2]string{}
		if h == nil {
			return out
		}
		live := h.LiveMonths() // newest first
		for i, m := range live {
			var l [2]string
			if i > 0 {
				l[0] = live[i-1].Month
			}
			if i+1 < len(live) {
				l[1] = live[i+1].Month
			}
			out[m.Month] = l
		}
		return out
	}
	b, a := links(before), links(after)
	var out []string
	for _, m := range after.Months {
		if b[m.Month] != a[m.Month] {
			out = append(out, m.Month)
		}
	}
	return out
}

// refill tops the head up from the months when removals left it short.
func (e *Engine) refill(ctx context.Context, head *catalog.Head, capacity int, loadMonth func(string, bool) (*monthState, error)) (bool, error) {
	if !head.NeedsRefill(capacity) {
		return false, nil
	}
	var candidates []catalog.Entry
	for _, m := range head.RefillMonths() {
		ms, err := loadMonth(m, false)
		if err != nil {
			return false, err
		}
		candidates = append(candidates, head.Missing(ms.m.Entries)...)
		if len(head.Entries)+len(candidates) >= capacity {
			break
		}
	}
	filled := false
	for _, c := range candidates {
		if !head.NeedsRefill(capacity) {
			break
		}
		var rec catalog.Record
		if _, err := e.load(ctx, catalog.RecordName(c.Key), &rec); err != nil {
			if errors.Is(err, blob.ErrNotFound) {
				continue
			}
			return false, fmt.Errorf("load record of %s: %w", c.Key, err)
		}
		if rec.Entry == nil || inListing(rec.Entry, head.Listing) == nil || rec.Entry.Rev != c.Rev {
			// The post moved on since its month shard was written: its
			// own writer will place the new version, by its new date.
			continue
		}
		head.Add(*rec.Entry)
		filled = true
	}
	return filled, nil
}

// listingFiles renders the files of a listing's head and of the months
// loaded, before and after the change. When the head's entries did not
// change neither did its feeds, and a pass that diffs (not a careful one,
// which checks every file it names) leaves them out of both.
func (e *Engine) listingFiles(beforeHead, head *catalog.Head, months map[string]*monthState, careful bool) (before, after []site.File, err error) {
	headFiles := e.r.HeadFiles
	if !careful && catalog.SameEntries(beforeHead, head) {
		headFiles = e.r.HeadPages
	}
	if beforeHead != nil {
		if before, err = headFiles(beforeHead); err != nil {
			return nil, nil, err
		}
	}
	if after, err = headFiles(head); err != nil {
		return nil, nil, err
	}
	for _, m := range sortedMonths(months) {
		ms := months[m]
		if ms.before != nil && beforeHead != nil {
			b, err := e.r.MonthFiles(beforeHead, ms.before)
			if err != nil {
				return nil, nil, err
			}
			before = append(before, b...)
		}
		a, err := e.r.MonthFiles(head, ms.m)
		if err != nil {
			return nil, nil, err
		}
		after = append(after, a...)
	}
	return before, after, nil
}

// skeleton lists every file a listing could have, so a careful pass can
// delete leftovers that no state remembers.
func (e *Engine) skeleton(listing string, months map[string]*monthState) []site.File {
	var fs []site.File
	for _, k := range site.ListingKeys(listing) {
		fs = append(fs, site.File{Key: k})
	}
	for m := range months {
		for _, k := range site.MonthKeys(listing, m) {
			fs = append(fs, site.File{Key: k})
		}
	}
	return fs
}

// moved reports whether the shard's ETag is no longer etag.
func (e *Engine) moved(ctx context.Context, name, etag string) (bool, error) {
	a, err := e.src.Attributes(ctx, e.stateKey(name))
	if errors.Is(err, blob.ErrNotFound) {
		return etag != "", nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", name, err)
	}
	return a.ETag != etag, nil
}
