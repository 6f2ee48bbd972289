// Package catalog is the site's state: what is published, and in which
// listings. It is split into small shards so that publishing one post reads
// and writes a bounded part of it, whatever the size of the site:
//
//   - a Record per source file: its current version, its rendered entry and
//     the outputs it owns (page, aliases, assets);
//   - a Claim per page path, so two posts can never own one URL;
//   - per listing (the whole site, and each tag) a Head holding the newest
//     entries with their content (what feeds and the first page need) and
//     the listing's months, and one Month shard per calendar month holding
//     that month's entries without content (what archive pages and sitemaps
//     need).
//
// Shards are merged under rules that make replays, duplicates and
// out-of-order application harmless: every entry carries the revision of
// the record it came from, a lower revision never replaces a higher one,
// and removals leave a tombstone for a while so a late writer cannot bring
// an entry back.
//
// The package decides nothing about storage; package publish loads and
// commits shards with conditional writes.
package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/postmill/postmill/internal/post"
)

// Site is the listing of every published post.
const Site = "site"

// TagListing names the listing of one tag.
func TagListing(slug string) string { return "tag/" + slug }

// TagOf returns the tag slug of a listing name, or "" for the site.
func TagOf(listing string) string { return strings.TrimPrefix(listing, "tag/") }

// Tag is one tag of an entry: its slug (the URL form) and the spelling the
// post used.
type Tag struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Entry is what listings, feeds and sitemaps know of one published post.
type Entry struct {
	Key       string      `json:"key"`
	Rev       int64       `json:"rev"`
	ID        string      `json:"id"`
	Path      string      `json:"path"`
	Title     string      `json:"title"`
	Published time.Time   `json:"published"`
	Updated   time.Time   `json:"updated"`
	Month     string      `json:"month"` // "2019-11", in the site's zone
	Tags      []Tag       `json:"tags,omitempty"`
	Author    post.Author `json:"author,omitzero"`
	// Summary is HTML; Truncated says the post has more than its summary.
	Summary        string `json:"summary,omitempty"`
	Truncated      bool   `json:"truncated,omitempty"`
	Description    string `json:"description,omitempty"`
	ReadingMinutes int    `json:"readingMinutes,omitempty"`
	// Content is the full HTML with absolute links. Records and heads keep
	// it; months drop it.
	Content string `json:"content,omitempty"`
}

// Listings returns the names of the listings e belongs to, sorted.
func (e *Entry) Listings() []string {
	if e == nil {
		return nil
	}
	l := []string{Site}
	for _, t := range e.Tags {
		l = append(l, TagListing(t.Slug))
	}
	sort.Strings(l)
	return l
}

func (e *Entry) light() Entry {
	c := *e
	c.Content = ""
	return c
}

// newer orders entries newest first: by published time, then by key so
// the order is total.
func newer(a, b *Entry) bool {
	if !a.Published.Equal(b.Published) {
		return a.Published.After(b.Published)
	}
	return a.Key < b.Key
}

// Record is the state of one source file.
type Record struct {
	Key string `json:"key"`
	// Rev grows by one every time the record changes; entries derived from
	// it carry it, so that older derivations never overwrite newer ones.
	Rev int64 `json:"rev"`
	// ETag of the source version this record reflects, and the S3 event
	// sequencer that announced it, when one was seen.
	SourceETag string `json:"sourceETag,omitempty"`
	Sequencer  string `json:"sequencer,omitempty"`
	// Status is "published", "draft", "scheduled", "expired", "rejected"
	// or "deleted".
	Status string `json:"status"`
	// Problems explains a rejection, one "key:line: problem" per item.
	Problems []string `json:"problems,omitempty"`
	// Entry is set while the post is published.
	Entry *Entry `json:"entry,omitempty"`
	// Aliases and Assets are paths the post owns besides its page.
	Aliases []string `json:"aliases,omitempty"`
	Assets  []string `json:"assets,omitempty"`
	// NextChange is when the post's visibility changes by itself.
	NextChange time.Time `json:"nextChange,omitzero"`
	// Pending lists listings a writer was bringing in line with this
	// record when it last changed; a non-empty list after a crash tells
	// the next writer what to repair.
	Pending []string `json:"pending,omitempty"`
	// PendingDeletes are site keys an earlier version owned that may still
	// need deleting.
	PendingDeletes []string `json:"pendingDeletes,omitempty"`
	// Vacated are the publish times of earlier versions that sat
	// elsewhere in the site's order: the posts around those places link
	// to this one from their pages until a writer has re-rendered them.
	Vacated []time.Time `json:"vacated,omitempty"`
	// Unsettled are post pages a writer wrote and could not check again
	// before it stopped (it gave up or failed): its view of the site may
	// have been stale. The next writer of this record checks them.
	Unsettled []string `json:"unsettled,omitempty"`
}

// Paths returns every page path the record owns: its page and aliases.
func (r *Record) Paths() []string {
	if r == nil || r.Entry == nil {
		return nil
	}
	return append([]string{r.Entry.Path}, r.Aliases...)
}

// Claim says which source file owns a page path.
type Claim struct {
	Path  string `json:"path"`
	Owner string `json:"owner"`
	Rev   int64  `json:"rev"`
}

// MonthCount is how many entries of a listing fall in one month, and the
// generation of the month shard the count was read from. A head holds one
// per month, and every publish reads and writes it, so it is stored as a
// short array: ["2019-11",9,12].
type MonthCount struct {
	Month string
	Count int
	Gen   int64
}

// TagCount is a tag in the site's tag index, stored as ["go","Go",9,12].
type TagCount struct {
	Slug  string
	Name  string
	Count int
	Gen   int64
}

func (m MonthCount) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{m.Month, m.Count, m.Gen})
}

// UnmarshalJSON reads the array, and the object form state was first
// written in.
func (m *MonthCount) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		var o struct {
			Month string `json:"month"`
			Count int    `json:"count"`
			Gen   int64  `json:"gen"`
		}
		err := json.Unmarshal(b, &o)
		*m = MonthCount(o)
		return err
	}
	return unmarshalTuple(b, &m.Month, &m.Count, &m.Gen)
}

func (t TagCount) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{t.Slug, t.Name, t.Count, t.Gen})
}

// UnmarshalJSON reads the array, and the object form state was first
// written in.
func (t *TagCount) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		var o struct {
			Slug  string `json:"slug"`
			Name  string `json:"name"`
			Count int    `json:"count"`
			Gen   int64  `json:"gen"`
		}
		err := json.Unmarshal(b, &o)
		*t = TagCount(o)
		return err
	}
	return unmarshalTuple(b, &t.Slug, &t.Name, &t.Count, &t.Gen)
}

// unmarshalTuple decodes a JSON array of exactly len(dst) elements into
// dst, in order.
func unmarshalTuple(b []byte, dst ...any) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) != len(dst) {
		return fmt.Errorf("want an array of %d values, got %d", len(dst), len(raw))
	}
	for i, r := range raw {
		if err := json.Unmarshal(r, dst[i]); err != nil {
			return err
		}
	}
	return nil
}

// Tombstone remembers that a key left a shard at a revision.
type Tombstone struct {
	Key string    `json:"key"`
	Rev int64     `json:"rev"`
	At  time.Time `json:"at"`
}

// TombstoneTTL is how long a removal is remembered. It must outlast the
// longest a writer can take (a function's timeout), so no late writer can
// bring an entry back.
const TombstoneTTL = time.Hour

// Head is the top of one listing.
type Head struct {
	Listing string `json:"listing"`
	// Gen grows with every change, so derived counts can tell newer from
	// older.
	Gen int64 `json:"gen"`
	// Entries are the newest entries with content, newest first, at most
	// Capacity of them.
	Entries []Entry      `json:"entries,omitempty"`
	Months  []MonthCount `json:"months,omitempty"` // newest first
	// Sharded is set once the listing outgrew its head: from then on its
	// entries live in month shards and the head keeps the newest. Until
	// then (small tags, the common case) the head holds every entry and
	// there are no month shards to read or write.
	Sharded bool `json:"sharded,omitempty"`
	// Epoch names the generation of month shards a tag listing got when
	// it was sharded. Each conversion writes fresh shards under a new
	// epoch, so shards left by a conversion that lost its race are never
	// read. The site listing, sharded from the start, has none.
	Epoch string `json:"epoch,omitempty"`
	// Tags is the site's tag index; only the site listing has it.
	Tags       []TagCount  `json:"tags,omitempty"`
	Tombstones []Tombstone `json:"tombstones,omitempty"`
}

// LiveMonths are the months that hold entries, newest first.
func (h *Head) LiveMonths() []MonthCount {
	var out []MonthCount
	for _, m := range h.Months {
		if m.Count > 0 {
			out = append(out, m)
		}
	}
	return out
}

// LiveTags are the site's tags that have posts, by slug.
func (h *Head) LiveTags() []TagCount {
	var out []TagCount
	for _, t := range h.Tags {
		if t.Count > 0 {
			out = append(out, t)
		}
	}
	return out
}

// Count is the number of entries in the listing.
func (h *Head) Count() int {
	n := 0
	for _, m := range h.Months {
		n += m.Count
	}
	return n
}

// Month is one calendar month of a listing.
type Month struct {
	Listing    string      `json:"listing"`
	Epoch      string      `json:"epoch,omitempty"`
	Month      string      `json:"month"`
	Gen        int64       `json:"gen"`
	Entries    []Entry     `json:"entries,omitempty"` // newest first, no content
	Tombstones []Tombstone `json:"tombstones,omitempty"`
}

// MonthOf returns the archive month of t in loc.
func MonthOf(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01") }

// Shard names, relative to the state prefix. Keys are escaped so that any
// source key maps to one flat, readable name.
func RecordName(key string) string   { return "posts/" + url.PathEscape(key) + ".json" }
func HeadName(listing string) string { return "lists/" + listing + "/head.json" }
func MonthName(listing, epoch, month string) string {
	if epoch == "" {
		return "lists/" + listing + "/" + month + ".json"
	}
	return "lists/" + listing + "/" + epoch + "/" + month + ".json"
}
func ClaimName(path string) string { return "paths/" + url.PathEscape(path) + ".json" }

// entryIndex returns the index of key in es, or -1.
func entryIndex(es []Entry, key string) int {
	for i := range es {
		if es[i].Key == key {
			return i
		}
	}
	return -1
}

// guard decides whether a change at rev may touch key in a shard holding
// es and ts: not when the shard already reflects a newer revision.
func guard(es []Entry, ts []Tombstone, key string, rev int64, now time.Time) bool {
	if i := entryIndex(es, key); i >= 0 && es[i].Rev > rev {
		return false
	}
	for _, t := range ts {
		if t.Key == key && t.Rev > rev && now.Sub(t.At) <= TombstoneTTL {
			return false
		}
	}
	return true
}

// put upserts or removes key in a newest-first entry list, and reports
// whether anything changed. e == nil removes.
func put(es []Entry, ts []Tombstone, key string, rev int64, e *Entry, now time.Time) ([]Entry, []Tombstone, bool) {
	if !guard(es, ts, key, rev, now) {
		return es, ts, false
	}
	changed := false
	if i := entryIndex(es, key); i >= 0 {
		if e != nil && equalEntry(&es[i], e) {
			return es, ts, false
		}
		es = append(es[:i:i], es[i+1:]...)
		changed = true
	}
	if e == nil {
		// Always remember a removal, present or not: a slower writer with
		// an older revision must not add the entry afterwards.
		for _, t := range ts {
			if t.Key == key && t.Rev >= rev {
				return es, ts, changed
			}
		}
		ts = append(pruneTombstones(ts, key, now), Tombstone{Key: key, Rev: rev, At: now})
		sort.Slice(ts, func(i, j int) bool { return ts[i].Key < ts[j].Key })
		return es, ts, true
	}
	ts = pruneTombstones(ts, key, now)
	i := sort.Search(len(es), func(i int) bool { return !newer(&es[i], e) })
	es = append(es, Entry{})
	copy(es[i+1:], es[i:])
	es[i] = *e
	return es, ts, true
}

// pruneTombstones drops the tombstone of key (about to be replaced) and
// every tombstone older than TombstoneTTL.
func pruneTombstones(ts []Tombstone, key string, now time.Time) []Tombstone {
	out := ts[:0:0]
	for _, t := range ts {
		if t.Key == key || now.Sub(t.At) > TombstoneTTL {
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func equalEntry(a, b *Entry) bool {
	if a.Rev != b.Rev || a.Key != b.Key || a.Path != b.Path || a.Title != b.Title ||
		!a.Published.Equal(b.Published) || !a.Updated.Equal(b.Updated) || a.Month != b.Month ||
		a.Author != b.Author || a.Summary != b.Summary || a.Truncated != b.Truncated ||
		a.Description != b.Description || a.ReadingMinutes != b.ReadingMinutes ||
		a.Content != b.Content || a.ID != b.ID || len(a.Tags) != len(b.Tags) {
		return false
	}
	for i := range a.Tags {
		if a.Tags[i] != b.Tags[i] {
			return false
		}
	}
	return true
}

// PutMonth applies key's new state (e, nil for gone) at rev to a month.
func (m *Month) Put(key string, rev int64, e *Entry, now time.Time) bool {
	var light *Entry
	if e != nil {
		l := e.light()
		light = &l
	}
	var changed bool
	m.Entries, m.Tombstones, changed = put(m.Entries, m.Tombstones, key, rev, light, now)
	if changed {
		m.Gen++
	}
	return changed
}

// MaxHeadContent bounds the content an entry brings into a head: a
// feed's worth of huge posts must not make the head too large to load.
// A larger post's feed entry carries its summary and link only.
const MaxHeadContent = 512 << 10

func forHead(e *Entry) *Entry {
	if e == nil || len(e.Content) <= MaxHeadContent {
		return e
	}
	c := *e
	c.Content = ""
	return &c
}

// Put applies key's new state to the head's entries. It reports whether
// the head changed, and whether it now holds fewer entries than it should
// (Refill is then needed).
func (h *Head) Put(key string, rev int64, e *Entry, capacity int, now time.Time) (changed bool) {
	e = forHead(e)
	inHead := entryIndex(h.Entries, key) >= 0
	if e != nil && !inHead && len(h.Entries) >= capacity && !newer(e, &h.Entries[len(h.Entries)-1]) {
		return false // too old for the head; it lives in its month only
	}
	h.Entries, h.Tombstones, changed = put(h.Entries, h.Tombstones, key, rev, e, now)
	dropped := false
	if len(h.Entries) > capacity {
		dropped = entryIndex(h.Entries[capacity:], key) >= 0
		h.Entries = h.Entries[:capacity]
		changed = true
	}
	// An entry that lands last while the listing has entries the head
	// does not hold may not belong: one of those may be newer (a post
	// redated into the past). Drop it and let Refill take the truly
	// newest from the months.
	if n := len(h.Entries); changed && e != nil && n > 0 && h.Entries[n-1].Key == key && h.Count() > n {
		h.Entries = h.Entries[:n-1]
		dropped = true
	}
	if dropped {
		// The head no longer holds key, but has seen it at rev: a slower
		// writer with an older revision, dated within the head, must not
		// bring that back.
		h.Tombstones = append(pruneTombstones(h.Tombstones, key, now), Tombstone{Key: key, Rev: rev, At: now})
		sort.Slice(h.Tombstones, func(i, j int) bool { return h.Tombstones[i].Key < h.Tombstones[j].Key })
	}
	return changed
}

// Compact reports whether the head holds every entry of its listing. The
// site's listing is always sharded: its months also make the sitemaps.
func (h *Head) Compact() bool { return h.Listing != Site && !h.Sharded }

// PutAll applies key's new state to a compact head, which keeps every
// entry, and recounts its months from the entries.
func (h *Head) PutAll(key string, rev int64, e *Entry, now time.Time) bool {
	e = forHead(e)
	var changed bool
	h.Entries, h.Tombstones, changed = put(h.Entries, h.Tombstones, key, rev, e, now)
	if changed {
		h.recountMonths()
	}
	return changed
}

func (h *Head) recountMonths() {
	counts := map[string]int{}
	for _, e := range h.Entries {
		counts[e.Month]++
	}
	var ms []MonthCount
	for m, n := range counts {
		ms = append(ms, MonthCount{Month: m, Count: n})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Month > ms[j].Month })
	h.Months = ms
}

// MonthView is the month m of a compact head, built from its entries, so
// its archive page renders exactly as a month shard's would.
func (h *Head) MonthView(m string) *Month {
	v := &Month{Listing: h.Listing, Month: m}
	for _, e := range h.Entries {
		if e.Month == m {
			v.Entries = append(v.Entries, e.light())
		}
	}
	return v
}

// SetMonth records month m's count from the month shard at generation gen.
// An older generation than the one recorded is ignored.
func (h *Head) SetMonth(m string, count int, gen int64) bool {
	i := sort.Search(len(h.Months), func(i int) bool { return h.Months[i].Month <= m })
	if i < len(h.Months) && h.Months[i].Month == m {
		if h.Months[i].Gen > gen || (h.Months[i].Gen == gen && h.Months[i].Count == count) {
			return false
		}
		// A month that empties keeps its row with count 0, so the
		// generation still guards against an older count coming back.
		h.Months[i] = MonthCount{Month: m, Count: count, Gen: gen}
		return true
	}
	if count == 0 {
		return false
	}
	h.Months = append(h.Months, MonthCount{})
	copy(h.Months[i+1:], h.Months[i:])
	h.Months[i] = MonthCount{Month: m, Count: count, Gen: gen}
	return true
}

// SetTag records a tag's display name and count, read from the tag's head
// at generation gen, in the site's tag index.
func (h *Head) SetTag(slug, name string, count int, gen int64) bool {
	i := sort.Search(len(h.Tags), func(i int) bool { return h.Tags[i].Slug >= slug })
	if i < len(h.Tags) && h.Tags[i].Slug == slug {
		t := h.Tags[i]
		if t.Gen > gen || (t.Gen == gen && t.Count == count && t.Name == name) {
			return false
		}
		// An emptied tag keeps its row with count 0, as months do.
		h.Tags[i] = TagCount{Slug: slug, Name: name, Count: count, Gen: gen}
		return true
	}
	if count == 0 {
		return false
	}
	h.Tags = append(h.Tags, TagCount{})
	copy(h.Tags[i+1:], h.Tags[i:])
	h.Tags[i] = TagCount{Slug: slug, Name: name, Count: count, Gen: gen}
	return true
}

// TagName is the display spelling of the head's tag: the one its newest
// post uses.
func (h *Head) TagName() string { return tagName(h.Listing, h.Entries) }

// TagName is the tag's spelling in this month: the one its newest post
// uses, so a month's page depends on nothing outside the month.
func (m *Month) TagName() string { return tagName(m.Listing, m.Entries) }

func tagName(listing string, es []Entry) string {
	slug := TagOf(listing)
	for _, e := range es {
		for _, t := range e.Tags {
			if t.Slug == slug {
				return t.Name
			}
		}
	}
	return slug
}

// NeedsRefill reports whether the head holds fewer entries than it should:
// the listing has more posts than the head keeps, but the head is short.
func (h *Head) NeedsRefill(capacity int) bool {
	return len(h.Entries) < capacity && len(h.Entries) < h.Count()
}

// Refill candidates: the months, newest first, that may hold entries the
// head lacks.
func (h *Head) RefillMonths() []string {
	var ms []string
	oldest := ""
	if n := len(h.Entries); n > 0 {
		oldest = h.Entries[n-1].Month
	}
	for _, m := range h.LiveMonths() {
		if oldest == "" || m.Month <= oldest {
			ms = append(ms, m.Month)
		}
	}
	return ms
}

// Missing returns, from month entries, those newer-ordered candidates the
// head lacks, newest first.
func (h *Head) Missing(month []Entry) []Entry {
	var out []Entry
	for _, e := range month {
		if entryIndex(h.Entries, e.Key) < 0 {
			out = append(out, e)
		}
	}
	return out
}

// Add places a refilled entry (with content) into the head regardless of
// capacity checks; callers add only what NeedsRefill asked for.
func (h *Head) Add(e Entry) {
	e = *forHead(&e)
	if entryIndex(h.Entries, e.Key) >= 0 {
		return
	}
	i := sort.Search(len(h.Entries), func(i int) bool { return !newer(&h.Entries[i], &e) })
	h.Entries = append(h.Entries, Entry{})
	copy(h.Entries[i+1:], h.Entries[i:])
	h.Entries[i] = e
}

// String names a record for logs.
func (r *Record) String() string { return fmt.Sprintf("%s@%d(%s)", r.Key, r.Rev, r.Status) }

// cloneEntries copies entries deeply enough that changing the copy (its
// slices or its entries' tags) leaves the original as it was.
func cloneEntries(es []Entry) []Entry {
	if es == nil {
		return nil
	}
	out := make([]Entry, len(es))
	copy(out, es)
	for i := range out {
		out[i].Tags = append([]Tag(nil), es[i].Tags...)
	}
	return out
}

// Clone returns a copy of h that shares nothing mutable with it.
func (h *Head) Clone() *Head {
	c := *h
	c.Entries = cloneEntries(h.Entries)
	c.Months = append([]MonthCount(nil), h.Months...)
	c.Tags = append([]TagCount(nil), h.Tags...)
	c.Tombstones = append([]Tombstone(nil), h.Tombstones...)
	return &c
}

// Clone returns a copy of m that shares nothing mutable with it.
func (m *Month) Clone() *Month {
	c := *m
	c.Entries = cloneEntries(m.Entries)
	c.Tombstones = append([]Tombstone(nil), m.Tombstones...)
	return &c
}

// SameEntries reports whether two heads hold the same versions of the
// same posts in the same order. An entry is fixed by its key and
// revision, so what is rendered from the entries alone (the feeds) is
// the same for both.
func SameEntries(a, b *Head) bool {
	if a == nil || b == nil || a.Listing != b.Listing || len(a.Entries) != len(b.Entries) {
		return false
	}
	for i := range a.Entries {
		if a.Entries[i].Key != b.Entries[i].Key || a.Entries[i].Rev != b.Entries[i].Rev {
			return false
		}
	}
	return true
}
