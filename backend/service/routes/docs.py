"""GET /docs (Swagger UI) and GET /redoc (ReDoc): the interactive API reference, served from this origin.

Both read /openapi.json, which stays the one source of routes, bodies and examples. The third-party
JavaScript and CSS come from the fastapi-offline package (Swagger UI 5, which reads the OpenAPI 3.1
FastAPI writes, and ReDoc's standalone bundle), served at /docs/assets/<file>; nothing loads from a CDN.
FastAPI's own docs pages are not used: they start Swagger UI with an inline script, which our
Content-Security-Policy forbids. Here the two pages are static HTML and each starts its viewer from a
static script beside it (static/docs/). The one CSP exception (inline styles on /redoc) is in middleware.py.
What this module leaves out: Swagger UI's OAuth2 redirect page (the API has no authentication).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

router = APIRouter(include_in_schema=False)

OUR_FILES = Path(__file__).resolve().parent.parent / "static" / "docs"
# fastapi-offline keeps the files it ships beside its code
VIEWER_FILES = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# ReDoc's sidebar always shows Redocly's logo from cdn.redoc.ly (no option turns it off): the bundle is served
# with that one address replaced by an empty inline image, so /redoc asks nothing of another origin.
REDOC_BUNDLE = "redoc.standalone.js"
REDOC_FOREIGN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
# a day: the files change only when the package is upgraded (and their ETags with them)
ASSET_CACHE = "public, max-age=86400"


@router.get("/docs")
async def swagger_ui() -> FileResponse:
    return FileResponse(OUR_FILES / "swagger.html", media_type="text/html")


@router.get("/redoc")
async def redoc() -> FileResponse:
    return FileResponse(OUR_FILES / "redoc.html", media_type="text/html")


@router.get("/docs/swagger-init.js")
async def swagger_init() -> FileResponse:
    return FileResponse(OUR_FILES / "swagger-init.js", media_type="text/javascript")


@router.get("/docs/redoc-init.js")
async def redoc_init() -> FileResponse:
    return FileResponse(OUR_FILES / "redoc-init.js", media_type="text/javascript")


@router.get("/docs/assets/{name}")
async def viewer_asset(name: str) -> Response:
    """One of ASSETS; any other name is a 404 (never a path into the file system)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, f"no docs asset named {name!r}; there are: {', '.join(sorted(ASSETS))}")
    if name == REDOC_BUNDLE:
        body, etag = redoc_bundle()
        return Response(body, media_type=media_type, headers={"cache-control": ASSET_CACHE, "etag": etag})
    return FileResponse(VIEWER_FILES / name, media_type=media_type, headers={"cache-control": ASSET_CACHE})


@cache
def redoc_bundle() -> tuple[bytes, str]:
    """ReDoc's standalone bundle with its one foreign address (REDOC_FOREIGN_LOGO) made local, and its ETag."""
    body = (VIEWER_FILES / REDOC_BUNDLE).read_bytes().replace(REDOC_FOREIGN_LOGO, EMPTY_IMAGE)
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
