// Starts Swagger UI on /docs: a file rather than an inline script, so the CSP's script-src 'self' holds.
(function () {
  "use strict";
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    // Tags start folded: with every operation open (Swagger UI's "list") this bundle stops
    // drawing after the first three tags once the API passed about 140 operations.
    docExpansion: "none",
    showExtensions: true,
    showCommonExtensions: true,
    // No online validator badge: it would send the spec's URL to validator.swagger.io, which
    // an air-gapped host cannot reach and the CSP's img-src refuses.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
