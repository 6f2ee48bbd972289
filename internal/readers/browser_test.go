package readers

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/site"
)

// browserPage is a page browser.mjs loads, at each width.
type browserPage struct {
	Name   string `json:"name"`   // names its screenshots
	Path   string `json:"path"`   // site path
	Status int    `json:"status"` // of the document
	// Canary marks the page that breaks every rule on purpose: each
	// check must find something there, or it is blind.
	Canary bool `json:"canary,omitempty"`
	// Nav lists the post links the page must show: "prev", "next".
	Nav []string `json:"nav,omitempty"`
}

// browserPlan is what browser.mjs is told to do, as its one argument.
type browserPlan struct {
	Base      string        `json:"base"`
	Chromium  string        `json:"chromium"`
	Artifacts string        `json:"artifacts"`
	Pages     []browserPage `json:"pages"`
	// Missing are same-site paths that pages refer to and that are
	// known to answer 404; browser.mjs fails if one starts to resolve,
	// so the list cannot go stale.
	Missing []string `json:"missing"`
}

// knownMissing: the long post shows /images/2023/lowlands-main-hall.jpg,
// an image outside its bundle that nothing publishes (a rebuild would
// delete it as an orphan if it were put in the site bucket by hand).
var knownMissing = []string{"/images/2023/lowlands-main-hall.jpg"}

// canaryPage breaks every rule browser.mjs checks: an inline script and
// style (CSP), a stylesheet and an image that are missing, a broken link,
// an image too wide for a phone, a squeezed table, no description and no
// feed link.
const canaryPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Canary</title>
<link rel="stylesheet" href="/_readers/canary/missing.css">
</head>
<body>
<p style="color: red">An inline style.</p>
<script>document.title = "an inline script ran";</script>
<img src="/_readers/canary/missing.png" alt="A missing image">
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==" width="2000" height="10" alt="">
<p><a href="/_readers/canary/no-such-page/">A broken link</a></p>
<table><tr><td>a</td><td>squeezed</td></tr></table>
</body>
</html>
`

// TestBrowser loads the home page, the long post, a post with an image,
// a tag page, the tags index and a missing page in headless Chromium at
// desktop and phone widths, through the local CDN with the
// distribution's headers, and checks them with testdata/readers/browser.mjs.
// Screenshots go to $ARTIFACTS, relative to the repository root (default:
// a new temporary folder, named in the log).
func TestBrowser(t *testing.T) {
	node := needNode(t)
	chromium := cmp.Or(os.Getenv("CHROMIUM"), "/usr/bin/chromium")
	if _, err := exec.LookPath(chromium); err != nil {
		t.Fatalf("no Chromium at %s: apt-get install -y chromium (make test does), or set CHROMIUM (%v)", chromium, err)
	}
	artifacts := os.Getenv("ARTIFACTS")
	if artifacts == "" {
		dir, err := os.MkdirTemp("", "postmill-readers-")
		if err != nil {
			t.Fatal(err)
		}
		artifacts = dir
	}
	// go test runs in the package's folder; a relative ARTIFACTS is
	// meant from the repository root, where make runs.
	if !filepath.IsAbs(artifacts) {
		artifacts = filepath.Join(repoRoot, artifacts)
	}
	artifacts, err := filepath.Abs(artifacts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", artifacts)

	s := newTestSite(t, nil)
	if _, err := s.dst.Write(context.Background(), "_readers/canary/index.html", []byte(canaryPage),
		&blob.WriteOptions{ContentType: site.TypeHTML, CacheControl: site.CacheShort}); err != nil {
		t.Fatal(err)
	}
	plan := browserPlan{
		Base:      s.URL,
		Chromium:  chromium,
		Artifacts: artifacts,
		Pages: []browserPage{
			{Name: "home", Path: "/", Status: 200},
			{Name: "post", Path: s.path("posts/cloud-native-lowlands-2023.md"), Status: 200, Nav: []string{"prev", "next"}},
			{Name: "bundle", Path: s.path("posts/bundle-example/index.md"), Status: 200, Nav: []string{"prev", "next"}},
			{Name: "tag", Path: "/tags/kubernetes/", Status: 200},
			{Name: "tags", Path: "/tags/", Status: 200},
			{Name: "missing", Path: "/2023/10/12/no-such-post/", Status: 404},
			{Name: "canary", Path: "/_readers/canary/", Status: 200, Canary: true},
		},
		Missing: knownMissing,
	}
	arg, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	runNode(t, node, 4*time.Minute, "browser.mjs", string(arg))
}
