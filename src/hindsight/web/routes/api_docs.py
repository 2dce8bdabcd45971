"""The API explorer: the vendored Swagger UI (web/static/vendor), started by a static file, so
the page loads nothing from another host and runs no inline script."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hindsight.web.security import content_security_policy

SWAGGER_UI = "/static/vendor/swagger-ui-5.35.0"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hindsight API</title>
<link rel="stylesheet" href="{SWAGGER_UI}.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/api/v1/openapi.json"></div>
<script src="{SWAGGER_UI}-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""

router = APIRouter()


@router.get("/docs", include_in_schema=False)
async def api_docs() -> HTMLResponse:
    """The interactive API explorer."""
    # Swagger UI's widgets insert style elements; scripts stay limited to this origin.
    policy = content_security_policy(inline_styles=True)
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": policy})
