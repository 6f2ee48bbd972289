// Viewer-request function of the postmill site (CloudFront Functions,
// runtime cloudfront-js-2.0). Through Origin Access Control S3 serves no
// directory index, so a folder URL is mapped to the index.html object that
// holds the page:
//
//   /tags/go/   -> /tags/go/index.html
//   /tags/go    -> /tags/go/index.html
//   /index.xml  -> /index.xml          (a dot in the last segment: a file)
//
// The cases are testdata/edge/rewrite-cases.json, shared with the local
// CDN. This file is uploaded as is: a plain script, no modules.
function handler(event) {
  var request = event.request;
  var uri = request.uri;

  if (uri.endsWith("/")) {
    request.uri = uri + "index.html";
  } else if (uri.slice(uri.lastIndexOf("/") + 1).indexOf(".") === -1) {
    request.uri = uri + "/index.html";
  }
  return request;
}
