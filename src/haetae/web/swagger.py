"""The API's Swagger UI at /docs, from vendored files and without inline script, under the CSP."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

# FastAPI's get_swagger_ui_html starts Swagger UI with an inline <script>, which the
# Content-Security-Policy (script-src 'self') refuses; haetae-init.js makes the same call
# from a file. Vendored files, because an air-gapped host reaches no CDN.
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Haetae API</title>
  <link rel="stylesheet" href="/static/swagger/swagger-ui.css">
  <link rel="icon" type="image/png" href="/static/swagger/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static/swagger/swagger-ui-bundle.js"></script>
  <script src="/static/swagger/haetae-init.js"></script>
</body>
</html>
"""


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    # async: a constant page, no I/O, so no thread-pool hop.
    return HTMLResponse(PAGE)
