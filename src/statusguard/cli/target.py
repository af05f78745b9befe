"""What ``statusguard audit`` audits: an app imported from ``module:attribute`` (or a Django
project's settings, or the bundled demo), or a running server, and the routes found in it.

Which routes an app has and which methods each serves comes from the framework's integration
(``statusguard.contrib.<framework>``: Werkzeug's url_map, every Starlette route at the path, the
resolved Django view), asked through ``contrib._integration`` so that only the integration of a
framework the app really uses is imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import inspect
import os
import sys
import traceback
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..contrib import _integration
from ..core.checker import check
from ..core.options import FixOptions
from . import pathsamples
from .probes import Route, asgi_scope, wsgi_environ

__all__ = ["Target", "TargetError", "describe_exception", "load_target", "middleware_off"]

_MAX_DEPTH = 32


class TargetError(Exception):
    """The target cannot be loaded or reached: a usage error (exit status 2)."""


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
    quiet_loggers: tuple[str, ...] = ()  # the framework's per-request loggers, kept off the terminal


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

        routes = [Route(template, pathsamples.fill_simple(template, params), frozenset(methods) | _head(methods))
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
        raise TargetError(f"cannot import {module_name!r}: {describe_exception(exc)}") from exc
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
            raise TargetError(f"the factory {module_name}:{attr}() raised {describe_exception(exc)}") from exc
    return app


def describe_exception(exc: BaseException) -> str:
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



def _load_django_settings(settings_module: str, params: Mapping[str, str]) -> Target:
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, "")
    try:
        import django  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
        from django.conf import settings  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
    except ImportError as exc:
        raise TargetError(f"--django-settings needs Django installed: {exc}") from exc
    from ..contrib import django as django_integration

    try:
        handler = django_integration.project_handler(settings_module)
    except django_integration.AlreadyConfigured as exc:
        raise TargetError(str(exc)) from None
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise TargetError(f"cannot set up Django with {settings_module!r}: {describe_exception(exc)}") from exc
    target = Target(f"Django project ({settings_module})", "wsgi", handler, framework="django")
    _discover(target, params)
    return target


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


class _Survey:
    """What the audit lends a framework's route discovery (``_integration.RouteSurvey``)."""

    def __init__(self, target: Target, params: Mapping[str, str]) -> None:
        self.target = target
        self.params = params
        self.host = target.host

    def note(self, text: str) -> None:
        self.target.notes.append(text)

    def fill_angle(self, template: str, converters: Mapping[str, Any]) -> str:
        return pathsamples.fill_angle(template, converters, self.params)

    def fill_braces(self, template: str, convertors: Mapping[str, Any], annotations: Mapping[str, Any]) -> str:
        return pathsamples.fill_braces(template, convertors, annotations, self.params)

    def fill_regex(self, pattern: str) -> tuple[str, str]:
        return pathsamples.fill_regex(pattern, self.params)

    def environ(self, method: str, path: str) -> dict[str, Any]:
        return wsgi_environ(method, path, (), self.host)

    def scope(self, method: str, path: str) -> dict[str, Any]:
        return asgi_scope(method, path, (), self.host)


def _discover(target: Target, params: Mapping[str, str]) -> None:
    for candidate in _unwrap(target.app):
        integration = _integration.integration_for(candidate)
        if integration is None:
            continue
        discovery = integration.discover(candidate, _Survey(target, params))
        target.framework = discovery.framework
        target.quiet_loggers = discovery.quiet_loggers
        if discovery.host is not None:
            target.host = discovery.host
        for found in discovery.routes:
            _add_route(target, Route(found.template, found.path, found.methods, found.hints))
        target.fix_options, target.rules = _installed_configuration(target, integration, candidate)
        break
    else:
        target.fix_options, target.rules = _installed_configuration(target, None, None)
    if not target.routes:
        target.routes.append(Route("/", "/", None))
        target.notes.append("no router found: only / is probed, and no unsafe or unserved method is sent")


def _add_route(target: Target, route: Route) -> None:
    """Routes sharing a path are one resource (the router's answer already covers all of them)."""
    if any(existing.path == route.path for existing in target.routes):
        return
    target.routes.append(route)


def _installed_configuration(
    target: Target, integration: _integration.FrameworkModule | None, app: object
) -> tuple[dict[str, Any], dict[str, str] | None]:
    """The fix options and rule selectors the app gives statusguard, so that "after statusguard's
    fixes" shows what its own configuration would send (a challenge, a Retry-After...)."""
    names = tuple(FixOptions.__dataclass_fields__)
    options: dict[str, Any] = {}
    rules: Any = None
    try:
        if integration is not None:
            options, rules = integration.installed_configuration(app)
        if not options:
            for candidate in _unwrap(target.app):  # a WSGIMiddleware / ASGIMiddleware the target is wrapped in
                fixes = getattr(getattr(candidate, "policy", None), "options", None)
                if fixes is not None and dataclasses.is_dataclass(fixes):
                    options = {name: getattr(fixes, name) for name in names if hasattr(fixes, name)}
                    break
    except Exception:
        return {}, None
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
