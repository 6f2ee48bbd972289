// Unit tests of rewrite.js, run with `node --test infra/cloudfront/`.
// rewrite.js is a plain script as CloudFront Functions want it, so it is
// evaluated here rather than imported.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const source = readFileSync(new URL("rewrite.js", import.meta.url), "utf8");
const { cases } = JSON.parse(
  readFileSync(new URL("../../testdata/edge/rewrite-cases.json", import.meta.url), "utf8"),
);

function loadHandler() {
  const context = vm.createContext({});
  vm.runInContext(source, context, { filename: "rewrite.js" });
  assert.equal(typeof context.handler, "function", "rewrite.js defines function handler(event)");
  return context.handler;
}

function viewerRequest(uri) {
  return {
    version: "1.0",
    context: { eventType: "viewer-request", distributionId: "EDFDVBD6EXAMPLE" },
    viewer: { ip: "198.51.100.11" },
    request: {
      method: "GET",
      uri,
      querystring: { utm_source: { value: "feed" } },
      headers: { host: { value: "blog.example" }, accept: { value: "text/html" } },
      cookies: { session: { value: "abc" } },
    },
  };
}

const handler = loadHandler();

for (const c of cases) {
  test(`rewrites ${c.name}: ${c.uri}`, () => {
    const got = handler(viewerRequest(c.uri));
    assert.equal(got.uri, c.want);
  });
}

test("leaves every other request field alone", () => {
  const event = viewerRequest("/tags/go/");
  const want = structuredClone(event.request);
  want.uri = "/tags/go/index.html";
  const got = handler(event);
  assert.deepEqual(got, want);
});

test("is a plain script CloudFront Functions accept", () => {
  assert.doesNotMatch(source, /^\s*(import|export)\b/m, "no ES module syntax");
  assert.doesNotMatch(source, /\brequire\s*\(/, "no require");
  // CloudFront Functions limit the code to 10 KB.
  assert.ok(Buffer.byteLength(source) <= 10240, `size ${Buffer.byteLength(source)} bytes`);
});
