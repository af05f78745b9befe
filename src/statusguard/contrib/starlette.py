"""Starlette and FastAPI integration: ``app.add_middleware(StatusGuardMiddleware)``, one line.

    from .starlette import StatusGuardMiddleware

    app = FastAPI()                 # or Starlette(routes=[...])
    app.add_middleware(StatusGuardMiddleware, mode="fix", www_authenticate='Bearer realm="api"')

``StatusGuardMiddleware`` is :class:`statusguard.ASGIMiddleware` (pure ASGI; same arguments) with
two things wired in:

- ``allowed_methods`` from the app's routes: the union of the methods of every route that would
  serve the request's path, through ``Mount``, ``Host`` and FastAPI's included routers, and only
  those: Starlette's ``Route`` serves HEAD wherever it serves GET (it adds HEAD to its methods),
  FastAPI's ``APIRoute`` does not (``@app.get`` answers HEAD with 405), and neither answers OPTIONS
  by itself. Starlette and FastAPI answer a 405 with only the first matching route's
  methods when a path has one route per method (``@app.get`` and ``@app.post`` on one path); with
  this knowledge statusguard's fix lists them all. The router is asked the way it dispatches: for
  each method, which route would take the request (``route.matches``), following the first full
  match into mounted apps as Starlette does. A path served by an app that cannot be inspected
  (a mounted plain ASGI app, a route to a raw ASGI endpoint) gives None: no knowledge, no guess.
- hints that speak Starlette or FastAPI (``HTTPException(401, headers={...})``...), picked from the
  app the middleware serves.

The app comes from ``scope["app"]`` (Starlette sets it before its middleware stack runs) or, when
the middleware wraps the app from outside, from the wrapped app itself.

Everything statusguard knows of Starlette and FastAPI lives here: the router reader
(``methods_at``), the hints (``STARLETTE_HINTS``, ``FASTAPI_HINTS``), the route discovery of
``statusguard audit`` (``discover``, ``installed_configuration``) and the pytest plugin's hook into
Starlette's TestClient (``patch_test_client``). The CLI and the plugin find it through
``_integration``; nothing here imports Starlette at module level.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

from ..asgi import ASGIMiddleware, Receive, Scope, Send
from ..core.model import Exchange
from ..core.options import FixOptions
from . import _integration

__all__ = ["StatusGuardMiddleware", "allowed_methods"]

ASGIApp = Callable[[Scope, Receive, Send], Any]

_SNAPSHOT_KEY = "statusguard.routing"  # the scope as the router first saw it (routing mutates root_path)
_PROBED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY")
_ENDPOINT_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY")  # HTTPEndpoint's list
_MAX_DEPTH = 32


class _Unknown(Exception):
    """Part of the app at this path cannot be inspected: the answer is None (no knowledge)."""


def _routing_scope(scope: Mapping[str, Any], app: object = None) -> dict[str, Any]:
    """The fields of ``scope`` a router matches on, as they were before any routing happened."""
    snapshot = scope.get(_SNAPSHOT_KEY)
    if isinstance(snapshot, dict):
        return dict(snapshot)
    return {
        "type": "http",
        "path": scope.get("path", "/"),
        # A Mount rewrites root_path but keeps the original in app_root_path (url_for needs it).
        "root_path": scope.get("app_root_path", scope.get("root_path", "")),
        "method": scope.get("method", "GET"),
        "headers": scope.get("headers") or [],  # routing never mutates it: no copy
        "query_string": scope.get("query_string", b""),
        "scheme": scope.get("scheme", "http"),
        "server": scope.get("server"),
        "path_params": {},
        "app": app if app is not None else scope.get("app"),
    }


def _routes_of(obj: object) -> Sequence[Any] | None:
    """The route list of a Starlette/FastAPI app or router, looking through wrapping middleware."""
    for _ in range(_MAX_DEPTH):
        if obj is None:
            return None
        router = getattr(obj, "router", None)
        routes = getattr(router, "routes", None) if router is not None else None
        if routes is None:
            routes = getattr(obj, "routes", None)
        if isinstance(routes, Sequence):
            return routes
        obj = getattr(obj, "app", None)
    return None


def _route_methods(routes: Sequence[Any]) -> set[str]:
    """Every method some route in the tree declares (the candidates worth asking the router about)."""
    found: set[str] = set()
    stack: list[tuple[Sequence[Any], int]] = [(routes, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > _MAX_DEPTH:
            continue
        for route in current:
            methods = getattr(route, "methods", None)
            if methods:
                found.update(str(m).upper() for m in methods)
            included = getattr(route, "original_router", None)  # FastAPI's include_router branch
            for inner in (getattr(route, "routes", None), getattr(included, "routes", None)):
                if isinstance(inner, Sequence) and inner:
                    stack.append((inner, depth + 1))
    return found


def _serves(routes: Sequence[Any], scope: dict[str, Any], method: str, depth: int = 0) -> bool:
    """Would the router at ``routes`` hand ``method`` at this path to something that serves it?

    Mirrors ``Router.app``: the first FULL match takes the request. A Route with methods serves
    exactly those; a Mount or Host passes it on to the app inside (whose own router decides); a
    FastAPI included router has already resolved its routes in ``matches``.
    """
    from starlette.routing import Host, Match, Mount, Route

    if depth > _MAX_DEPTH:
        raise _Unknown
    probe = dict(scope)
    probe["method"] = method
    for route in routes:
        match, child = route.matches(probe)
        if match is not Match.FULL:
            continue
        if isinstance(route, Mount | Host):
            inner_scope = {**probe, **child}
            base = getattr(route, "_base_app", None) or route.app
            inner = _routes_of(base)
            if inner is not None:
                return _serves(inner, inner_scope, method, depth + 1)
            return _opaque_app_serves(base, method)
        if isinstance(route, Route) and route.methods is None:
            return _endpoint_serves(route.endpoint, method)
        return True
    return False


def _opaque_app_serves(app: object, method: str) -> bool:
    from starlette.staticfiles import StaticFiles

    if isinstance(app, StaticFiles):
        return method in ("GET", "HEAD")
    raise _Unknown


def _endpoint_serves(endpoint: object, method: str) -> bool:
    from starlette.endpoints import HTTPEndpoint

    if isinstance(endpoint, type) and issubclass(endpoint, HTTPEndpoint):
        if method not in _ENDPOINT_METHODS:
            return False
        return getattr(endpoint, method.lower(), None) is not None or (
            method == "HEAD" and getattr(endpoint, "get", None) is not None
        )
    raise _Unknown  # a raw ASGI endpoint answers whatever it likes


def methods_at(app: object, scope: Mapping[str, Any]) -> frozenset[str] | None:
    """The methods ``app``'s routes really answer at the path of ``scope``, or None.

    Each candidate method is put to the router as a request would be (``_serves``), so a method is
    in the answer exactly when some route takes it: HEAD for a Starlette ``Route`` with GET (its
    methods include HEAD) or an ``HTTPEndpoint`` with ``get``; not for a FastAPI ``APIRoute``
    declared with GET alone. Nothing is implied.
    """
    routes = _routes_of(app)
    if routes is None:
        return None
    probe = _routing_scope(scope, app)
    candidates = {*_PROBED, *_route_methods(routes)}
    method = probe.get("method")
    if isinstance(method, str):
        candidates.add(method.upper())
    try:
        served = {method for method in sorted(candidates) if _serves(routes, probe, method)}
    except _Unknown:
        return None
    if not served:
        return None  # no route at this path: whatever answered, the routes cannot say
    return frozenset(served)


def allowed_methods(app: object) -> Callable[[Scope], Iterable[str] | None]:
    """A callable(scope) for ``ASGIMiddleware(allowed_methods=...)``: the methods ``app`` serves at the path."""

    def methods(scope: Scope) -> Iterable[str] | None:
        return methods_at(app, scope)

    return methods


# =============================================================================================
# Hints in the framework's own words
# =============================================================================================


def _starlette_429(x: Exchange, request_facts: _integration.Facts) -> str | None:
    text = 'Starlette: raise HTTPException(429, headers={"Cache-Control": "no-store", "Retry-After": "60"}).'
    if _integration.loaded("slowapi"):
        text += (
            " slowapi: Limiter(..., headers_enabled=True) sends Retry-After and X-RateLimit-*; add "
            '"Cache-Control: no-store" in the RateLimitExceeded exception handler.'
        )
    return text


def _starlette_4xx(x: Exchange, request_facts: _integration.Facts) -> str | None:
    if x.status == 416 and x.has("content-range"):
        return (
            "Starlette's FileResponse answers an unsatisfiable Range with an empty 416: statusguard's fix "
            "gives it a problem+json body."
        )
    return 'Starlette: raise HTTPException(status_code, detail="...") instead of an empty Response(status_code=...).'


STARLETTE_HINTS: _integration.HintTable = {
    "401-www-authenticate": (
        'Starlette: raise HTTPException(401, headers={"WWW-Authenticate": \'Bearer realm="api"\'}).'
    ),
    "405-allow": (
        'Starlette: raise HTTPException(405, headers={"Allow": "GET, HEAD"}); with StatusGuardMiddleware '
        "installed, statusguard fills Allow in from every route at the path."
    ),
    "405-allow-coherent": (
        "Starlette's router lists only the first matching route's methods in Allow when a path has one "
        "route per method: give the path one Route(..., methods=[...]) or let statusguard rewrite Allow "
        "from every route at the path."
    ),
    "407-proxy-authenticate": (
        'Starlette: raise HTTPException(407, headers={"Proxy-Authenticate": \'Basic realm="proxy"\'}) '
        "(only a proxy should answer 407; an origin answers 401)."
    ),
    "426-upgrade-field": (
        'Starlette: raise HTTPException(426, headers={"Upgrade": "TLS/1.3", "Connection": "upgrade"}).'
    ),
    "429-not-storable": _starlette_429,
    "204-no-content": (
        "Starlette: return Response(status_code=204); JSONResponse(None, status_code=204) renders 'null'."
    ),
    "4xx-explain": _starlette_4xx,
}


def _fastapi_429(x: Exchange, request_facts: _integration.Facts) -> str | None:
    text = 'FastAPI: raise HTTPException(429, headers={"Cache-Control": "no-store", "Retry-After": "60"}).'
    if _integration.loaded("slowapi"):
        text += (
            " slowapi: Limiter(..., headers_enabled=True) sends Retry-After and X-RateLimit-*; add "
            '"Cache-Control: no-store" in the RateLimitExceeded exception handler.'
        )
    return text


FASTAPI_HINTS: _integration.HintTable = {
    **STARLETTE_HINTS,
    "401-www-authenticate": (
        'FastAPI: raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"}); the fastapi.security '
        "classes (HTTPBearer, OAuth2PasswordBearer) do this for you."
    ),
    "405-allow": (
        'FastAPI: raise HTTPException(405, headers={"Allow": "GET, POST"}); with StatusGuardMiddleware '
        "installed, statusguard fills Allow in from every route at the path."
    ),
    "405-allow-coherent": (
        "FastAPI lists only the first matching route's methods in Allow when a path has one route per "
        "method (@app.get and @app.post on the same path): use @app.api_route(path, methods=[...]) or let "
        "statusguard rewrite Allow from every route at the path."
    ),
    "allow-get-implies-head": (
        '@app.get does not answer HEAD in FastAPI: declare @app.api_route(path, methods=["GET", "HEAD"]).'
    ),
    "407-proxy-authenticate": (
        'FastAPI: raise HTTPException(407, headers={"Proxy-Authenticate": \'Basic realm="proxy"\'}) '
        "(only a proxy should answer 407; an origin answers 401)."
    ),
    "426-upgrade-field": (
        'FastAPI: raise HTTPException(426, headers={"Upgrade": "TLS/1.3", "Connection": "upgrade"}).'
    ),
    "429-not-storable": _fastapi_429,
    "204-no-content": (
        "FastAPI: declare status_code=204 on the route and return None, or return Response(status_code=204); "
        "JSONResponse(None, status_code=204) renders 'null'."
    ),
}


def _is_fastapi(app: object) -> bool:
    fastapi = sys.modules.get("fastapi")
    cls = getattr(fastapi, "FastAPI", None) if fastapi is not None else None
    return isinstance(cls, type) and isinstance(app, cls)


class StatusGuardMiddleware(ASGIMiddleware):
    """``ASGIMiddleware`` with the Starlette/FastAPI router's knowledge and framework hints.

    Takes ``ASGIMiddleware``'s arguments. ``allowed_methods`` defaults to the routes of the app
    being served (see :func:`allowed_methods`); pass your own callable(scope) to replace it.
    """

    def __init__(
        self,
        app: ASGIApp,
        mode: str | None = None,
        rules: Mapping[str, str] | None = None,
        *,
        on_violation: Callable[..., object] | None = None,
        allowed_methods: Callable[[Scope], Iterable[str] | None] | None = None,
        log_interval: float = 60.0,
        **fix_options: Any,
    ) -> None:
        super().__init__(
            app, mode, rules, on_violation=on_violation,
            allowed_methods=allowed_methods if allowed_methods is not None else self._router_methods,
            log_interval=log_interval, **fix_options,
        )
        self._tables: tuple[_integration.HintTable, ...] | None = None
        _integration.install(self.policy, self._hint_tables)

    def _hint_tables(self) -> Sequence[_integration.HintTable]:
        return self._tables or (STARLETTE_HINTS,)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.policy.mode != "off":
            app = scope.get("app")
            if app is None:
                app = self.app
            if self._tables is None:
                self._tables = (FASTAPI_HINTS,) if _is_fastapi(app) else (STARLETTE_HINTS,)
            scope[_SNAPSHOT_KEY] = _routing_scope(scope, app)
        await super().__call__(scope, receive, send)

    def _router_methods(self, scope: Scope) -> Iterable[str] | None:
        snapshot = scope.get(_SNAPSHOT_KEY)
        app = snapshot.get("app") if isinstance(snapshot, dict) else None
        return methods_at(app if app is not None else self.app, scope)


# =============================================================================================
# statusguard audit: the routes of the app, and the configuration it gives statusguard
# =============================================================================================


def _declared_routes(app: object) -> Sequence[Any] | None:
    router = getattr(app, "router", None)
    routes = getattr(router, "routes", None) if router is not None else getattr(app, "routes", None)
    if isinstance(routes, Sequence) and not isinstance(routes, str):
        return routes
    return None


def recognizes(app: object) -> bool:
    return _declared_routes(app) is not None


def discover(app: Any, survey: _integration.RouteSurvey) -> _integration.Discovery:
    """Every HTTP route with a sample path, and the methods the router serves there (``methods_at``)."""
    found = _integration.Discovery("fastapi" if _is_fastapi(app) else "starlette")
    for template, path, declared in _walk(_declared_routes(app) or [], "", "", survey, 0):
        methods: frozenset[str] | None
        try:
            methods = methods_at(app, survey.scope("GET", path))
        except Exception:
            methods = None
        if methods is None and declared:
            methods = frozenset(declared)  # a Route's methods hold HEAD already when it serves it
        found.routes.append(_integration.FoundRoute(template, path, methods, found.framework))
    return found


def _walk(
    routes: Iterable[Any], template_prefix: str, path_prefix: str, survey: _integration.RouteSurvey, depth: int,
) -> Iterator[tuple[str, str, frozenset[str] | None]]:
    """(template, filled path, declared methods) of every HTTP route, through Mounts and included routers."""
    if depth > _MAX_DEPTH:
        return
    for route in routes:
        kind = type(route).__name__
        candidates = getattr(route, "effective_candidates", None)  # FastAPI's lazily included router
        if callable(candidates):
            try:
                included = list(candidates())
            except Exception:
                continue
            yield from _walk(included, template_prefix, path_prefix, survey, depth + 1)
            continue
        path = getattr(route, "path", None)
        if not isinstance(path, str) or kind in ("WebSocketRoute", "Host") or "WebSocket" in kind:
            if kind == "Host":
                survey.note(f"skipped Host({getattr(route, 'host', '?')!r}) routes: host routing is not probed")
            continue
        try:
            filled = survey.fill_braces(path, getattr(route, "param_convertors", None) or {}, _annotations(route))
        except _integration.UnfillableParameter as missing:
            survey.note(f"skipped {template_prefix + path}: no sample value for {{{missing.name}}} "
                        f"(give one with --param {missing.name}=VALUE)")
            continue
        if kind == "Mount" or (hasattr(route, "routes") and not hasattr(route, "endpoint")):
            inner = getattr(route, "routes", None)
            if inner:
                yield from _walk(inner, template_prefix + path, path_prefix + filled, survey, depth + 1)
            else:
                app = getattr(route, "app", None)
                what = type(app).__name__ if app is not None else "an app"
                survey.note(f"skipped {template_prefix + path or '/'}: a mounted {what} has no routes to discover")
            continue
        methods = getattr(route, "methods", None)
        declared = frozenset(str(m).upper() for m in methods) if methods else None
        yield template_prefix + path, path_prefix + filled or "/", declared


def _annotations(route: Any) -> dict[str, Any]:
    """A FastAPI route's path parameters by name -> their annotation (``item_id: int``): the best sample."""
    annotations: dict[str, Any] = {}
    original = getattr(route, "original_route", route)
    dependant = getattr(original, "dependant", None)
    for param in getattr(dependant, "path_params", None) or ():
        info = getattr(param, "field_info", None)
        annotation = getattr(info, "annotation", None)
        if annotation is None:
            annotation = getattr(param, "type_", None)
        annotations[str(getattr(param, "alias", None) or getattr(param, "name", ""))] = annotation
    return annotations


def installed_configuration(app: Any) -> tuple[dict[str, Any], object]:
    """The fix options and rule selectors given to a statusguard middleware in ``app.add_middleware``."""
    names = FixOptions.__dataclass_fields__
    options: dict[str, Any] = {}
    rules: object = None
    for middleware in getattr(app, "user_middleware", None) or ():
        cls = getattr(middleware, "cls", None)
        if isinstance(cls, type) and issubclass(cls, ASGIMiddleware):
            kwargs = getattr(middleware, "kwargs", None) or {}
            options.update({k: v for k, v in kwargs.items() if k in names})
            rules = kwargs.get("rules", rules)
    return options, rules


def hint_tables(hints: str) -> tuple[_integration.HintTable, ...]:
    return {"starlette": (STARLETTE_HINTS,), "fastapi": (FASTAPI_HINTS,)}.get(hints, ())


# =============================================================================================
# The pytest plugin: Starlette's (and FastAPI's) TestClient hands each request to its transport
# =============================================================================================


def patch_test_client(module: ModuleType, guard: _integration.PluginGuard) -> str | None:
    cls = getattr(module, "_TestClientTransport", None)
    original = getattr(cls, "handle_request", None) if isinstance(cls, type) else None
    if original is None or guard.is_ours(original):
        return None
    guard.replace(cls, "handle_request", guard.sync_method(original, guard.wrap_asgi))
    return "starlette TestClient"
