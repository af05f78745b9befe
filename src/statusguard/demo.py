"""A small WSGI app, standard library only, that makes the mistakes real apps make.

``statusguard audit`` with no target audits it: each route below answers the way a framework's
default idiom often does (an ``abort(401)`` with no challenge, a 405 without ``Allow``, an empty
404, a cacheable 429...). It is also the README's first example, so it must stay small, honest
and runnable with nothing but Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["DEMO_OPTIONS", "ROUTES", "allowed_methods", "app"]

# path -> methods the route serves (and HEAD wherever GET is: the demo answers it, as Starlette,
# Werkzeug and Django's View do; FastAPI's @app.get does not)
ROUTES: dict[str, tuple[str, ...]] = {
    "/": ("GET",),
    "/items": ("GET", "POST"),
    "/items/{id}": ("GET", "DELETE"),
    "/admin": ("GET",),
    "/search": ("GET",),
    "/report.pdf": ("GET",),
    "/maintenance": ("GET",),
    "/old-page": ("GET",),
}

# The fix options a team would configure for this app.
DEMO_OPTIONS: dict[str, object] = {
    "www_authenticate": 'Bearer realm="demo"',
    "retry_after": {503: 120, 429: 30},
}

_REPORT = b"%PDF-1.4 demo report " * 50


def allowed_methods(environ: WSGIEnvironment) -> Iterable[str] | None:
    """Router knowledge for statusguard: the methods served at the request's path (HEAD with GET:
    ``app`` answers it; statusguard lists in Allow only what the router reports)."""
    route = _route(environ.get("PATH_INFO", "/"))
    if route is None:
        return None
    methods = ROUTES[route]
    return (*methods, "HEAD") if "GET" in methods else methods


def _route(path: str) -> str | None:
    if path in ROUTES:
        return path
    if path.startswith("/items/") and path.count("/") == 2:
        return "/items/{id}"
    return None


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    route = _route(path)
    if route is None:
        # Mistake: an empty 404 (no explanation for the client).
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    if method not in ROUTES[route] and not (method == "HEAD" and "GET" in ROUTES[route]):
        # Mistake: 405 without Allow.
        body = b"Method Not Allowed"
        start_response("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if route == "/admin" and "HTTP_AUTHORIZATION" not in environ:
        # Mistake: 401 without a WWW-Authenticate challenge.
        body = json.dumps({"detail": "Not authenticated"}).encode()
        start_response("401 Unauthorized", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if route == "/search":
        # Mistake: a rate-limit answer that caches may store, with a Retry-After nobody can parse.
        body = b"Too many searches, slow down"
        start_response("429 Too Many Requests", [
            ("Content-Type", "text/plain"), ("Cache-Control", "public, max-age=60"), ("Retry-After", "2 minutes"),
            ("Content-Length", str(len(body))),
        ])
        return [body]
    if route == "/report.pdf":
        return _report(environ, start_response)
    if route == "/maintenance":
        # Mistake: an empty 503 (clients cannot tell how long to wait).
        start_response("503 Service Unavailable", [("Content-Length", "0")])
        return [b""]
    if route == "/old-page":
        # Mistake: a redirect without Location.
        start_response("301 Moved Permanently", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"moved"]
    if route == "/items/{id}" and method == "DELETE":
        # Mistake: a 204 with content (what JSONResponse(None, status_code=204) sends).
        start_response("204 No Content", [("Content-Type", "application/json"), ("Content-Length", "4")])
        return [b"null"]
    if route == "/items" and method == "POST":
        # Mistake: 201 without Location.
        body = b'{"id": 3}'
        start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    # A correct response, with a body sent even to HEAD (as many frameworks do, relying on the server).
    body = json.dumps({"path": path, "items": [1, 2]}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _report(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    range_header = environ.get("HTTP_RANGE")
    if range_header:
        # Mistake: 416 with the wrong Content-Range form.
        body = b"Range Not Satisfiable"
        start_response("416 Range Not Satisfiable", [
            ("Content-Type", "text/plain"), ("Content-Range", f"bytes 0-0/{len(_REPORT)}"),
            ("Content-Length", str(len(body))),
        ])
        return [body]
    start_response("200 OK", [
        ("Content-Type", "application/pdf"), ("Content-Length", str(len(_REPORT))), ("Accept-Ranges", "bytes"),
    ])
    return [_REPORT]
