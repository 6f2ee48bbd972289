package publish

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
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
	// wrote maps each page key looked at so far to the post it was for.
	wrote map[string]string
	// records caches the records read in one attempt, by key.
	records map[string]*catalog.Record
	// current is the highest generation of the site listing seen stored.
	current int64
	// dirty are the pages this pass has written.
	dirty map[string]bool
}

func (e *Engine) newNavPass() *navPass {
	return &navPass{e: e, wrote: map[string]string{}, dirty: map[string]bool{}}
}

// write brings the pages around ts in line with the listing in after,
// comparing each with what is stored. before is the listing as it was
// loaded (a nil head when it was new): a place to find content, and what
// tells a page that changed from one that did not.
func (n *navPass) write(ctx context.Context, before, after siteView, ts []*transition, rc *recorder) error {
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
	// Pages an earlier attempt wrote are looked at again, and those a
	// writer of these records could not check.
	for _, owner := range n.wrote {
		months[owner] = months[owner]
	}
	for _, t := range ts {
		for _, page := range t.rec.Unsettled {
			owner, err := n.settle(ctx, page, rc)
			if err != nil {
				return err
			}
			if owner != nil {
				months[owner.Key] = append(months[owner.Key], owner.Month)
			}
		}
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

	gen := after.head.Gen
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
		f, changed, err := n.render(before, after, full, months[k], t)
		if err != nil {
			return err
		}
		// Compared with what is stored, not with a rendering from the
		// state before: a writer that left a page to a post's own
		// writer (its record was ahead of the listing) leaves it stale
		// until then, and that writer's change may not touch the page.
		own := ""
		if t != nil {
			own = k
		}
		if err := n.put(ctx, f, gen, changed, own, rc); err != nil {
			return err
		}
		n.wrote[f.Key] = k
	}
	return nil
}

// genMeta stamps a post page with the generation of the site listing it
// was rendered from.
const genMeta = "postmill-gen"

// put brings a post page in line with f, rendered from the site listing
// at generation gen, and does not replace a page rendered from a newer
// generation: a writer whose view went stale (it gave up, failed or was
// stopped before its re-check) cannot undo a newer writer's page. Every
// write is conditional on the object read. That fence has one gap: S3's
// ETag is a hash of the bytes, so when a newer writer finds the page
// already right and writes nothing, an older writer's conditional write
// still goes through. The re-check after a commit, and the Unsettled note
// of a writer that stops before it, cover that. changed says the page
// differs from what the generation before rendered; then an equal page is
// stamped gen, which holds off older writers that look after it. Only a
// post's own writer (own names the post) creates its page; another
// writer's view may hold a post already deleted.
func (n *navPass) put(ctx context.Context, f site.File, gen int64, changed bool, own string, rc *recorder) error {
	e := n.e
	for attempt := 0; attempt < maxAttempts; attempt++ {
		a, err := e.dst.Attributes(ctx, f.Key)
		exists := err == nil
		if err != nil && !errors.Is(err, blob.ErrNotFound) {
			return fmt.Errorf("check %s: %w", f.Key, err)
		}
		stamp, stamped := int64(0), false
		if exists {
			if v, ok := a.Metadata[genMeta]; ok {
				stamp, stamped = parseGen(v), true
			}
		}
		switch {
		case !exists && own == "":
			return nil // its own writer creates it
		case exists && !stamped && own == "":
			return nil // not a post page this engine wrote: an alias, or older
		case stamp > gen:
			newer, err := n.newerThan(ctx, stamp)
			if err != nil {
				return err
			}
			if newer {
				return nil // a writer with a newer view has been here
			}
		case exists && a.Metadata[hashMeta] == f.Hash() && (!changed || stamp == gen):
			return nil
		}
		opts := fileOptions(f)
		opts.Metadata[genMeta] = strconv.FormatInt(gen, 10)
		opts.IfMatch, opts.IfNotExist = a.ETag, !exists
		w, err := e.dst.Write(ctx, f.Key, f.Body, opts)
		if errors.Is(err, blob.ErrPreconditionFailed) || errors.Is(err, blob.ErrNotFound) {
			continue // someone wrote or deleted it meanwhile: look again
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", f.Key, err)
		}
		rc.wrote(f.Key)
		n.dirty[f.Key] = true
		if own != "" {
			return n.verify(ctx, f.Key, own, w.ETag, rc)
		}
		return nil
	}
	return fmt.Errorf("write %s: %w", f.Key, errGaveUp)
}

// verify looks at a post's record again after its own page was written
// from a view that may be stale: if the post has left that path since
// (deleted, drafted, moved), the page is taken back, unless a newer
// writer has replaced it already. The deleting writer's own delete may
// have come first.
func (n *navPass) verify(ctx context.Context, key, post, etag string, rc *recorder) error {
	var rec catalog.Record
	if _, err := n.e.load(ctx, catalog.RecordName(post), &rec); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("load record of %s: %w", post, err)
	}
	if rec.Entry != nil && permalink.File(rec.Entry.Path) == key {
		return nil
	}
	_, f, err := n.e.claimant(ctx, key)
	if err != nil {
		return err
	}
	if f != nil {
		opts := fileOptions(*f)
		opts.IfMatch = etag
		_, err := n.e.dst.Write(ctx, key, f.Body, opts)
		if errors.Is(err, blob.ErrPreconditionFailed) || errors.Is(err, blob.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", key, err)
		}
		rc.wrote(key)
		return nil
	}
	err = n.e.dst.Delete(ctx, key, &blob.DeleteOptions{IfMatch: etag})
	if errors.Is(err, blob.ErrPreconditionFailed) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	rc.removed(key)
	return nil
}

// newerThan says whether a page stamped stamp, above this pass's view, was
// rendered by a newer writer of this site listing. A stamp above the
// listing's current generation comes from a catalog since replaced (the
// state was deleted and the site built again): it counts as older.
func (n *navPass) newerThan(ctx context.Context, stamp int64) (bool, error) {
	if n.current < stamp {
		var h catalog.Head
		if _, err := n.e.load(ctx, catalog.HeadName(catalog.Site), &h); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return false, fmt.Errorf("load head of %s: %w", catalog.Site, err)
		}
		n.current = h.Gen
	}
	return stamp <= n.current, nil
}

func parseGen(s string) int64 {
	g, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0
	}
	return g
}

// render renders a post's page with its links in after, and says whether
// it differs from the page before rendered: the post changed, or a
// neighbour did. When the post's earlier version is not at hand with its
// content, it counts as changed.
func (n *navPass) render(before, after siteView, en *catalog.Entry, months []string, t *transition) (site.File, bool, error) {
	s := slot{en.Published, en.Key}
	newer, older, err := after.around(s)
	if err != nil {
		return site.File{}, false, err
	}
	f, err := n.e.r.PageFile(en, site.Nav{Newer: newer, Older: older})
	if err != nil {
		return site.File{}, false, err
	}
	was, err := before.find(en.Key, append(months, en.Month)...)
	if err != nil || was == nil {
		return f, true, err
	}
	sameVersion := was.Rev == en.Rev
	if sameVersion {
		was = en
	} else if was = n.withContent(t, was, before.head); was == nil {
		return f, true, nil
	}
	bNewer, bOlder, err := before.around(slot{was.Published, was.Key})
	if err != nil {
		return site.File{}, false, err
	}
	if sameVersion && sameEntry(bNewer, newer) && sameEntry(bOlder, older) {
		return f, false, nil
	}
	b, err := n.e.r.PageFile(was, site.Nav{Newer: bNewer, Older: bOlder})
	if err != nil {
		return site.File{}, false, err
	}
	return f, b.Key != f.Key || b.Hash() != f.Hash(), nil
}

// withContent returns en with its content from what is at hand (the
// transition, the heads), or nil.
func (n *navPass) withContent(t *transition, en *catalog.Entry, heads ...*catalog.Head) *catalog.Entry {
	if t != nil {
		for _, x := range []*catalog.Entry{t.rec.Entry, t.old.Entry} {
			if x != nil && x.Rev == en.Rev {
				return x
			}
		}
	}
	for _, h := range heads {
		if h == nil {
			continue
		}
		for i := range h.Entries {
			if x := &h.Entries[i]; x.Key == en.Key && x.Rev == en.Rev && x.Content != "" {
				return x
			}
		}
	}
	return nil
}

// sameEntry says whether two entries are one version of one post.
func sameEntry(a, b *catalog.Entry) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Key == b.Key && a.Rev == b.Rev
}

// content returns en with its content: a page needs the whole entry, and
// listings keep content only near their top. It is nil when the post's
// record has moved past en: then its writer is at work.
func (n *navPass) content(ctx context.Context, t *transition, en *catalog.Entry, heads ...*catalog.Head) (*catalog.Entry, error) {
	if x := n.withContent(t, en, heads...); x != nil {
		return x, nil
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

// claimant says what belongs at a site page key now, by its claim: the
// record of the post whose page it is, or the alias page of the post that
// claims it as an alias. Neither, when no published post claims it.
func (e *Engine) claimant(ctx context.Context, key string) (page *catalog.Record, alias *site.File, err error) {
	var c catalog.Claim
	if _, err := e.load(ctx, catalog.ClaimName(key), &c); err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("load claim of %s: %w", key, err)
	}
	var rec catalog.Record
	if _, err := e.load(ctx, catalog.RecordName(c.Owner), &rec); err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("load record of %s: %w", c.Owner, err)
	}
	if rec.Entry == nil {
		return nil, nil, nil
	}
	if permalink.File(rec.Entry.Path) == key {
		return &rec, nil, nil
	}
	aliases, err := e.r.AliasFiles(&rec)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range aliases {
		if f.Key == key {
			return nil, &f, nil
		}
	}
	return nil, nil, nil
}

// restoreClaimed looks again at site keys a post's writer deleted: when a
// newer version of the post, or another post, has claimed one meanwhile,
// its writer may have written it before the delete landed, so it is put
// back: the alias page, or the post page rendered from the listing as
// stored now.
func (e *Engine) restoreClaimed(ctx context.Context, keys []string, rc *recorder) error {
	for _, key := range keys {
		if !strings.HasSuffix(key, "index.html") {
			continue
		}
		page, alias, err := e.claimant(ctx, key)
		if err != nil {
			return err
		}
		switch {
		case alias != nil:
			if err := e.put(ctx, *alias); err != nil {
				return err
			}
			rc.wrote(key)
		case page != nil:
			if err := e.repairPage(ctx, page, rc); err != nil {
				return err
			}
		}
	}
	return nil
}

// repairPage renders a post's page from the site listing as stored, if
// the listing holds the version rec records, and puts it as its own
// writer would.
func (e *Engine) repairPage(ctx context.Context, rec *catalog.Record, rc *recorder) error {
	head := &catalog.Head{Listing: catalog.Site}
	if _, err := e.load(ctx, catalog.HeadName(catalog.Site), head); err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("load head of %s: %w", catalog.Site, err)
	}
	_, view := e.siteViews(ctx, head, head, nil)
	cur, err := view.find(rec.Key, rec.Entry.Month)
	if err != nil || cur == nil || cur.Rev != rec.Entry.Rev {
		return err // not listed yet, or moved on: its writer renders it
	}
	n := e.newNavPass()
	n.records = map[string]*catalog.Record{rec.Key: rec}
	full, err := n.content(ctx, nil, cur, head)
	if err != nil || full == nil {
		return err
	}
	f, _, err := n.render(view, view, full, nil, nil)
	if err != nil {
		return err
	}
	return n.put(ctx, f, head.Gen, false, rec.Key, rc)
}

// settle looks at a page a stopped writer may have left stale. It returns
// the entry of the post whose page it is, to be rendered with the others;
// puts back the alias page of a post that claims it as an alias; or
// deletes it.
func (n *navPass) settle(ctx context.Context, page string, rc *recorder) (*catalog.Entry, error) {
	owner, alias, err := n.e.claimant(ctx, page)
	switch {
	case err != nil:
		return nil, err
	case owner != nil:
		return owner.Entry, nil
	case alias != nil:
		if err := n.e.put(ctx, *alias); err != nil {
			return nil, err
		}
		rc.wrote(page)
		return nil, nil
	}
	if err := n.e.dst.Delete(ctx, page, nil); err != nil {
		return nil, fmt.Errorf("delete %s: %w", page, err)
	}
	rc.removed(page)
	// A post that claimed the page meanwhile may have written it first.
	return nil, n.e.restoreClaimed(ctx, []string{page}, rc)
}

// leave runs when the site listing's writer stops with err before its
// last check: the pages it wrote are recorded as unsettled in the first
// post's record, so that the redelivery, or the next writer of that post,
// checks them. (A writer killed outright leaves no such note; the pages it
// wrote are guarded by their generation stamps.)
func (n *navPass) leave(ctx context.Context, ts []*transition, err error) error {
	if len(n.dirty) == 0 || len(ts) == 0 {
		return err
	}
	pages := sortedSet(n.dirty)
	key := ts[0].key
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var rec catalog.Record
		etag, lerr := n.e.load(ctx, catalog.RecordName(key), &rec)
		if lerr != nil {
			return errors.Join(err, fmt.Errorf("note unsettled pages in the record of %s: %w", key, lerr))
		}
		rec.Unsettled = mergeStrings(rec.Unsettled, pages)
		_, serr := n.e.store(ctx, catalog.RecordName(key), &rec, etag)
		if serr == nil {
			return err
		}
		if !errors.Is(serr, blob.ErrPreconditionFailed) {
			return errors.Join(err, fmt.Errorf("note unsettled pages in the record of %s: %w", key, serr))
		}
	}
	return errors.Join(err, fmt.Errorf("note unsettled pages in the record of %s: %w", key, errGaveUp))
}
