"""Flask integration: ``StatusGuard(app)``, one line, with the app's url_map wired in.

    from .flask import StatusGuard

    app = Flask(__name__)
    StatusGuard(app)                # or: guard = StatusGuard(); guard.init_app(app)

Configuration comes from keyword arguments (which win) and then ``app.config``:

- ``STATUSGUARD_MODE``: off, log, fix or strict. Without it (and without ``$STATUSGUARD_MODE``) the
  mode follows the app: strict while ``app.debug`` or ``app.testing`` is on, fix otherwise, decided
  on each request, so a test fixture that sets ``TESTING`` after the app was built still gets
  strict mode;
- ``STATUSGUARD_RULES``: ``{selector: action}``, as for ``WSGIMiddleware``;
- ``STATUSGUARD_<OPTION>`` for each fix option (``STATUSGUARD_WWW_AUTHENTICATE``,
  ``STATUSGUARD_RETRY_AFTER``, ...), plus ``STATUSGUARD_LOG_INTERVAL`` and ``STATUSGUARD_ON_VIOLATION``.

The extension wraps ``app.wsgi_app`` in :class:`statusguard.WSGIMiddleware` with
``allowed_methods`` taken from the url_map (what Werkzeug's router would allow at the path: HEAD
where a rule has GET, as Werkzeug's ``Rule`` adds it, and OPTIONS where Flask's
``provide_automatic_options`` added it), and with hints that speak Flask (``abort(401,
www_authenticate=...)``, ``abort(405, valid_methods=...)``).

Everything statusguard knows of Flask and Werkzeug lives here: the router reader (``methods_at``,
wrapped for the middleware by ``allowed_methods``), the hints (``FLASK_HINTS``), the url_map
discovery of ``statusguard audit`` (``discover``, ``installed_configuration``) and the pytest
plugin's hook into Flask's test client (``patch_test_client``). The CLI and the plugin find it
through ``_integration``.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigurationError
from ..core.model import Exchange
from ..core.options import FixOptions
from ..core.policy import ENV_MODE, MODES
from ..wsgi import WSGIMiddleware
from . import _integration

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

__all__ = ["StatusGuard", "allowed_methods", "methods_at"]

_FIX_OPTIONS = tuple(FixOptions.__dataclass_fields__)
_OPTIONS = ("mode", "rules", "on_violation", "log_interval", "allowed_methods", *_FIX_OPTIONS)
_EXTENSION_KEY = "statusguard"


def methods_at(app: Flask, environ: WSGIEnvironment) -> frozenset[str] | None:
    """The methods ``app``'s url_map answers at the path of ``environ``, or None.

    It binds the url_map the way Flask does for the request (``app.create_url_adapter``, so that
    SERVER_NAME and subdomain/host matching apply) and asks Werkzeug which methods would match
    (``MapAdapter.allowed_methods``: the union of the methods of every rule at the path). That is
    what the app answers, with nothing to add: a ``Rule`` with GET holds HEAD (Werkzeug serves it
    with the GET view), and a rule holds OPTIONS exactly when Flask answers it, automatically
    (``provide_automatic_options``, on unless the view or ``PROVIDE_AUTOMATIC_OPTIONS`` turns it
    off) or through the view. None when no rule matches the path (another app may serve it: no guess).
    """
    try:
        request = app.request_class(environ, populate_request=False, shallow=True)
        adapter = app.create_url_adapter(request)
        found = frozenset(str(m).upper() for m in adapter.allowed_methods()) if adapter is not None else None
    except Exception:  # an untrusted Host, a broken environ: no router knowledge, no guess
        return None
    return found or None


def allowed_methods(app: Flask) -> Callable[[WSGIEnvironment], Iterable[str] | None]:
    """A callable(environ) for ``WSGIMiddleware(allowed_methods=...)``: ``methods_at(app, environ)``."""

    def methods(environ: WSGIEnvironment) -> Iterable[str] | None:
        return methods_at(app, environ)

    return methods


# =============================================================================================
# Hints in the framework's own words
# =============================================================================================


def _flask_429(x: Exchange, request_facts: _integration.Facts) -> str | None:
    text = (
        "Flask: a hand-made 429 can carry it: abort(make_response(body, 429, "
        '{"Cache-Control": "no-store"})).'
    )
    if _integration.loaded("flask_limiter"):
        text += (
            " flask-limiter: register @app.errorhandler(429) returning the response with "
            '"Cache-Control: no-store", and set RATELIMIT_HEADERS_ENABLED = True so that it sends Retry-After.'
        )
    return text


FLASK_HINTS: _integration.HintTable = {
    "401-www-authenticate": (
        'Flask: abort(401, www_authenticate=WWWAuthenticate("Bearer", {"realm": "api"})) '
        "(werkzeug.datastructures), or set STATUSGUARD_WWW_AUTHENTICATE to have statusguard add the challenge."
    ),
    "405-allow": (
        'Flask: abort(405, valid_methods=["GET", "HEAD"]) sends Allow (the router\'s own 405 does already); '
        "statusguard fills it in from app.url_map."
    ),
    "405-allow-coherent": (
        "Flask: build valid_methods from the route (app.url_map knows it), without the refused method."
    ),
    "allow-get-implies-head": (
        "Flask: list HEAD next to GET in valid_methods=[...]; Werkzeug serves HEAD for GET rules, so "
        "a route's own 405 lists it already."
    ),
    "407-proxy-authenticate": (
        "Flask runs on WSGI, which cannot send Proxy-Authenticate (hop-by-hop): an origin app answers "
        "abort(401, www_authenticate=...)."
    ),
    "416-content-range": (
        "Flask: abort(416, length=<current size>) sends Content-Range: bytes */<size>; send_file() answers "
        "ranges correctly by itself."
    ),
    "426-upgrade-field": (
        "Flask runs on WSGI, which cannot send Upgrade and Connection (hop-by-hop): advertise the "
        "protocol another way (e.g. Alt-Svc) or serve the route from an ASGI app."
    ),
    "429-not-storable": _flask_429,
    "429-explain": "Flask: abort(429, description=\"...\") renders an explanation.",
    "4xx-explain": 'Flask: abort(code, description="...") renders an explanation; return "", code sends none.',
    "5xx-explain": 'Flask: abort(code, description="...") renders an explanation; return "", code sends none.',
    "204-no-content": 'Flask: return "", 204 (not jsonify(...), 204).',
}


def _default_mode(app: Flask) -> str:
    return "strict" if app.debug or app.testing else "fix"


class _GuardedApp:
    """What ``app.wsgi_app`` becomes: the app's previous wsgi_app behind a WSGIMiddleware.

    When the mode is not configured, it follows ``app.debug``/``app.testing`` per request; the
    middleware for each of the two modes is built once (configuration was validated at init_app).
    """

    def __init__(self, app: Flask, wrapped: WSGIApplication, settings: dict[str, Any], fixed_mode: bool) -> None:
        self.app = app
        self.wrapped = wrapped
        self.settings = settings
        self.fixed_mode = fixed_mode
        self._lock = threading.Lock()
        self._by_mode: dict[str | None, WSGIMiddleware] = {}
        self.middleware = self._build(settings["mode"] if fixed_mode else _default_mode(app))

    def _build(self, mode: str | None) -> WSGIMiddleware:
        settings = dict(self.settings)
        settings["mode"] = mode
        middleware = WSGIMiddleware(self.wrapped, **settings)
        _integration.install(middleware.policy, lambda: (FLASK_HINTS,))
        self._by_mode[mode] = middleware
        return middleware

    def current(self) -> WSGIMiddleware:
        """The middleware for this request's mode."""
        if self.fixed_mode:
            return self.middleware
        mode = _default_mode(self.app)
        found = self._by_mode.get(mode)
        if found is None:
            with self._lock:
                found = self._by_mode.get(mode) or self._build(mode)
        return found

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.current()(environ, start_response)


class StatusGuard:
    """The Flask extension: ``StatusGuard(app, **options)`` or ``StatusGuard(**options).init_app(app)``.

    ``options`` are ``mode``, ``rules``, ``on_violation``, ``log_interval``, ``allowed_methods``
    (a callable(environ) replacing the url_map lookup) and the fix options; each overrides the
    matching ``STATUSGUARD_*`` config key.
    """

    def __init__(self, app: Flask | None = None, **options: Any) -> None:
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise ConfigurationError(
                f"StatusGuard() got unknown option(s) {', '.join(unknown)}; valid options: {', '.join(_OPTIONS)}"
            )
        self.options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Wrap ``app.wsgi_app``; validates the configuration now, so that a typo fails at start-up."""
        if _EXTENSION_KEY in app.extensions:
            raise ConfigurationError("statusguard is already installed on this app (StatusGuard(app) called twice?)")
        settings = self._settings(app)
        mode = settings["mode"]
        fixed_mode = mode is not None or bool(os.environ.get(ENV_MODE, "").strip())
        guarded = _GuardedApp(app, app.wsgi_app, settings, fixed_mode)
        app.wsgi_app = guarded  # type: ignore[method-assign]
        app.extensions[_EXTENSION_KEY] = guarded

    def _settings(self, app: Flask) -> dict[str, Any]:
        config: Mapping[str, Any] = app.config
        settings: dict[str, Any] = {}
        for name in _OPTIONS:
            key = f"STATUSGUARD_{name.upper()}"
            if name in self.options:
                settings[name] = self.options[name]
            elif key in config:
                settings[name] = config[key]
        mode = settings.get("mode")
        if mode is not None and (not isinstance(mode, str) or mode.lower() not in MODES):
            raise ConfigurationError(
                f"STATUSGUARD_MODE={mode!r} is not a statusguard mode; valid modes: {', '.join(MODES)}"
            )
        settings["mode"] = mode.lower() if isinstance(mode, str) else None
        if settings.get("allowed_methods") is None:
            settings["allowed_methods"] = allowed_methods(app)
        return settings

    @staticmethod
    def middleware(app: Flask) -> WSGIMiddleware:
        """The WSGIMiddleware serving ``app`` now (for its ``policy`` and ``reporter``)."""
        guarded = app.extensions.get(_EXTENSION_KEY)
        if not isinstance(guarded, _GuardedApp):
            raise LookupError("statusguard is not installed on this app: call StatusGuard(app) first")
        return guarded.current()


# =============================================================================================
# statusguard audit: the routes of the url_map, and the configuration the app gives statusguard
# =============================================================================================


def recognizes(app: object) -> bool:
    return hasattr(app, "url_map") and hasattr(app, "wsgi_app")


def discover(app: Flask, survey: _integration.RouteSurvey) -> _integration.Discovery:
    """Every rule of the url_map with a sample path, and the methods the router serves there."""
    found = _integration.Discovery("flask")
    router = allowed_methods(app)
    rules_by_path: dict[str, set[str]] = {}
    pending: list[tuple[str, str]] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or getattr(rule, "websocket", False):
            continue
        if getattr(rule, "host", None) or getattr(rule, "subdomain", None):
            survey.note(f"skipped {rule.rule}: host or subdomain rules are not probed")
            continue
        try:
            path = survey.fill_angle(str(rule.rule), getattr(rule, "_converters", {}) or {})
        except _integration.UnfillableParameter as missing:
            survey.note(f"skipped {rule.rule}: no sample value for <{missing.name}> "
                        f"(give one with --param {missing.name}=VALUE)")
            continue
        rules_by_path.setdefault(path, set()).update(rule.methods or ())
        pending.append((rule.rule, path))
    for template, path in pending:
        served = router(survey.environ("GET", path))
        methods = frozenset(served) if served is not None else None
        if methods is None and rules_by_path.get(path):
            methods = frozenset(rules_by_path[path])
        found.routes.append(_integration.FoundRoute(template, path, methods, "flask"))
    return found


def installed_configuration(app: Flask) -> tuple[dict[str, Any], object]:
    """The fix options and rule selectors from ``app.config`` and an installed ``StatusGuard``."""
    config: Mapping[str, Any] = app.config
    options = {name: config[f"STATUSGUARD_{name.upper()}"] for name in _FIX_OPTIONS
               if f"STATUSGUARD_{name.upper()}" in config}
    rules = config.get("STATUSGUARD_RULES")
    installed = getattr(app, "extensions", {}).get(_EXTENSION_KEY)
    settings = getattr(installed, "settings", None)
    if isinstance(settings, Mapping):
        options.update({k: v for k, v in settings.items() if k in _FIX_OPTIONS and v is not None})
        rules = settings.get("rules", rules)
    return options, rules


def hint_tables(hints: str) -> tuple[_integration.HintTable, ...]:
    return (FLASK_HINTS,) if hints == "flask" else ()


# =============================================================================================
# The pytest plugin: Flask's test client calls the app through werkzeug.test.run_wsgi_app
# =============================================================================================


def patch_test_client(module: ModuleType, guard: _integration.PluginGuard) -> str | None:
    original = getattr(module, "run_wsgi_app", None)
    if original is None or guard.is_ours(original):
        return None

    @functools.wraps(original)
    def run_wsgi_app(app: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            checked = app if guard.already_guarded(app) else guard.wrap_wsgi(app)
        except Exception as exc:
            guard.internal_error("werkzeug.test.run_wsgi_app", exc)
            checked = app
        return original(checked, *args, **kwargs)

    guard.replace(module, "run_wsgi_app", run_wsgi_app)
    return "werkzeug/Flask test client"
