"""``statusguard audit``: find an app's routes, send safe probes, check every answer.

Charter: discovery (which routes exist, which methods they serve) and driving (calling a WSGI or
ASGI app in-process, or a running server over HTTP) live here; judging lives in the core
(``check``/``fix``), presentation in ``_formats``.

Probes are safe by construction. Each route gets GET, HEAD and OPTIONS, one method it does not
serve (a method the router refuses: the handler never runs), and on GET routes an unsatisfiable
``Range``; no probe carries credentials (no ``Authorization``, no ``Cookie``), so a route behind
authentication answers its refusal, which is checked and reported as such. A handler that
accepts POST, PUT, PATCH or DELETE never receives one unless the user passes ``--unsafe``; where
the router cannot say what a route serves, no unsafe method is sent at all.

Which methods a path serves comes from the framework's own router, asked the way it dispatches:
``statusguard.contrib.flask.allowed_methods`` (Werkzeug's url_map), ``statusguard.contrib.starlette
.methods_at`` (every route at the path, through Mounts and FastAPI's included routers) and
``statusguard.contrib.django.view_methods`` (the resolved view).

Each probe runs with a timeout (an app that never answers is reported for that probe, the audit
goes on), an app that raises is reported for the probe that made it raise, and no body is held
beyond ``MAX_BODY`` bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import importlib
import inspect
import io
import logging
import os
import re
import sys
import threading
import traceback
import typing
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..core.checker import build_exchange, check
from ..core.fixer import FixResult, fix
from ..core.model import Violation

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_BODY",
    "UNSAFE_METHODS",
    "AuditReport",
    "Probe",
    "ProbeResult",
    "Route",
    "Target",
    "TargetError",
    "load_target",
    "middleware_off",
    "plan_probes",
    "run_audit",
]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY = 1 << 20  # a body beyond this is not held: it is checked as "not observed"
DEFAULT_TIMEOUT = 10.0  # seconds per probe
UNSATISFIABLE_RANGE = "bytes=999999999-"
_GRACE = 1.0  # seconds an ASGI app gets to return once its response is complete
_MAX_DEPTH = 32
_UUID = "00000000-0000-0000-0000-000000000000"
_SAMPLE_BY_KIND = {
    "int": "1", "integer": "1", "float": "1.5", "number": "1.5", "uuid": _UUID, "path": "example",
    "str": "example", "string": "example", "unicode": "example", "default": "example", "slug": "example",
    "bool": "true", "date": "2024-01-01",
}
_CANDIDATES = ("1", "example", "1.5", _UUID, "a", "true", "2024-01-01")
_UNSERVED_ORDER = ("DELETE", "PUT", "PATCH", "POST")

# Starlette {name} / {name:convertor}; Werkzeug and Django <name> / <conv:name> / <conv(args):name>.
_PARAM_BRACE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?\}")
_PARAM_ANGLE = re.compile(r"<(?:([A-Za-z_][A-Za-z0-9_]*)(?:\((.*?)\))?:)?([A-Za-z_][A-Za-z0-9_]*)>")


class TargetError(Exception):
    """The target cannot be loaded or reached: a usage error (exit status 2)."""


@dataclass(frozen=True, slots=True)
class Route:
    template: str  # as the framework writes it: /items/{id}, /items/<int:id>
    path: str  # the template with sample values filled in
    methods: frozenset[str] | None  # what the router serves at ``path``; None: it cannot say
    hints: str = ""  # whose words the hints speak: flask, starlette, fastapi, django, drf ("": generic)


@dataclass(frozen=True, slots=True)
class Probe:
    route: Route
    method: str
    headers: tuple[tuple[str, str], ...]
    label: str  # what the probe is for, for people
    kind: str  # get, head, options, unserved, range, unsafe

    @property
    def path(self) -> str:
        return self.route.path


@dataclass(slots=True)
class ProbeResult:
    probe: Probe
    status: int = 0
    status_text: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    body_size: int = 0  # bytes the app sent (also beyond MAX_BODY, up to where the probe stopped reading)
    violations: list[Violation] = field(default_factory=list)
    fixed: FixResult | None = None
    error: str | None = None  # the app raised, timed out or could not be reached


@dataclass(slots=True)
class Target:
    """What is audited: an in-process app (kind "wsgi"/"asgi") or a running server (kind "url")."""

    name: str
    kind: str
    app: Any = None
    base_url: str = ""
    routes: list[Route] = field(default_factory=list)
    framework: str = "unknown"
    host: str = "localhost"
    fix_options: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, str] | None = None  # the app's own statusguard selectors, when it configures them
    notes: list[str] = field(default_factory=list)  # what discovery skipped or could not know


@dataclass(slots=True)
class AuditReport:
    target: Target
    results: list[ProbeResult]
    notes: list[str] = field(default_factory=list)

    def violations(self) -> list[Violation]:
        return [v for result in self.results for v in result.violations]

    def errors(self) -> list[ProbeResult]:
        return [result for result in self.results if result.error]

    def by_route(self) -> list[tuple[Route, list[ProbeResult]]]:
        grouped: dict[Route, list[ProbeResult]] = {}
        for route in self.target.routes:
            grouped[route] = []
        for result in self.results:
            grouped.setdefault(result.probe.route, []).append(result)
        return [(route, results) for route, results in grouped.items() if results]

    @staticmethod
    def auth_status(results: Sequence[ProbeResult]) -> int | None:
        """401/403/407 when the route refused the GET without credentials: it requires authentication."""
        for result in results:
            if result.probe.kind == "get" and result.status in (401, 403, 407):
                return result.status
        return None


# ---------------------------------------------------------------------------------------------
# Loading


@contextlib.contextmanager
def middleware_off() -> Iterator[None]:
    """While loading and auditing, statusguard's own middleware (when the app installs it without
    an explicit mode) is a pass-through: the audit judges the app's responses, then shows what
    statusguard's fixes make of them."""
    from ..core.policy import ENV_MODE

    previous = os.environ.get(ENV_MODE)
    os.environ[ENV_MODE] = "off"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ENV_MODE, None)
        else:
            os.environ[ENV_MODE] = previous


def load_target(
    spec: str | None, *, django_settings: str | None = None, params: Mapping[str, str] | None = None
) -> Target:
    """``None`` → the bundled demo; ``pkg.mod:attr`` → an app; ``http(s)://...`` → a running server.

    Raises ``TargetError`` (a usage error) when the target cannot be imported or is not an app.
    """
    params = dict(params or {})
    if django_settings:
        return _load_django_settings(django_settings, params)
    if spec is None:
        from .. import demo

        routes = [Route(template, _fill_simple(template, params), frozenset(methods) | _head(methods))
                  for template, methods in demo.ROUTES.items()]
        return Target("statusguard.demo:app (the bundled demo)", "wsgi", demo.app, routes=routes,
                      framework="demo", fix_options=dict(demo.DEMO_OPTIONS))
    if spec.startswith(("http://", "https://")):
        return _load_url(spec)
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(f"target {spec!r}: write module:attribute (e.g. myproject.app:app) or a URL")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, "")  # like `python -m`, import from the working directory
    app = _import(module_name, attr)
    if not callable(app):
        raise TargetError(f"{spec} is a {type(app).__name__}, not a WSGI or ASGI app")
    kind = "asgi" if _is_asgi(app) else "wsgi"
    target = Target(spec, kind, app)
    _discover(target, params)
    return target


def _head(methods: Iterable[str]) -> frozenset[str]:
    return frozenset({"HEAD"}) if "GET" in methods else frozenset()


def _import(module_name: str, attr: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise TargetError(f"cannot import {module_name!r}: {_describe_exception(exc)}") from exc
    app: Any = module
    for part in attr.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise TargetError(f"module {module_name!r} has no attribute {attr!r}") from None
    if inspect.isfunction(app) and _is_factory(app):
        try:
            app = app()  # an application factory such as Flask's create_app()
        except Exception as exc:
            raise TargetError(f"the factory {module_name}:{attr}() raised {_describe_exception(exc)}") from exc
    return app


def _describe_exception(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{text}"
    frames = traceback.extract_tb(exc.__traceback__)
    user = [frame for frame in frames if "importlib" not in frame.filename]
    if user:
        last = user[-1]
        text += f" ({last.filename}, line {last.lineno})"
    return text


def _is_factory(func: Callable[..., Any]) -> bool:
    try:
        return len(inspect.signature(func).parameters) == 0
    except (TypeError, ValueError):
        return False


def _is_asgi(app: Any) -> bool:
    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - we need the bound method itself
    if inspect.iscoroutinefunction(call):
        return True
    marker = getattr(asyncio.coroutines, "_is_coroutine", None)  # asgiref's markcoroutinefunction on 3.11
    return marker is not None and getattr(app, "_is_coroutine", None) is marker


def _load_url(spec: str) -> Target:
    parsed = urllib.parse.urlsplit(spec)
    if not parsed.hostname:
        raise TargetError(f"target {spec!r}: the URL has no host")
    base = f"{parsed.scheme}://{parsed.netloc}"
    path = parsed.path or "/"
    if parsed.query:
        path += "?" + parsed.query
    return Target(spec, "url", base_url=base, routes=[Route(path, path, None)], framework="server")


# ---------------------------------------------------------------------------------------------
# Path parameters


def _annotation_sample(annotation: Any) -> str | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _annotation_sample(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        args = typing.get_args(annotation)
        return str(args[0]) if args else None
    if origin is not None:  # Optional[int], int | None
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                return _annotation_sample(arg)
        return None
    if not isinstance(annotation, type):
        return None
    if issubclass(annotation, enum.Enum):
        members = list(annotation)
        return str(members[0].value) if members else None
    if issubclass(annotation, bool):
        return "true"
    if issubclass(annotation, int):
        return "1"
    if issubclass(annotation, float):
        return "1.5"
    if issubclass(annotation, uuid.UUID):
        return _UUID
    import datetime

    if issubclass(annotation, datetime.datetime):
        return "2024-01-01T00:00:00"
    if issubclass(annotation, datetime.date):
        return "2024-01-01"
    if issubclass(annotation, str):
        return "example"
    return None


def _alternatives(regex: str) -> list[str]:
    """The literal alternatives of a regex such as ``(?:a|b)`` or ``auth|admin`` (else none)."""
    inner = regex
    match = re.fullmatch(r"\((?:\?:)?(.*)\)", regex)
    if match:
        inner = match.group(1)
    out = []
    for part in inner.split("|"):
        literal = re.sub(r"\\(.)", r"\1", part)
        if literal and not any(char in part.replace("\\.", "").replace("\\-", "") for char in "[](){}*+?^$"):
            out.append(literal)
    return out


def _sample(
    name: str, params: Mapping[str, str], *, kind: str | None = None, regex: str | None = None,
    annotation: Any = None,
) -> str | None:
    """A value for the path parameter ``name``: --param first, then by type, then whatever the regex takes."""
    if name in params:
        return params[name]
    wanted: list[str | None] = []
    if annotation is not None:
        wanted.append(_annotation_sample(annotation))
    if kind:
        wanted.append(_SAMPLE_BY_KIND.get(kind.lower()))
    wanted.extend(_CANDIDATES)
    if regex:
        wanted.extend(_alternatives(regex))
    for candidate in wanted:
        if candidate is None:
            continue
        if regex is None:
            return candidate
        try:
            if re.fullmatch(regex, candidate):
                return candidate
        except re.error:
            return candidate
    return None


def _kind_of(converter: object) -> str:
    """int, float, uuid, path... from a converter's class name (IntegerConverter, UUIDConvertor...)."""
    name = type(converter).__name__.lower()
    for suffix in ("converter", "convertor"):
        name = name.removesuffix(suffix)
    return name


class _Unfillable(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _fill_simple(template: str, params: Mapping[str, str]) -> str:
    """Fill {name[:conv]} and <[conv:]name> placeholders by converter name alone."""

    def brace(match: re.Match[str]) -> str:
        return _sample(match.group(1), params, kind=match.group(2) or "str") or "example"

    def angle(match: re.Match[str]) -> str:
        return _sample(match.group(3), params, kind=match.group(1) or "str") or "example"

    return _PARAM_ANGLE.sub(angle, _PARAM_BRACE.sub(brace, template))


# ---------------------------------------------------------------------------------------------
# Discovery


def _unwrap(app: Any) -> Iterator[Any]:
    """``app`` and what it wraps (middleware keep the wrapped app in .app; a bound wsgi_app has __self__)."""
    seen: set[int] = set()
    current = app
    for _ in range(_MAX_DEPTH):
        if current is None or id(current) in seen:
            return
        seen.add(id(current))
        yield current
        owner = getattr(current, "__self__", None)
        if owner is not None and not isinstance(owner, type) and getattr(owner, "url_map", None) is not None:
            current = owner
            continue
        current = getattr(current, "app", None) or getattr(current, "wsgi_app", None)


def _discover(target: Target, params: Mapping[str, str]) -> None:
    for candidate in _unwrap(target.app):
        if hasattr(candidate, "url_map") and hasattr(candidate, "wsgi_app"):
            _discover_flask(target, candidate, params)
            break
        if _is_django_handler(candidate):
            _discover_django(target, params)
            break
        if _starlette_routes_of(candidate) is not None:
            _discover_starlette(target, candidate, params)
            break
    if not target.routes:
        target.routes.append(Route("/", "/", None))
        target.notes.append("no router found: only / is probed, and no unsafe or unserved method is sent")
    target.fix_options, target.rules = _installed_configuration(target)


def _add_route(target: Target, route: Route) -> None:
    """Routes sharing a path are one resource (the router's answer already covers all of them)."""
    if any(existing.path == route.path for existing in target.routes):
        return
    target.routes.append(route)


# -- Flask / Werkzeug


def _discover_flask(target: Target, flask_app: Any, params: Mapping[str, str]) -> None:
    target.framework = "flask"
    try:
        from ..contrib.flask import allowed_methods

        router: Callable[[Any], Iterable[str] | None] | None = allowed_methods(flask_app)
    except Exception:  # pragma: no cover - contrib.flask imports nothing but statusguard
        router = None
    rules_by_path: dict[str, set[str]] = {}
    pending: list[tuple[str, str]] = []
    for rule in flask_app.url_map.iter_rules():
        if rule.endpoint == "static" or getattr(rule, "websocket", False):
            continue
        if getattr(rule, "host", None) or getattr(rule, "subdomain", None):
            target.notes.append(f"skipped {rule.rule}: host or subdomain rules are not probed")
            continue
        try:
            path = _fill_werkzeug(rule, params)
        except _Unfillable as missing:
            target.notes.append(f"skipped {rule.rule}: no sample value for <{missing.name}> "
                                f"(give one with --param {missing.name}=VALUE)")
            continue
        rules_by_path.setdefault(path, set()).update(rule.methods or ())
        pending.append((rule.rule, path))
    for template, path in pending:
        methods: frozenset[str] | None = None
        if router is not None:
            found = router(_environ("GET", path, (), target.host))
            methods = frozenset(found) if found is not None else None
        if methods is None and rules_by_path.get(path):
            methods = frozenset(rules_by_path[path])
        _add_route(target, Route(template, path, methods, "flask"))


def _fill_werkzeug(rule: Any, params: Mapping[str, str]) -> str:
    converters: Mapping[str, Any] = getattr(rule, "_converters", {}) or {}

    def angle(match: re.Match[str]) -> str:
        name = match.group(3)
        converter = converters.get(name)
        kind = _kind_of(converter) if converter is not None else (match.group(1) or "str")
        regex = getattr(converter, "regex", None)
        value = _sample(name, params, kind=kind, regex=regex if isinstance(regex, str) else None)
        if value is None:
            raise _Unfillable(name)
        return urllib.parse.quote(value, safe="/" if kind == "path" else "")

    return _PARAM_ANGLE.sub(angle, str(rule.rule))


# -- Starlette / FastAPI


def _starlette_routes_of(app: Any) -> Sequence[Any] | None:
    router = getattr(app, "router", None)
    routes = getattr(router, "routes", None) if router is not None else getattr(app, "routes", None)
    if isinstance(routes, Sequence) and not isinstance(routes, str):
        return routes
    return None


def _is_fastapi(app: Any) -> bool:
    fastapi = sys.modules.get("fastapi")
    cls = getattr(fastapi, "FastAPI", None) if fastapi is not None else None
    return isinstance(cls, type) and isinstance(app, cls)


def _discover_starlette(target: Target, app: Any, params: Mapping[str, str]) -> None:
    target.framework = "fastapi" if _is_fastapi(app) else "starlette"
    routes = _starlette_routes_of(app) or []
    try:
        from ..contrib.starlette import methods_at

        router: Callable[[Any, Mapping[str, Any]], frozenset[str] | None] | None = methods_at
    except Exception:  # pragma: no cover - starlette is importable when the app is a Starlette app
        router = None
    for template, path, declared in _walk_starlette(routes, "", "", params, target, 0):
        methods: frozenset[str] | None = None
        if router is not None:
            try:
                methods = router(app, _scope("GET", path, (), target.host))
            except Exception:
                methods = None
        if methods is None and declared:
            methods = frozenset(declared) | _head(declared)
        _add_route(target, Route(template, path, methods, target.framework))


def _walk_starlette(
    routes: Iterable[Any], template_prefix: str, path_prefix: str, params: Mapping[str, str], target: Target,
    depth: int,
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
            yield from _walk_starlette(included, template_prefix, path_prefix, params, target, depth + 1)
            continue
        path = getattr(route, "path", None)
        if not isinstance(path, str) or kind in ("WebSocketRoute", "Host") or "WebSocket" in kind:
            if kind == "Host":
                target.notes.append(f"skipped Host({getattr(route, 'host', '?')!r}) routes: host routing is not probed")
            continue
        try:
            filled = _fill_starlette(route, path, params)
        except _Unfillable as missing:
            target.notes.append(f"skipped {template_prefix + path}: no sample value for {{{missing.name}}} "
                                f"(give one with --param {missing.name}=VALUE)")
            continue
        if kind == "Mount" or (hasattr(route, "routes") and not hasattr(route, "endpoint")):
            inner = getattr(route, "routes", None)
            if inner:
                yield from _walk_starlette(inner, template_prefix + path, path_prefix + filled, params, target,
                                           depth + 1)
            else:
                app = getattr(route, "app", None)
                what = type(app).__name__ if app is not None else "an app"
                target.notes.append(f"skipped {template_prefix + path or '/'}: a mounted {what} has no routes "
                                    "to discover")
            continue
        methods = getattr(route, "methods", None)
        declared = frozenset(str(m).upper() for m in methods) if methods else None
        yield template_prefix + path, path_prefix + filled or "/", declared


def _fill_starlette(route: Any, path: str, params: Mapping[str, str]) -> str:
    convertors: Mapping[str, Any] = getattr(route, "param_convertors", None) or {}
    annotations: dict[str, Any] = {}
    original = getattr(route, "original_route", route)
    dependant = getattr(original, "dependant", None)
    for param in getattr(dependant, "path_params", None) or ():
        info = getattr(param, "field_info", None)
        annotation = getattr(info, "annotation", None)
        if annotation is None:
            annotation = getattr(param, "type_", None)
        annotations[str(getattr(param, "alias", None) or getattr(param, "name", ""))] = annotation

    def brace(match: re.Match[str]) -> str:
        name = match.group(1)
        convertor = convertors.get(name)
        kind = match.group(2) or (_kind_of(convertor) if convertor is not None else "str")
        regex = getattr(convertor, "regex", None)
        value = _sample(name, params, kind=kind, regex=regex if isinstance(regex, str) else None,
                        annotation=annotations.get(name))
        if value is None:
            raise _Unfillable(name)
        return urllib.parse.quote(value, safe="/" if kind == "path" else "")

    return _PARAM_BRACE.sub(brace, path)


# -- Django


def _is_django_handler(app: Any) -> bool:
    handlers = sys.modules.get("django.core.handlers.base")
    base = getattr(handlers, "BaseHandler", None) if handlers is not None else None
    return isinstance(base, type) and isinstance(app, base)


def _load_django_settings(settings_module: str, params: Mapping[str, str]) -> Target:
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, "")
    try:
        import django  # type: ignore[import-untyped,unused-ignore]
        from django.conf import settings  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        raise TargetError(f"--django-settings needs Django installed: {exc}") from exc
    if settings.configured:
        current = getattr(settings, "SETTINGS_MODULE", None)
        if current != settings_module:
            raise TargetError(f"Django is already configured in this process (with {current!r}), "
                              f"not with {settings_module!r}")
    else:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    try:
        importlib.import_module(settings_module)
        django.setup()
        from django.core.handlers.wsgi import WSGIHandler  # type: ignore[import-untyped,unused-ignore]

        handler = WSGIHandler()
    except TargetError:
        raise
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise TargetError(f"cannot set up Django with {settings_module!r}: {_describe_exception(exc)}") from exc
    target = Target(f"Django project ({settings_module})", "wsgi", handler, framework="django")
    _discover(target, params)
    return target


def _discover_django(target: Target, params: Mapping[str, str]) -> None:
    from django.conf import settings  # type: ignore[import-untyped,unused-ignore]
    from django.urls import Resolver404, get_resolver, resolve  # type: ignore[import-untyped,unused-ignore]

    target.framework = "django"
    for host in getattr(settings, "ALLOWED_HOSTS", None) or ():
        if isinstance(host, str) and host and host != "*" and not host.startswith("."):
            target.host = host
            break
    methods_of: Callable[[Any], frozenset[str] | None] | None
    try:
        from ..contrib.django import view_methods as methods_of
    except Exception:  # pragma: no cover - asgiref comes with Django
        methods_of = None
    for template, path, callback in _walk_django(get_resolver().url_patterns, "", "", params, target, 0):
        try:
            match = resolve(path)
        except Resolver404:
            target.notes.append(f"skipped {template}: the sample path {path} does not resolve "
                                "(give values with --param NAME=VALUE)")
            continue
        except Exception:
            continue
        view = getattr(match, "func", callback)
        methods: frozenset[str] | None = None
        if methods_of is not None:
            try:
                methods = methods_of(view)
            except Exception:
                methods = None
        _add_route(target, Route(template, path, methods, "drf" if _is_drf_view(view) else "django"))


def _is_drf_view(view: Any) -> bool:
    views = sys.modules.get("rest_framework.views")
    api_view = getattr(views, "APIView", None) if views is not None else None
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    return isinstance(api_view, type) and isinstance(cls, type) and issubclass(cls, api_view)


def _walk_django(
    patterns: Iterable[Any], template_prefix: str, path_prefix: str, params: Mapping[str, str], target: Target,
    depth: int,
) -> Iterator[tuple[str, str, Any]]:
    """(template, filled path, view) of every URL pattern, through nested includes."""
    if depth > _MAX_DEPTH:
        return
    for pattern in patterns:
        matcher = getattr(pattern, "pattern", None)
        try:
            template, filled = _fill_django(matcher, params)
        except _Unfillable as missing:
            where = "/" + template_prefix + _django_text(matcher)
            if missing.name == "?":
                target.notes.append(f"skipped {where}: a regular expression statusguard cannot fill")
            elif missing.name != "format":  # DRF's format suffixes: the same view is probed without one
                target.notes.append(f"skipped {where}: no sample value for {missing.name!r} "
                                    f"(give one with --param {missing.name}=VALUE)")
            continue
        nested = getattr(pattern, "url_patterns", None)
        if nested is not None:
            try:
                children = list(nested)
            except Exception as exc:
                target.notes.append(f"skipped /{template_prefix}{template}: its urlconf failed to load ({exc})")
                continue
            yield from _walk_django(children, template_prefix + template, path_prefix + filled, params, target,
                                    depth + 1)
        else:
            yield "/" + template_prefix + template, "/" + path_prefix + filled, getattr(pattern, "callback", None)


def _django_text(matcher: Any) -> str:
    if matcher is None:
        return ""
    prefix = getattr(matcher, "language_prefix", None)
    if isinstance(prefix, str):
        return prefix
    return str(matcher)


def _fill_django(matcher: Any, params: Mapping[str, str]) -> tuple[str, str]:
    """(display template, filled text) for one level of a URL pattern: a route or a regex."""
    text = _django_text(matcher)
    if matcher is None or hasattr(matcher, "language_prefix"):
        return text, text
    converters: Mapping[str, Any] = getattr(matcher, "converters", None) or {}
    regex = getattr(matcher, "regex", None)
    if type(matcher).__name__ == "RegexPattern":
        template, filled = _fill_regex(text, params)
        compiled = regex if isinstance(regex, re.Pattern) else None
        if compiled is not None:
            found = compiled.search(filled)
            if found is None or found.start() != 0:
                raise _Unfillable(next(iter(compiled.groupindex), "?"))
        return template, filled

    def angle(match: re.Match[str]) -> str:
        name = match.group(3)
        converter = converters.get(name)
        kind = _kind_of(converter) if converter is not None else (match.group(1) or "str")
        conv_regex = getattr(converter, "regex", None)
        value = _sample(name, params, kind=kind, regex=conv_regex if isinstance(conv_regex, str) else None)
        if value is None:
            raise _Unfillable(name)
        return urllib.parse.quote(value, safe="/" if kind == "path" else "")

    return text, _PARAM_ANGLE.sub(angle, text)


def _fill_regex(pattern: str, params: Mapping[str, str]) -> tuple[str, str]:
    """Fill a simple regex URL pattern (what re_path and DRF's routers write): anchors, escaped
    literals, optional characters and groups with a sample each. Anything else cannot be filled."""
    text = pattern.removeprefix("^")
    for anchor in ("\\Z", "$"):
        text = text.removesuffix(anchor)
    template: list[str] = []
    filled: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            escaped = text[index + 1]
            if escaped.isalnum():
                raise _Unfillable("?")  # \d, \w...: a class, not a literal
            template.append(escaped)
            filled.append(escaped)
            index += 2
            continue
        if char == "(":
            end = _closing_paren(text, index)
            group = text[index + 1:end]
            name = "?"
            named = re.match(r"\?P<([A-Za-z_][A-Za-z0-9_]*)>", group)
            if named:
                name = named.group(1)
                group = group[named.end():]
            elif group.startswith("?:"):
                group = group[2:]
            if name == "format":
                raise _Unfillable("format")
            value = _sample(name, params, regex=group)
            if value is None:
                raise _Unfillable(name)
            optional = end + 1 < len(text) and text[end + 1] == "?"
            template.append(f"<{name}>" if named else value)
            filled.append(value)
            index = end + (2 if optional else 1)
            continue
        if char == "?" and filled:
            index += 1  # "x?": keep the character
            continue
        if char in "[]{}*+|^$":
            raise _Unfillable("?")
        template.append(char)
        filled.append(char)
        index += 1
    return "".join(template), "".join(filled)


def _closing_paren(text: str, start: int) -> int:
    depth = 0
    index = start
    in_class = False
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise _Unfillable("?")


# -- the app's own statusguard configuration


def _fix_option_names() -> tuple[str, ...]:
    from ..core.options import FixOptions

    return tuple(FixOptions.__dataclass_fields__)


def _installed_configuration(target: Target) -> tuple[dict[str, Any], dict[str, str] | None]:
    """The fix options and rule selectors the app gives statusguard, so that "after statusguard's
    fixes" shows what its own configuration would send (a challenge, a Retry-After...)."""
    names = _fix_option_names()
    options: dict[str, Any] = {}
    rules: Any = None
    try:
        if target.framework == "flask":
            flask_app = next(c for c in _unwrap(target.app) if hasattr(c, "url_map"))
            config = flask_app.config
            for name in names:
                if f"STATUSGUARD_{name.upper()}" in config:
                    options[name] = config[f"STATUSGUARD_{name.upper()}"]
            rules = config.get("STATUSGUARD_RULES")
            installed = getattr(flask_app, "extensions", {}).get("statusguard")
            settings = getattr(installed, "settings", None)
            if isinstance(settings, Mapping):
                options.update({k: v for k, v in settings.items() if k in names and v is not None})
                rules = settings.get("rules", rules)
        elif target.framework in ("starlette", "fastapi"):
            from ..asgi import ASGIMiddleware

            for candidate in _unwrap(target.app):
                for middleware in getattr(candidate, "user_middleware", None) or ():
                    cls = getattr(middleware, "cls", None)
                    if isinstance(cls, type) and issubclass(cls, ASGIMiddleware):
                        kwargs = getattr(middleware, "kwargs", None) or {}
                        options.update({k: v for k, v in kwargs.items() if k in names})
                        rules = kwargs.get("rules", rules)
        elif target.framework == "django":
            from django.conf import settings as django_settings  # type: ignore[import-untyped,unused-ignore]

            config = getattr(django_settings, "STATUSGUARD", None) or {}
            if isinstance(config, Mapping):
                options.update({k: v for k, v in config.items() if k in names})
                rules = config.get("rules")
        if not options:
            for candidate in _unwrap(target.app):  # a WSGIMiddleware / ASGIMiddleware the target is wrapped in
                fixes = getattr(getattr(candidate, "policy", None), "options", None)
                if fixes is not None and dataclasses.is_dataclass(fixes):
                    options = {name: getattr(fixes, name) for name in names if hasattr(fixes, name)}
                    break
    except Exception:
        return {}, None
    from ..core.options import FixOptions

    try:
        FixOptions.build(**options)
    except Exception:
        options = {}
    selectors = {str(k): str(v) for k, v in rules.items()} if isinstance(rules, Mapping) else None
    if selectors:
        try:
            check(200, [], b"", rules=selectors)
        except Exception:
            selectors = None
    return options, selectors


# ---------------------------------------------------------------------------------------------
# Probes


def plan_probes(target: Target, *, unsafe: bool = False) -> list[Probe]:
    """Per route: GET (without credentials), HEAD, OPTIONS, a method it does not serve, and an
    unsatisfiable Range on GET routes. Unsafe methods a route serves only with ``unsafe``."""
    probes: list[Probe] = []
    for route in target.routes:
        served = route.methods
        probes.append(Probe(route, "GET", (), "GET without credentials", "get"))
        probes.append(Probe(route, "HEAD", (), "HEAD", "head"))
        probes.append(Probe(route, "OPTIONS", (), "OPTIONS", "options"))
        if served is not None:
            unserved = next((m for m in (*_UNSERVED_ORDER, "TRACE") if m not in served), None)
            if unserved is not None:
                probes.append(Probe(route, unserved, (), "a method the route does not serve", "unserved"))
        if served is None or "GET" in served:
            probes.append(Probe(route, "GET", (("Range", UNSATISFIABLE_RANGE),), "unsatisfiable Range", "range"))
        if unsafe and served is not None:
            probes.extend(Probe(route, m, (), f"{m} (--unsafe)", "unsafe")
                          for m in _UNSERVED_ORDER[::-1] if m in served)
    return probes


def run_audit(
    target: Target,
    *,
    unsafe: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    probes = plan_probes(target, unsafe=unsafe)
    notes = list(target.notes)
    with warnings.catch_warnings(record=True) as caught, _AppLog(target) as app_log:
        # What the app warns or logs while it is probed belongs in the report, not over it.
        warnings.simplefilter("default")
        if target.kind == "asgi":
            results = asyncio.run(_asgi_session(target, probes, timeout, progress, notes, app_log))
        else:
            results = []
            for index, probe in enumerate(probes):
                if progress is not None:
                    progress(index, len(probes))
                try:
                    results.append(app_log.attach(_run_probe(target, probe, timeout)))
                except ConnectionError as exc:  # a server that cannot be reached (URL targets only)
                    if not results:
                        raise TargetError(str(exc)) from None
                    results.append(ProbeResult(probe, error=str(exc)))
    seen: set[str] = set()
    for warning in caught:
        text = f"the app warned: {warning.category.__name__}: {warning.message} ({warning.filename}:{warning.lineno})"
        if text not in seen and len(seen) < 5:
            seen.add(text)
            notes.append(text)
    if progress is not None:
        progress(len(probes), len(probes))
    return AuditReport(target, results, notes)


class _AppLog(logging.Handler):
    """What the app logs at ERROR while a probe runs (Flask's "Exception on /x", Django's traceback)
    is attached to that probe. Django's ``django.request`` (one line per 4xx) is kept off the terminal."""

    def __init__(self, target: Target) -> None:
        super().__init__(logging.ERROR)
        self.django = logging.getLogger("django.request") if target.framework == "django" else None
        self.records: list[logging.LogRecord] = []
        self.saved = True

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR and not record.name.startswith("statusguard") and len(self.records) < 100:
            self.records.append(record)

    def __enter__(self) -> _AppLog:
        logging.getLogger().addHandler(self)
        if self.django is not None:
            self.saved = self.django.propagate
            self.django.propagate = False
            self.django.addHandler(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        logging.getLogger().removeHandler(self)
        if self.django is not None:
            self.django.removeHandler(self)
            self.django.propagate = self.saved

    def attach(self, result: ProbeResult) -> ProbeResult:
        records, self.records = self.records, []
        if records and result.error is None and result.status >= 500:
            record = next((r for r in reversed(records) if r.exc_info), records[-1])
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f": {_describe_exception(record.exc_info[1])}"
            result.error = f"the app logged an error: {text[:300]}"
        return result


def _judge(target: Target, result: ProbeResult) -> ProbeResult:
    probe = result.probe
    allowed = probe.route.methods
    gateway = target.kind if target.kind in ("wsgi", "asgi") else None
    arguments: dict[str, Any] = {
        "method": probe.method, "request_headers": list(probe.headers), "allowed_methods": allowed,
        "gateway": gateway, "rules": target.rules,
    }
    status_arg: int | str = result.status_text if gateway == "wsgi" else result.status
    result.violations = _with_framework_hints(
        probe.route.hints, check(status_arg, result.headers, result.body, **arguments), status_arg, result, arguments
    )
    if result.violations:
        try:
            result.fixed = fix(status_arg, result.headers, result.body, **arguments, **target.fix_options)
        except Exception:
            result.fixed = fix(status_arg, result.headers, result.body, **arguments)
    return result


def _with_framework_hints(
    hints: str, violations: list[Violation], status: int | str, result: ProbeResult, arguments: Mapping[str, Any]
) -> list[Violation]:
    """Each violation's hint, followed by the framework's own remedy (statusguard.contrib's tables)."""
    if not violations or not hints:
        return violations
    try:
        import importlib

        module, names = {"flask": ("flask", ("FLASK_HINTS",)), "starlette": ("starlette", ("STARLETTE_HINTS",)),
                         "fastapi": ("starlette", ("FASTAPI_HINTS",)), "django": ("django", ("DJANGO_HINTS",)),
                         "drf": ("django", ("DRF_HINTS", "DJANGO_HINTS"))}.get(hints, ("", ()))
        tables_module = importlib.import_module(f"statusguard.contrib.{module}") if module else None
        tables = [getattr(tables_module, name) for name in names if hasattr(tables_module, name)]
        if not tables:
            return violations
        x = build_exchange(status, result.headers, result.body, method=arguments["method"],
                           request_headers=arguments["request_headers"], allowed_methods=arguments["allowed_methods"],
                           gateway=arguments["gateway"])
        out = []
        for violation in violations:
            extra: list[str] = []
            for table in tables:
                hint = table.get(violation.rule)
                text = hint(x, {}) if callable(hint) else hint
                if isinstance(text, str) and text and text not in extra and text not in violation.hint:
                    extra.append(text)
            out.append(violation._replace(hint=" ".join([violation.hint, *extra])) if extra else violation)
        return out
    except Exception:  # hints are a nicety: never let them break an audit
        return violations


# -- WSGI


def _environ(method: str, path: str, headers: Sequence[tuple[str, str]], host: str) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote(raw_path, encoding="latin-1"),
        "QUERY_STRING": query, "SERVER_NAME": host, "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": host, "HTTP_USER_AGENT": f"statusguard-audit/{__version__}",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(), "wsgi.multithread": True, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if method in UNSAFE_METHODS:
        environ["CONTENT_LENGTH"] = "0"
    for name, value in headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _run_probe(target: Target, probe: Probe, timeout: float) -> ProbeResult:
    result = ProbeResult(probe)
    try:
        if target.kind == "wsgi":
            _in_thread(lambda: _drive_wsgi(target.app, probe, target.host, result), timeout)
        else:
            _drive_url(target.base_url, probe, result, timeout)
    except TimeoutError:
        result.error = f"no complete response within {timeout:g} s (--timeout)"
        return result
    except ConnectionError as exc:
        if target.kind == "url":
            raise
        result.error = _describe_exception(exc)
        return result
    except Exception as exc:  # the app crashed on a probe: report it, go on with the others
        result.error = _describe_exception(exc)
        return result
    return _judge(target, result)


def _in_thread(work: Callable[[], None], timeout: float) -> None:
    """Run ``work`` in a daemon thread; a synchronous app that hangs cannot hang the audit."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="statusguard-audit-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError
    if failure:
        raise failure[0]


def _drive_wsgi(app: Any, probe: Probe, host: str, result: ProbeResult) -> None:
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []
    size = 0

    def take(chunk: bytes) -> bool:
        nonlocal size
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(bytes(chunk))
            return True
        return False

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, list(headers)
        def write(chunk: bytes) -> None:  # counted like the iterable's chunks
            take(chunk)

        return write

    environ = _environ(probe.method, probe.path, probe.headers, host)
    iterable = app(environ, start_response)
    try:
        for chunk in iterable:
            if not take(chunk):
                break  # beyond the cap: stop reading, as a client that went away
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    if "status" not in captured:
        raise RuntimeError("the app never called start_response")
    status_text = str(captured["status"])
    result.status_text = status_text
    result.status = int(status_text[:3]) if status_text[:3].isdigit() else 0
    result.headers = captured["headers"]
    result.body_size = size
    result.body = b"".join(chunks) if size <= MAX_BODY else None
    logged = environ["wsgi.errors"].getvalue() if isinstance(environ["wsgi.errors"], io.StringIO) else ""
    lines = [line.strip() for line in logged.splitlines() if line.strip()]
    if result.status >= 500 and lines:
        result.error = f"the app logged an error: {lines[-1][:300]}"  # Flask: the exception behind its 500


# -- ASGI


async def _asgi_session(
    target: Target, probes: Sequence[Probe], timeout: float, progress: Callable[[int, int], None] | None,
    notes: list[str], app_log: _AppLog,
) -> list[ProbeResult]:
    """One event loop for the whole audit, with the app's lifespan around the probes (as a server does)."""
    lifespan = _Lifespan(target.app, timeout)
    state = await lifespan.startup()
    if lifespan.failure:
        notes.append(lifespan.failure)
    results = []
    try:
        for index, probe in enumerate(probes):
            if progress is not None:
                progress(index, len(probes))
            result = ProbeResult(probe)
            try:
                await _drive_asgi(target.app, probe, target.host, result, timeout, state)
            except TimeoutError:
                result.error = f"no complete response within {timeout:g} s (--timeout)"
            except Exception as exc:
                result.error = _describe_exception(exc)
            results.append(app_log.attach(_judge(target, result) if result.status else result))
    finally:
        await lifespan.shutdown()
    return results


class _Lifespan:
    """The ASGI lifespan protocol, as uvicorn's "auto" mode runs it: an app that does not support it is fine."""

    def __init__(self, app: Any, timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        self.state: dict[str, Any] = {}
        self.failure: str | None = None
        self.task: asyncio.Task[Any] | None = None
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def startup(self) -> dict[str, Any]:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        self.task = asyncio.ensure_future(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self._answer()
        if message is not None and message.get("type") == "lifespan.startup.failed":
            self.failure = f"the app's lifespan startup failed: {message.get('message', '')}".rstrip(": ")
        return self.state

    async def _answer(self) -> dict[str, Any] | None:
        assert self.task is not None
        getter = asyncio.ensure_future(self.outbox.get())
        done, _ = await asyncio.wait({getter, self.task}, timeout=self.timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        getter.cancel()
        if self.task in done:
            self.task.exception()  # an app that refuses lifespan scopes (Django) raises: not a failure
            self.task = None
        else:
            self.failure = f"the app's lifespan startup did not finish within {self.timeout:g} s"
        return None

    async def shutdown(self) -> None:
        if self.task is not None and self.task.done():
            if not self.task.cancelled():
                self.task.exception()  # a startup that raised: reported as a note, retrieved here
            return
        if self.task is None:
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self._answer()
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


def _scope(method: str, path: str, headers: Sequence[tuple[str, str]], host: str) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": urllib.parse.unquote(raw_path),
        "raw_path": raw_path.encode("latin-1", "replace"), "query_string": query.encode("latin-1", "replace"),
        "root_path": "", "client": ("127.0.0.1", 50000), "server": (host, 80),
        "headers": [(b"host", host.encode("latin-1", "replace")),
                    (b"user-agent", f"statusguard-audit/{__version__}".encode())]
        + [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers],
        "state": {},
    }


async def _drive_asgi(
    app: Any, probe: Probe, host: str, result: ProbeResult, timeout: float, state: Mapping[str, Any]
) -> None:
    """Call the app with one request; fill ``result`` with what it sent. Raises when it sent no
    response (TimeoutError when it never completed one); an exception after a response (Starlette
    re-raises after sending its 500) is kept in ``result.error`` next to the response."""
    scope = _scope(probe.method, probe.path, probe.headers, host)
    scope["state"] = dict(state)
    start: dict[str, Any] = {}
    chunks: list[bytes] = []
    size = 0
    sent_request = False
    overflow = False
    finished = asyncio.Event()  # the response is complete, or we stopped reading it

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        nonlocal size, overflow
        if overflow:
            raise OSError("statusguard audit: stopped reading the body at the cap")  # as a server does (ASGI 2.4)
        if finished.is_set():
            return
        kind = message.get("type")
        if kind == "http.response.start":
            start.update(message)
        elif kind == "http.response.body":
            if not start:
                raise RuntimeError("the app sent http.response.body before http.response.start")
            body = bytes(message.get("body", b""))
            size += len(body)
            if size <= MAX_BODY:
                chunks.append(body)
            else:
                overflow = True
            if overflow or not message.get("more_body", False):
                finished.set()

    task = asyncio.ensure_future(app(scope, receive, send))
    waiter = asyncio.ensure_future(finished.wait())
    try:
        done, _ = await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            raise TimeoutError
        if not finished.is_set() and task in done:
            task.result()  # the app raised before its response was complete
            if start:
                raise RuntimeError("the app returned before its response body was complete")
        elif not overflow and not task.done():
            # The response is complete: give the app a moment to finish (background tasks).
            await asyncio.wait({task}, timeout=_GRACE)
        if finished.is_set() and not overflow and task.done() and not task.cancelled():
            failure = task.exception()
            if failure is not None:
                result.error = f"after sending its response, the app raised {_describe_exception(failure)}"
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        elif not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" at exit
    if not start:
        raise RuntimeError("the app returned without sending http.response.start")
    status = int(start["status"])
    from ..core.phrases import reason_phrase

    result.status = status
    result.status_text = f"{status} {reason_phrase(status)}"
    result.headers = [(bytes(n).decode("latin-1"), bytes(v).decode("latin-1")) for n, v in start.get("headers", [])]
    result.body_size = size
    result.body = b"".join(chunks) if size <= MAX_BODY else None


# -- a running server


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _drive_url(base: str, probe: Probe, result: ProbeResult, timeout: float) -> None:
    headers = {"User-Agent": f"statusguard-audit/{__version__}", **dict(probe.headers)}
    data = b"" if probe.method in UNSAFE_METHODS else None
    request = urllib.request.Request(base + probe.path, data=data, method=probe.method, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        response: Any = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        response = error
    except urllib.error.URLError as error:
        raise ConnectionError(f"cannot reach {base}: {error.reason}") from None
    with response:
        status = int(getattr(response, "status", None) or response.code)
        reason = str(getattr(response, "reason", "") or "")
        result.headers = list(response.headers.items())
        body = response.read(MAX_BODY + 1) if probe.method != "HEAD" else b""
    result.status = status
    result.status_text = f"{status} {reason}".rstrip()
    result.body_size = len(body)
    result.body = body if len(body) <= MAX_BODY else None
