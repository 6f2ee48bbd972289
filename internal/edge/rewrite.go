package edge

import "strings"

// Rewrite is the distribution's viewer-request function in Go: it maps a
// request URI, still percent-encoded, to the path of the object to fetch.
// A URI ending in "/" gets "index.html"; one whose last segment has no
// dot is a folder without its slash and gets "/index.html"; anything else
// is a file and passes through. infra/cloudfront/rewrite.js must apply
// the same rule; testdata/edge/rewrite-cases.json holds the cases both
// are tested against.
//
// The rule looks at the encoded URI, so "%2E" is not a dot, and a folder
// whose name has a dot ("/v1.2") is only found with its trailing slash.
func Rewrite(uri string) string {
	if strings.HasSuffix(uri, "/") {
		return uri + "index.html"
	}
	last := uri[strings.LastIndex(uri, "/")+1:]
	if !strings.Contains(last, ".") {
		return uri + "/index.html"
	}
	return uri
}
