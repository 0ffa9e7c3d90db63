// Starts Swagger UI on /docs: a file rather than an inline script, so the CSP's script-src 'self' holds.
(function () {
  "use strict";
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No online validator badge: it would send the spec's URL to validator.swagger.io, which
    // an air-gapped host cannot reach and the CSP's img-src refuses.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
