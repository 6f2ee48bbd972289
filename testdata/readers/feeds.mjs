// What feed readers make of a postmill site's feeds: each Atom feed read
// by an npm parser that shares no code with the Go side
// (@rowanmanning/feed-parser) must give the same entries as gofeed, and
// each JSON Feed, read as plain JSON, must have what JSON Feed 1.1
// requires and list the same entries.
//
// Run by `go test ./internal/readers -run TestFeedReaders`, which fetches
// the feeds through the local CDN and writes them, gofeed's view of each
// Atom feed and a manifest (feeds.json: see feedPair in
// internal/readers/feeds_test.go) into a folder, the only argument:
//   node feeds.mjs DIR
// It prints one line per feed, then every disagreement, and exits 1 if
// there was one.
import { parseFeed } from "@rowanmanning/feed-parser";
import { decode } from "html-entities";
import { readFileSync } from "node:fs";
import path from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node feeds.mjs DIR (go test ./internal/readers -run TestFeedReaders writes it)");
  process.exit(2);
}
const read = (name) => readFileSync(path.join(dir, name), "utf8");
const pairs = JSON.parse(read("feeds.json"));

const problems = [];

// iso normalizes a date (a Date, or RFC 3339 text) so that the same
// instant compares equal; what is not a date stays as it is.
function iso(d) {
  if (d === null || d === undefined || d === "") return null;
  const t = d instanceof Date ? d : new Date(d);
  return Number.isNaN(t.getTime()) ? `invalid date ${JSON.stringify(d)}` : t.toISOString();
}

// same records a problem when got and want differ, showing where two
// long strings part.
function same(where, field, got, want) {
  const a = JSON.stringify(got ?? null);
  const b = JSON.stringify(want ?? null);
  if (a === b) return;
  if (typeof got === "string" && typeof want === "string" && (got.length > 80 || want.length > 80)) {
    let i = 0;
    while (i < got.length && i < want.length && got[i] === want[i]) i++;
    problems.push(`${where}: ${field} differs at character ${i}: …${JSON.stringify(got.slice(i, i + 40))} vs …${JSON.stringify(want.slice(i, i + 40))}`);
    return;
  }
  problems.push(`${where}: ${field}: ${a}, want ${b}`);
}

// asRead is text as @rowanmanning/feed-parser hands it out, with HTML
// entities decoded once more after XML's own, so that "&#34;" in an HTML
// summary or content comes out as a quote (and "&lt;" as a bare "<": that
// parser's way, not the feed's). gofeed's strings are put through the
// same before comparing. Both are trimmed: that parser trims before it
// decodes, so a trailing "&#xA;" survives as a newline.
const asRead = (s) => (typeof s === "string" ? decode(s.trim()).trim() : s);
const trim = (s) => (typeof s === "string" ? s.trim() : s);

// authorsOf applies Atom's rule (RFC 4287, 4.2.1) that an entry without
// authors has the feed's: the npm parser applies it, gofeed does not.
const authorsOf = (entry, feed) => (entry.authors.length > 0 ? entry.authors : feed.authors);

// checkAtom compares the npm parser's reading of an Atom feed with
// gofeed's.
function checkAtom(p, xml, gofeed) {
  const where = `${p.key} (npm vs gofeed)`;
  let feed;
  try {
    feed = parseFeed(xml);
  } catch (e) {
    problems.push(`${where}: @rowanmanning/feed-parser cannot read it: ${e.message}`);
    return;
  }
  same(where, "type", `${feed.meta.type} ${feed.meta.version}`, "atom 1.0");
  same(where, "title", feed.title, asRead(gofeed.title));
  same(where, "self link", feed.self, gofeed.self);
  same(where, "self link", feed.self, p.url);
  same(where, "home link", feed.url, gofeed.home);
  same(where, "updated", iso(feed.updated), iso(gofeed.updated));
  same(where, "language", feed.language, gofeed.language);
  same(where, "authors", feed.authors.map((a) => a.name), gofeed.authors);
  same(where, "entries", feed.items.length, gofeed.entries.length);
  feed.items.forEach((it, i) => {
    const want = gofeed.entries[i];
    if (!want) return;
    const at = `${where} entry ${i} (${want.id})`;
    same(at, "id", it.id, want.id);
    same(at, "title", it.title, asRead(want.title));
    same(at, "link", it.url, want.url);
    same(at, "published", iso(it.published), iso(want.published));
    same(at, "updated", iso(it.updated), iso(want.updated));
    same(at, "authors", it.authors.map((a) => a.name), authorsOf(want, gofeed));
    same(at, "category labels", it.categories.map((c) => c.label ?? c.term), want.labels.map(asRead));
    same(at, "category terms", it.categories.map((c) => c.term), want.terms);
    same(at, "summary", trim(it.description), asRead(want.summary));
    same(at, "content", trim(it.content), asRead(want.content));
  });
  return feed.items.length;
}

// checkJSONFeed reads a JSON Feed as plain JSON: the fields JSON Feed 1.1
// requires (version, title, items; per item an id and content_html or
// content_text), its own URL, and the same entries as the Atom feed.
function checkJSONFeed(p, text, gofeed) {
  const where = `${p.key.replace(/\.xml$/, ".json")} (JSON Feed vs gofeed's Atom)`;
  let f;
  try {
    f = JSON.parse(text);
  } catch (e) {
    problems.push(`${where}: not JSON: ${e.message}`);
    return;
  }
  same(where, "version", f.version, "https://jsonfeed.org/version/1.1");
  if (typeof f.title !== "string" || !f.title) problems.push(`${where}: no title`);
  if (!Array.isArray(f.items)) {
    problems.push(`${where}: items is not an array`);
    return;
  }
  same(where, "title", f.title, gofeed.title);
  same(where, "feed_url", f.feed_url, p.jsonURL);
  same(where, "home_page_url", f.home_page_url, gofeed.home);
  same(where, "language", f.language, gofeed.language);
  same(where, "authors", (f.authors ?? []).map((a) => a.name), gofeed.authors);
  same(where, "items", f.items.length, gofeed.entries.length);
  const ids = new Set();
  f.items.forEach((it, i) => {
    const want = gofeed.entries[i] ?? {};
    const at = `${where} item ${i} (${it.id})`;
    if (typeof it.id !== "string" || !it.id) problems.push(`${at}: id must be a non-empty string`);
    if (ids.has(it.id)) problems.push(`${at}: id repeats`);
    ids.add(it.id);
    if (typeof it.content_html !== "string" && typeof it.content_text !== "string") {
      problems.push(`${at}: neither content_html nor content_text`);
    }
    for (const field of ["date_published", "date_modified"]) {
      if (it[field] !== undefined && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(it[field])) {
        problems.push(`${at}: ${field} ${JSON.stringify(it[field])} is not RFC 3339`);
      }
    }
    if (it.tags !== undefined && !(Array.isArray(it.tags) && it.tags.every((t) => typeof t === "string"))) {
      problems.push(`${at}: tags must be an array of strings`);
    }
    same(at, "id", it.id, want.id);
    same(at, "title", it.title, want.title);
    same(at, "url", it.url, want.url);
    same(at, "date_published", iso(it.date_published), iso(want.published));
    same(at, "date_modified", iso(it.date_modified), iso(want.updated));
    same(at, "tags", it.tags ?? [], want.labels);
    same(at, "authors", (it.authors ?? f.authors ?? []).map((a) => a.name), authorsOf(want, gofeed));
    same(at, "content_html", it.content_html, want.content);
  });
}

for (const p of pairs) {
  const gofeed = JSON.parse(read(p.view));
  const before = problems.length;
  const n = checkAtom(p, read(p.atom), gofeed);
  checkJSONFeed(p, read(p.jsonFeed), gofeed);
  console.log(`${p.key}: ${n === 1 ? "1 entry" : `${n ?? "?"} entries`}: ${problems.length === before ? "both parsers and the JSON Feed agree" : `${problems.length - before} disagreements`}`);
}
console.log(`${pairs.length} feeds read`);
if (problems.length > 0) {
  console.log(`\n${problems.length} disagreements:`);
  for (const p of problems) console.log(`  ${p}`);
  process.exit(1);
}
