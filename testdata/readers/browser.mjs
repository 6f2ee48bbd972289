// What a reader's browser makes of a postmill site: Debian's Chromium,
// headless, driven by playwright-core, loads each page of a plan at a
// desktop and a phone width and checks it.
//
// Run by `go test ./internal/readers -run TestBrowser`, which publishes
// the test posts, serves them through the local CDN and passes the plan
// (see browserPlan in internal/readers/browser_test.go) as the only
// argument. It prints one line per page and width, then every problem,
// and exits 1 if there was one.
//
// Per page and width it checks: the document's status; no console errors,
// uncaught exceptions or CSP violations; no failed or 4xx/5xx same-site
// requests; every same-site link, image, stylesheet and feed the page
// names answers 200 (a HEAD through the CDN), and every in-page #fragment
// has its target; html[lang], <title> and the meta description are not
// empty; an Atom feed is advertised with link[rel=alternate]; nothing is
// wider than the window; every image is limited by max-width and fits
// its container; no table cell is squeezed to a word per line; the dark
// scheme changes the page. Screenshots, in light and dark, go to
// plan.artifacts.
import { chromium } from "playwright-core";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";

const plan = JSON.parse(process.argv[2] ?? "null");
if (!plan?.base || !plan.pages?.length || !plan.artifacts) {
  console.error("usage: node browser.mjs PLAN_JSON (go test ./internal/readers -run TestBrowser passes it)");
  process.exit(2);
}
const chromiumPath = plan.chromium || "/usr/bin/chromium";
if (!existsSync(chromiumPath)) {
  console.error(`no Chromium at ${chromiumPath}: apt-get install -y chromium (make test does)`);
  process.exit(1);
}
mkdirSync(plan.artifacts, { recursive: true });

const origin = new URL(plan.base).origin;
const known404 = new Set(plan.missing ?? []);
const sameSite = (u) => {
  try {
    return new URL(u).origin === origin;
  } catch {
    return false;
  }
};
const withoutHash = (u) => u.split("#")[0];
const pathOf = (u) => new URL(u).pathname;

const widths = [
  { name: "desktop", viewport: { width: 1280, height: 800 } },
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
];

// The flags Chromium needs as root on this machine's closed network;
// Playwright gives it a new, empty profile folder of its own.
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
  ],
});

const problems = []; // "page@width: category: detail"
const statusOf = new Map(); // URL → Promise of its status, so each is asked once

// status is the status of a HEAD request for u through the CDN.
function status(u) {
  if (!statusOf.has(u)) {
    statusOf.set(
      u,
      fetch(u, { method: "HEAD", redirect: "manual" }).then(
        (r) => r.status,
        (e) => `no answer (${e.cause?.code ?? e.message})`,
      ),
    );
  }
  return statusOf.get(u);
}

// checkPage loads one page at one width and returns its problems by
// category.
async function checkPage(page, spec, width) {
  const url = new URL(spec.path, plan.base).href;
  const found = {};
  const report = (category, detail) => (found[category] ??= []).push(detail);
  // A 404 is expected for the page itself when its status is 404, and
  // for the resources known to be missing.
  const expected404 = (u) => (u === url && spec.status === 404) || known404.has(pathOf(u));

  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const at = m.location()?.url ?? "";
    if (/^Failed to load resource/.test(m.text()) && at && expected404(at)) return;
    report("console", `${m.text()}${at ? ` (${at})` : ""}`);
  });
  page.on("pageerror", (e) => report("console", `uncaught ${e}`));
  page.on("requestfailed", (r) => {
    if (sameSite(r.url())) report("request", `${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on("response", (r) => {
    if (sameSite(r.url()) && r.status() >= 400 && !(r.status() === 404 && expected404(r.url()))) {
      report("request", `${r.url()}: ${r.status()}`);
    }
  });

  const resp = await page.goto(url, { waitUntil: "load" });
  if (resp?.status() !== spec.status) report("status", `${url}: ${resp?.status()}, want ${spec.status}`);

  const facts = await page.evaluate((viewportWidth) => {
    const rect = (el) => el.getBoundingClientRect();
    // On a phone an overflowing page widens the layout viewport itself.
    const winWidth = Math.min(document.documentElement.clientWidth, viewportWidth);
    // What sticks out to the right, outside anything that scrolls or
    // clips sideways: the culprits when the page is too wide.
    const clipped = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(p).overflowX)) return true;
      }
      return false;
    };
    const scrollWidth = document.documentElement.scrollWidth;
    const wide =
      scrollWidth <= winWidth
        ? []
        : [...document.body.querySelectorAll("*")]
            .filter((el) => rect(el).right > winWidth + 0.5 && !clipped(el))
            .slice(0, 5)
            .map((el) => {
              const cls = el.getAttribute("class");
              return `<${el.localName}${cls ? ` class="${cls}"` : ""}> ${Math.round(rect(el).width)}px`;
            });
    return {
      location: location.href,
      lang: document.documentElement.lang,
      title: document.title,
      description: document.querySelector('meta[name="description"]')?.content ?? "",
      atom: [...document.querySelectorAll('link[rel~="alternate"][type="application/atom+xml"]')].map((l) => l.href),
      links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
      resources: [
        ...[...document.images].map((i) => i.currentSrc || i.src),
        ...[...document.querySelectorAll("link[href]")].map((l) => l.href),
      ],
      ids: [...document.querySelectorAll("[id]")].map((e) => e.id),
      nav: [...document.querySelectorAll("nav.post-nav a[rel]")].map((a) => a.rel),
      scrollWidth,
      innerWidth: window.innerWidth,
      wide,
      images: [...document.images].map((i) => ({
        src: i.currentSrc || i.src,
        maxWidth: getComputedStyle(i).maxWidth,
        width: rect(i).width,
        room: rect(i.parentElement).width,
      })),
      // Table cells squeezed narrower than five of their ems: a word
      // or two per line.
      squeezed: [...document.querySelectorAll("td, th")]
        .filter((c) => c.textContent.trim() && rect(c).width < 5 * parseFloat(getComputedStyle(c).fontSize))
        .slice(0, 3)
        .map((c) => `"${c.textContent.trim().slice(0, 30)}" ${Math.round(rect(c).width)}px`),
      csp: window.__cspViolations ?? null,
    };
  }, width.viewport.width);

  if (!facts.lang.trim()) report("head", "html[lang] is empty");
  if (!facts.title.trim()) report("head", "<title> is empty");
  if (!facts.description.trim()) report("head", "no meta description");
  if (facts.atom.length === 0) report("head", 'no link[rel=alternate][type="application/atom+xml"]');
  for (const rel of spec.nav ?? []) {
    if (!facts.nav.includes(rel)) report("nav", `no ${rel === "prev" ? "older" : "newer"} post link (a[rel=${rel}] in nav.post-nav)`);
  }
  if (facts.csp === null) report("csp", "the violation listener did not run: CSP violations would go unseen");
  for (const v of facts.csp ?? []) report("csp", v);

  const here = withoutHash(facts.location);
  const ids = new Set(facts.ids);
  const targets = new Set();
  for (const u of [...facts.links, ...facts.resources, ...facts.atom]) {
    if (!sameSite(u)) continue;
    const hash = new URL(u).hash;
    if (withoutHash(u) === here && hash.length > 1) {
      const id = decodeURIComponent(hash.slice(1));
      if (!ids.has(id)) report("link", `${u}: no element with id "${id}" on the page`);
      continue;
    }
    targets.add(withoutHash(u));
  }
  for (const u of [...targets].sort()) {
    const got = await status(u);
    const want = known404.has(pathOf(u)) ? 404 : 200;
    if (got !== want) {
      report("link", `${u}: ${got}, want ${want}${want === 404 ? " (it is listed as missing: take it off the list)" : ""}`);
    }
  }

  if (facts.scrollWidth > facts.innerWidth || facts.scrollWidth > width.viewport.width) {
    report(
      "overflow",
      `page is ${facts.scrollWidth}px wide in a ${width.viewport.width}px window (innerWidth ${facts.innerWidth}); widest: ${facts.wide.join(", ") || "?"}`,
    );
  }
  for (const img of facts.images) {
    if (img.maxWidth !== "100%") report("image", `${img.src}: max-width ${img.maxWidth}, want 100%`);
    if (img.width > img.room + 0.5) report("image", `${img.src}: ${img.width}px wide in ${img.room}px`);
  }
  if (facts.squeezed.length > 0) report("table", `cells squeezed to a word per line: ${facts.squeezed.join(", ")}`);
  return found;
}

// fullHeight caps whole-page screenshots: the top of the long post shows
// as much as its twenty thousand pixels would.
const fullHeight = 6000;

// shoot saves the window as NAME.png and, when full, the whole page (up
// to fullHeight) as NAME-full.png. The whole page is taken through a
// window that tall: Chromium's own full-page capture of the long post
// takes from seconds to half a minute.
async function shoot(page, name, full) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(plan.artifacts, `${name}.png`) });
  if (!full) return;
  const viewport = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height: Math.min(height, fullHeight) });
  await page.screenshot({ path: path.join(plan.artifacts, `${name}-full.png`) });
  await page.setViewportSize(viewport);
}

// shootAt saves the window scrolled to the first element matching
// selector, with some of what comes before it.
async function shootAt(page, selector, name) {
  const el = page.locator(selector).first();
  if ((await el.count()) === 0) return false;
  await el.evaluate((e) => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 80));
  await page.screenshot({ path: path.join(plan.artifacts, `${name}.png`) });
  return true;
}

const background = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

// screenshots saves what a person should look at: every page at the
// top and whole; the long post's first code block and table; the long
// post on a desktop and the home page on a phone in the dark scheme too
// (the window, the code and the table).
async function screenshots(page, spec, width) {
  const name = `${spec.name}-${width.name}`;
  await shoot(page, name, true);
  if (spec.name === "post") {
    await shootAt(page, ".content pre", `${name}-code`);
    await shootAt(page, ".content table", `${name}-table`);
  }
  if ((spec.name === "post" && width.name === "desktop") || (spec.name === "home" && width.name === "phone")) {
    const light = await background(page);
    await page.emulateMedia({ colorScheme: "dark" });
    const dark = await background(page);
    if (light === dark) problems.push(`${spec.name}@${width.name}: dark: the background stays ${light} under prefers-color-scheme: dark`);
    await shoot(page, `${name}-dark`, false);
    if (spec.name === "post") {
      await shootAt(page, ".content pre", `${name}-dark-code`);
      await shootAt(page, ".content table", `${name}-dark-table`);
    }
  }
}

const checks = ["console", "csp", "request", "link", "head", "overflow", "image", "table"];
for (const width of widths) {
  const { name: _, ...options } = width;
  const context = await browser.newContext(options);
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__cspViolations.push(`${e.violatedDirective} refused ${e.blockedURI || "inline code"} (${e.sourceFile || "?"}:${e.lineNumber})`),
    );
  });
  for (const spec of plan.pages) {
    const tag = `${spec.name}@${width.name}`;
    const page = await context.newPage();
    const started = Date.now();
    try {
      const found = await checkPage(page, spec, width);
      if (spec.canary) {
        // The canary breaks every rule; a check that sees nothing there
        // would see nothing anywhere. Only the phone is narrow enough for
        // its wide image to overflow.
        const blind = checks.filter((c) => !found[c] && (c !== "overflow" || width.name === "phone"));
        for (const c of blind) problems.push(`${tag}: the ${c} check found nothing on the canary page: it is blind`);
        console.log(`${tag}: canary caught by ${Object.keys(found).sort().join(", ")}`);
        continue;
      }
      for (const [category, details] of Object.entries(found)) {
        for (const d of details) problems.push(`${tag}: ${category}: ${d}`);
      }
      await screenshots(page, spec, width);
      const n = Object.values(found).reduce((sum, d) => sum + d.length, 0);
      console.log(`${tag}: ${spec.path}: ${n === 0 ? "ok" : `${n} problem${n === 1 ? "" : "s"}`} (${Date.now() - started} ms)`);
    } catch (e) {
      problems.push(`${tag}: ${e.stack ?? e}`);
    } finally {
      await page.close();
    }
  }
  await context.close();
}
await browser.close();

console.log(`screenshots in ${plan.artifacts}`);
console.log(`links checked: ${statusOf.size}`);
if (problems.length > 0) {
  console.log(`\n${problems.length} problems:`);
  for (const p of problems) console.log(`  ${p}`);
  process.exit(1);
}
