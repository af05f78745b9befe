"""``statusguard audit``: find an app's routes, send safe probes, check every answer.

Charter: discovery (which routes exist, which methods they serve) and driving (calling a WSGI or
ASGI app in-process, or a running server over HTTP) live here; judging lives in the core
(``check``/``fix``), presentation in ``_formats``. Probes are safe by construction: a handler that
accepts POST, PUT, PATCH or DELETE never receives one unless the user passes ``--unsafe``.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import io
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._model import Violation
from .checker import check
from .fixer import FixResult, fix

__all__ = ["AuditReport", "Probe", "ProbeResult", "Route", "Target", "load_target", "run_audit"]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_BODY = 1 << 20  # bodies beyond this are checked as "not observed"
_SAMPLES = {"int": "1", "float": "1.5", "uuid": "00000000-0000-0000-0000-000000000000", "path": "example",
            "str": "example", "slug": "example", "string": "example"}
_PARAM_STARLETTE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}")
_PARAM_ANGLE = re.compile(r"<(?:([A-Za-z_]+):)?([A-Za-z_][A-Za-z0-9_]*)>")


@dataclass(frozen=True, slots=True)
class Route:
    template: str  # as the framework writes it: /items/{id}, /items/<int:id>
    methods: frozenset[str] | None  # None: any method / unknown
    path: str  # the template with sample values filled in


@dataclass(frozen=True, slots=True)
class Probe:
    route: Route
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    label: str


@dataclass(slots=True)
class ProbeResult:
    probe: Probe
    status: int = 0
    status_text: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    violations: list[Violation] = field(default_factory=list)
    fixed: FixResult | None = None
    error: str | None = None


@dataclass(slots=True)
class Target:
    """What is audited: an in-process app (kind "wsgi"/"asgi") or a base URL (kind "url")."""

    name: str
    kind: str
    app: Any = None
    base_url: str = ""
    routes: list[Route] = field(default_factory=list)
    framework: str = "unknown"
    fix_options: Mapping[str, object] = field(default_factory=dict)
    allowed: Callable[[str], frozenset[str] | None] | None = None


@dataclass(slots=True)
class AuditReport:
    target: Target
    results: list[ProbeResult]

    def violations(self) -> list[Violation]:
        return [v for result in self.results for v in result.violations]


# ---------------------------------------------------------------------------------------------
# Loading and discovery


def load_target(spec: str | None, *, django_settings: str | None = None, params: Mapping[str, str] = {}) -> Target:
    """``None`` → the bundled demo; ``pkg.mod:attr`` → an app; ``http(s)://...`` → a running server."""
    if django_settings:
        return _load_django(django_settings, params)
    if spec is None:
        from . import demo

        routes = [Route(path, frozenset(methods), _fill(path, params)) for path, methods in demo.ROUTES.items()]
        target = Target("statusguard.demo:app (the bundled demo)", "wsgi", demo.app, routes=routes,
                        framework="demo", fix_options=demo.DEMO_OPTIONS)
        _merge_methods(target)
        return target
    if spec.startswith(("http://", "https://")):
        return Target(spec, "url", base_url=spec.rstrip("/"), routes=[Route("/", None, "/")])
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"target {spec!r}: write module:attribute (e.g. myproject.app:app) or a URL")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # like `python -m`, import from the working directory
    module = importlib.import_module(module_name)
    app: Any = module
    for part in attr.split("."):
        app = getattr(app, part)
    if inspect.isfunction(app) and _is_factory(app):
        app = app()  # an application factory such as Flask's create_app()
    kind = "asgi" if _is_asgi(app) else "wsgi"
    target = Target(spec, kind, app)
    _discover(target, params)
    return target


def _is_factory(func: Callable[..., Any]) -> bool:
    try:
        return len(inspect.signature(func).parameters) == 0
    except (TypeError, ValueError):
        return False


def _is_asgi(app: Any) -> bool:
    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - we need the bound method itself
    return inspect.iscoroutinefunction(call)


def _fill(template: str, params: Mapping[str, str]) -> str:
    def starlette(match: re.Match[str]) -> str:
        name, conv = match.group(1), match.group(2) or "str"
        return params.get(name, _SAMPLES.get(conv, "example"))

    def angle(match: re.Match[str]) -> str:
        conv, name = match.group(1) or "str", match.group(2)
        return params.get(name, _SAMPLES.get(conv, "example"))

    return _PARAM_ANGLE.sub(angle, _PARAM_STARLETTE.sub(starlette, template))


def _discover(target: Target, params: Mapping[str, str]) -> None:
    app = target.app
    if hasattr(app, "url_map") and hasattr(app, "wsgi_app"):  # Flask
        target.framework = "flask"
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            methods = frozenset(rule.methods) if rule.methods else None
            target.routes.append(Route(rule.rule, methods, _fill(rule.rule, params)))
    elif hasattr(app, "routes") or hasattr(getattr(app, "router", None), "routes"):  # Starlette / FastAPI
        target.framework = "starlette"
        routes = getattr(app, "routes", None) or app.router.routes
        for template, methods in _starlette_routes(routes, ""):
            target.routes.append(Route(template, methods, _fill(template, params)))
    if not target.routes:
        target.routes.append(Route("/", None, "/"))
    _merge_methods(target)


def _starlette_routes(routes: Iterable[Any], prefix: str) -> Iterable[tuple[str, frozenset[str] | None]]:
    for route in routes:
        path = getattr(route, "path", None)
        if path is None or type(route).__name__ in ("WebSocketRoute", "Host"):
            continue
        children = getattr(route, "routes", None)
        if children is not None and type(route).__name__ == "Mount":
            yield from _starlette_routes(children, prefix + path)
            continue
        methods = getattr(route, "methods", None)
        yield prefix + path, frozenset(methods) if methods else None


def _merge_methods(target: Target) -> None:
    """Several routes may share a path (one per method): the path serves their union."""
    by_path: dict[str, set[str] | None] = {}
    for route in target.routes:
        known = by_path.get(route.path, set())
        if route.methods is None or known is None:
            by_path[route.path] = None
        else:
            by_path[route.path] = known | set(route.methods)

    def allowed(path: str) -> frozenset[str] | None:
        methods = by_path.get(path)
        if methods is None:
            return None
        out = set(methods)
        if "GET" in out:
            out.add("HEAD")
        return frozenset(out)

    target.allowed = allowed


def _load_django(settings: str, params: Mapping[str, str]) -> Target:
    import os

    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    if "" not in sys.path:
        sys.path.insert(0, "")
    import django
    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import get_resolver

    django.setup()
    target = Target(f"Django project ({settings})", "wsgi", WSGIHandler(), framework="django")
    for template, callback in _django_patterns(get_resolver().url_patterns, ""):
        methods = _django_methods(callback)
        target.routes.append(Route(template, methods, _fill(template, params)))
    if not target.routes:
        target.routes.append(Route("/", None, "/"))
    _merge_methods(target)
    return target


def _django_patterns(patterns: Iterable[Any], prefix: str) -> Iterable[tuple[str, Any]]:
    for pattern in patterns:
        text = str(pattern.pattern)
        if text.startswith("^"):
            text = text[1:].rstrip("$").replace("\\Z", "")
            if any(char in text for char in "()[]*+?\\"):
                continue  # a regex we cannot fill with samples
        nested = getattr(pattern, "url_patterns", None)
        if nested is not None:
            yield from _django_patterns(nested, prefix + text)
        else:
            yield "/" + prefix + text, pattern.callback


def _django_methods(callback: Any) -> frozenset[str] | None:
    try:
        from .contrib.django import view_methods  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - the contrib module is optional here
        return None
    try:
        methods = view_methods(callback)
    except Exception:
        return None
    return frozenset(m.upper() for m in methods) if methods else None


# ---------------------------------------------------------------------------------------------
# Probes


def plan_probes(target: Target, *, unsafe: bool = False) -> list[Probe]:
    """GET, HEAD, OPTIONS, one method the path does not serve, and an unsatisfiable Range on GET routes."""
    probes: list[Probe] = []
    seen: set[tuple[str, str, str]] = set()
    for route in target.routes:
        served = target.allowed(route.path) if target.allowed else route.methods
        candidates: list[tuple[str, tuple[tuple[str, str], ...], str]] = [
            ("GET", (), "GET"), ("HEAD", (), "HEAD"), ("OPTIONS", (), "OPTIONS"),
        ]
        if served is not None:
            unserved = next((m for m in ("DELETE", "PUT", "PATCH", "POST") if m not in served), None)
            if unserved is not None:
                candidates.append((unserved, (), "a method the route does not serve"))
            if "GET" in served:
                candidates.append(("GET", (("Range", "bytes=999999999-"),), "unsatisfiable Range"))
            if unsafe:
                candidates.extend((m, (), f"{m} (--unsafe)") for m in sorted(served & UNSAFE_METHODS))
        for method, headers, label in candidates:
            if served is not None and method in UNSAFE_METHODS and method in served and "--unsafe" not in label:
                continue  # never send an unsafe method to a handler that accepts it
            if served is None and method in UNSAFE_METHODS:
                continue
            key = (method, route.path, label)
            if key in seen:
                continue
            seen.add(key)
            probes.append(Probe(route, method, route.path, headers, label))
    return probes


def run_audit(
    target: Target,
    *,
    unsafe: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    probes = plan_probes(target, unsafe=unsafe)
    results = []
    for index, probe in enumerate(probes):
        if progress is not None:
            progress(index, len(probes))
        results.append(_run_probe(target, probe))
    if progress is not None:
        progress(len(probes), len(probes))
    return AuditReport(target, results)


def _run_probe(target: Target, probe: Probe) -> ProbeResult:
    result = ProbeResult(probe)
    try:
        if target.kind == "wsgi":
            status_text, headers, body = _drive_wsgi(target.app, probe)
        elif target.kind == "asgi":
            status_text, headers, body = asyncio.run(_drive_asgi(target.app, probe))
        else:
            status_text, headers, body = _drive_url(target.base_url, probe)
    except Exception as exc:  # the app crashed on a probe: report it, go on with the others
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    status = int(status_text[:3]) if status_text[:3].isdigit() else 0
    result.status, result.status_text, result.headers, result.body = status, status_text, headers, body
    allowed = target.allowed(probe.path) if target.allowed else None
    gateway = target.kind if target.kind in ("wsgi", "asgi") else None
    arguments: dict[str, Any] = {
        "method": probe.method, "request_headers": list(probe.headers), "allowed_methods": allowed,
        "gateway": gateway,
    }
    status_arg: int | str = status_text if gateway == "wsgi" else status
    result.violations = check(status_arg, headers, body, **arguments)
    if result.violations:
        result.fixed = fix(status_arg, headers, body, **arguments, **target.fix_options)
    return result


def _environ(probe: Probe) -> dict[str, Any]:
    path, _, query = probe.path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": probe.method, "SCRIPT_NAME": "", "PATH_INFO": urllib.parse.unquote(path),
        "QUERY_STRING": query, "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost", "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(), "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False, "CONTENT_LENGTH": "0" if probe.method in UNSAFE_METHODS else "",
    }
    for name, value in probe.headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _drive_wsgi(app: Any, probe: Probe) -> tuple[str, list[tuple[str, str]], bytes | None]:
    captured: dict[str, Any] = {}
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, list(headers)
        return written.append

    iterable = app(_environ(probe), start_response)
    size = 0
    chunks: list[bytes] = list(written)
    observed = True
    try:
        for chunk in iterable:
            size += len(chunk)
            if size <= _MAX_BODY:
                chunks.append(chunk)
            else:
                observed = False
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    if "status" not in captured:
        raise RuntimeError("the app never called start_response")
    return captured["status"], captured["headers"], b"".join(chunks) if observed else None


async def _drive_asgi(app: Any, probe: Probe) -> tuple[str, list[tuple[str, str]], bytes | None]:
    path, _, query = probe.path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": probe.method, "scheme": "http", "path": urllib.parse.unquote(path), "raw_path": path.encode(),
        "query_string": query.encode(), "root_path": "", "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
        "headers": [(b"host", b"localhost")] + [(n.lower().encode(), v.encode()) for n, v in probe.headers],
        "state": {},
    }
    sent_request = False
    start: dict[str, Any] = {}
    chunks: list[bytes] = []
    size = 0
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal size
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body = bytes(message.get("body", b""))
            size += len(body)
            if size <= _MAX_BODY:
                chunks.append(body)
            if not message.get("more_body", False):
                done.set()

    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    if not start:
        raise RuntimeError("the app sent no http.response.start")
    status = int(start["status"])
    headers = [(bytes(n).decode("latin-1"), bytes(v).decode("latin-1")) for n, v in start.get("headers", [])]
    from ._phrases import reason_phrase

    return f"{status} {reason_phrase(status)}", headers, b"".join(chunks) if size <= _MAX_BODY else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _drive_url(base: str, probe: Probe) -> tuple[str, list[tuple[str, str]], bytes | None]:
    request = urllib.request.Request(base + probe.path, method=probe.method, headers=dict(probe.headers))
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        response = opener.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        status = response.status if hasattr(response, "status") else response.code
        reason = getattr(response, "reason", "") or ""
        headers = list(response.headers.items())
        body = response.read(_MAX_BODY + 1)
    return f"{status} {reason}", headers, body if len(body) <= _MAX_BODY else None
