"""/docs (Swagger UI) and /redoc (ReDoc): the pages, their start-up scripts and the viewers' files, all from
this origin, and the CSP each page gets. The browser clicks through them in tests/frontend/test_docs_browser.py."""

from __future__ import annotations

import re

import pytest

from backend.service.middleware import CONTENT_SECURITY_POLICY, REDOC_CONTENT_SECURITY_POLICY
from backend.service.routes.docs import REDOC_FOREIGN_LOGO

pytestmark = pytest.mark.anyio

FOREIGN = re.compile(r"""(src|href)=['"]?(https?:)?//""")


def local_references(page: str) -> list[str]:
    """The src/href of every <script> and <link> in an HTML page."""
    return re.findall(r"""<(?:script|link)[^>]*?(?:src|href)="([^"]+)\"""", page)


@pytest.mark.parametrize(
    ("path", "viewer", "start_up"),
    [
        ("/docs", "/docs/assets/swagger-ui-bundle.js", "/docs/swagger-init.js"),
        ("/redoc", "/docs/assets/redoc.standalone.js", "/docs/redoc-init.js"),
    ],
)
async def test_each_docs_page_loads_its_viewer_and_start_up_script_from_this_origin(client, path, viewer, start_up):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert not FOREIGN.search(page), "no resource from another origin"
    assert re.search(r"<script>|<style>|\sstyle=", page) is None, "nothing inline"
    assert 'data-openapi-url="/openapi.json"' in page
    references = local_references(page)
    assert viewer in references and start_up in references
    for reference in references:
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        assert int(asset.headers["content-length"]) > 0


async def test_viewer_files_have_their_types_and_are_cached(client):
    bundle = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert "max-age" in bundle.headers["cache-control"]
    # Swagger UI 5 is the first major release that reads OpenAPI 3.1
    assert re.search(r'PACKAGE_VERSION:"5\.\d+\.\d+"', bundle.text)
    css = await client.get("/docs/assets/swagger-ui.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    icon = await client.get("/docs/assets/favicon.png")
    assert icon.status_code == 200
    assert icon.content.startswith(b"\x89PNG")


async def test_redoc_bundle_is_served_without_its_foreign_logo_and_with_an_etag(client):
    response = await client.get("/docs/assets/redoc.standalone.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert REDOC_FOREIGN_LOGO not in response.content
    assert "cdn.redoc.ly" not in response.text
    assert "Redoc" in response.text and len(response.content) > 100_000
    assert response.headers["etag"].startswith('"')


@pytest.mark.parametrize("name", ["nope.js", "swagger-ui-bundle.js.map", "core.py", "__init__.py"])
async def test_an_unknown_docs_asset_is_a_404_that_lists_the_real_ones(client, name):
    response = await client.get(f"/docs/assets/{name}")
    assert response.status_code == 404
    assert "swagger-ui-bundle.js" in response.json()["detail"]


async def test_a_path_out_of_the_assets_folder_is_a_404(client):
    response = await client.get("/docs/assets/..%2Fcore.py")
    assert response.status_code == 404
    assert "FastAPIOffline" not in response.text


async def test_swagger_page_keeps_the_strict_policy_and_only_redoc_allows_inline_styles(client):
    swagger = await client.get("/docs")
    assert swagger.status_code == 200
    assert swagger.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    redoc = await client.get("/redoc")
    assert redoc.status_code == 200
    policy = redoc.headers["content-security-policy"]
    assert policy == REDOC_CONTENT_SECURITY_POLICY
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy, "scripts stay same-origin only"
    assert "unsafe-eval" not in policy and "worker-src" not in policy
    for other in ("/docs/assets/redoc.standalone.js", "/openapi.json", "/health", "/redoc/"):
        response = await client.get(other)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, other


async def test_the_docs_pages_stay_out_of_the_openapi_document(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert not [path for path in paths if path.startswith(("/docs", "/redoc"))]
    assert response.json()["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["example"]["pixels"]
