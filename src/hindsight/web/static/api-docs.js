// Starts the vendored Swagger UI on /api/v1/docs; a file, not an inline script, for the CSP.
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    validatorUrl: null, // never send the schema to an outside validator
  });
});
