// Starts ReDoc on /redoc (a static file because the page's CSP allows no inline script).
// disableSearch: ReDoc's search runs in a Web Worker made from a blob: URL, which the CSP does not allow
// (the API has a dozen routes, all in the sidebar).
"use strict";
{
  const root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapiUrl, { expandResponses: "200", disableSearch: true }, root);
}
