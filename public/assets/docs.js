// Starts Swagger UI on /docs over this origin's OpenAPI description.
// Everything it loads comes from this origin: no CDN, no online validator.
(function () {
  "use strict";
  var target = document.getElementById("swagger-ui");
  if (typeof window.SwaggerUIBundle !== "function") {
    target.textContent =
      "Swagger UI did not load. The OpenAPI description is at /api/v1/openapi.json.";
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayOperationId: false,
    displayRequestDuration: true,
    filter: false,
    tryItOutEnabled: false,
    // The default would fetch a badge from validator.swagger.io.
    validatorUrl: null,
    // Do not let ?url=... in the page's address load another description.
    queryConfigEnabled: false,
  });
})();
