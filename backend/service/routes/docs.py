"""GET /docs: the API reference as one self-contained HTML page, rendered from the OpenAPI schema.

FastAPI's default /docs is Swagger UI, whose JavaScript and CSS come from a CDN: that breaks the
rule that nothing loads from another origin, and its inline start-up script breaks our CSP. Vendoring
it would mean about 1.5 MB of third-party JavaScript for a reference page (and the PyPI package that
bundles it, swagger-ui-bundle 1.1, ships Swagger UI 4.15, which cannot read the OpenAPI 3.1 that
FastAPI writes). So this page is plain server-rendered HTML: every route with its summary,
description, request body (content types, fields, an example, a curl line) and responses.
No script at all; its stylesheet is /docs/docs.css from this origin. The machine-readable schema
stays at /openapi.json for client generators and tools.
"""

from __future__ import annotations

from html import escape
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

router = APIRouter(include_in_schema=False)

METHODS = ("get", "post", "put", "patch", "delete")
CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
.method { display: inline-block; min-width: 3.5rem; font-weight: bold; text-transform: uppercase; }
.post { color: #0b6b2e; } .get { color: #0645ad; }
pre { background: #f4f4f4; padding: .6rem; white-space: pre-wrap; word-break: break-all; max-height: 16rem; overflow: auto; }
code { background: #f4f4f4; padding: 0 .2rem; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: .2rem .5rem; text-align: left; vertical-align: top; }
"""


@router.get("/docs")
async def docs(request: Request) -> Response:
    return Response(render(request.app.openapi(), str(request.base_url).rstrip("/")), media_type="text/html")


@router.get("/docs/docs.css")
async def docs_css() -> Response:
    return Response(CSS, media_type="text/css")


def render(openapi: dict[str, Any], base_url: str) -> str:
    """The whole page for an OpenAPI document; base_url goes into the curl examples."""
    info = openapi.get("info", {})
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(info.get('title', 'API'))} - API reference</title>",
        "<link rel='stylesheet' href='/docs/docs.css'></head><body>",
        f"<h1>{escape(info.get('title', 'API'))} <small>{escape(str(info.get('version', '')))}</small></h1>",
        f"<p>{escape(info.get('description', ''))}</p>",
        "<p>The machine-readable schema is at <a href='/openapi.json'>/openapi.json</a>.</p>",
        "<nav><ul>",
    ]
    operations = [(path, method, op) for path, item in openapi.get("paths", {}).items() for method, op in item.items() if method in METHODS]
    for path, method, _ in operations:
        parts.append(f"<li><a href='#{_anchor(method, path)}'><span class='method {method}'>{method}</span> {escape(path)}</a></li>")
    parts.append("</ul></nav>")
    for path, method, op in operations:
        parts.append(_operation(openapi, base_url, path, method, op))
    parts.append("</body></html>")
    return "".join(parts)


def _anchor(method: str, path: str) -> str:
    return escape(f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""))


def _operation(openapi: dict[str, Any], base_url: str, path: str, method: str, op: dict[str, Any]) -> str:
    parts = [
        f"<h2 id='{_anchor(method, path)}'><span class='method {method}'>{method}</span> <code>{escape(path)}</code></h2>",
        f"<p><strong>{escape(op.get('summary', ''))}</strong></p>",
        f"<p>{escape(op.get('description', ''))}</p>",
    ]
    body = op.get("requestBody", {}).get("content", {})
    for media, spec in body.items():
        parts.append(f"<h3>Request body: <code>{escape(media)}</code></h3>")
        parts.append(_fields(openapi, spec.get("schema", {})))
        if "example" in spec:
            example = orjson.dumps(spec["example"]).decode()
            parts.append(f"<p>Example:</p><pre>{escape(example)}</pre>")
            parts.append(f"<pre>curl -X {method.upper()} {escape(base_url + path)} -H 'Content-Type: {escape(media)}' -d @body.json</pre>")
        elif spec.get("schema", {}).get("format") == "binary":
            parts.append(
                f"<pre>curl -X {method.upper()} {escape(base_url + path)} -H 'Content-Type: {escape(media)}' --data-binary @digit.{media.split('/')[-1]}</pre>"
            )
    parts.append("<h3>Responses</h3><table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>")
    for status, response in op.get("responses", {}).items():
        content = response.get("content", {}).get("application/json", {})
        schema = content.get("schema", {})
        example = content.get("example", _resolve(openapi, schema).get("example"))
        shown = f"<pre>{escape(orjson.dumps(example).decode())}</pre>" if example is not None else escape(_schema_name(schema))
        parts.append(f"<tr><td>{escape(str(status))}</td><td>{escape(response.get('description', ''))}</td><td>{shown}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return openapi.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
    return schema


def _schema_name(schema: dict[str, Any]) -> str:
    return schema.get("$ref", "").rsplit("/", 1)[-1] or schema.get("type", "")


def _fields(openapi: dict[str, Any], schema: dict[str, Any]) -> str:
    resolved = _resolve(openapi, schema)
    properties = resolved.get("properties")
    if not properties:
        return ""
    required = set(resolved.get("required", []))
    rows = ["<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>"]
    for name, prop in properties.items():
        kind = prop.get("type") or _schema_name(prop) or "any"
        if kind == "array":
            item = prop.get("items", {})
            kind = f"array of {item.get('type') or _schema_name(item) or 'any'}"
        limits = ", ".join(f"{key} {prop[key]}" for key in ("minItems", "maxItems", "minimum", "maximum") if key in prop)
        rows.append(
            f"<tr><td><code>{escape(name)}</code></td><td>{escape(kind)}{' (' + escape(limits) + ')' if limits else ''}</td>"
            f"<td>{'yes' if name in required else 'no'}</td><td>{escape(prop.get('description', ''))}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)
