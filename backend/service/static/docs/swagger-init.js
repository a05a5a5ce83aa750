// Starts Swagger UI on /docs (a static file because the page's CSP allows no inline script).
// validatorUrl null: Swagger UI would otherwise send the schema's URL to validator.swagger.io.
"use strict";
{
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    validatorUrl: null,
    deepLinking: true,
    displayRequestDuration: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
}
