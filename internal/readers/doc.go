// Package readers holds end-to-end tests of what a blog's readers get.
// The test posts are published by the engine into memory and served by
// the local CDN (package edge), with the distribution's headers and 404
// page, to what readers use: a headless Chromium, feed parsers other than
// the one that wrote the feeds, and HTTP caches that revalidate.
//
// It is not a library: everything is in its _test.go files, and the
// Node.js side (Playwright driving Debian's Chromium, an npm feed parser)
// is in testdata/readers at the repository root. Those tests need node,
// the packages `npm ci --prefix testdata/readers` installs and
// /usr/bin/chromium; they fail, never skip, when one is missing, except
// under -short.
package readers
