"""Django integration: one line in ``settings.MIDDLEWARE``.

    MIDDLEWARE = [
        "statusguard.contrib.django.StatusGuardMiddleware",   # first: it sees the final response
        "django.middleware.security.SecurityMiddleware",
        ...
    ]
    STATUSGUARD = {"www_authenticate": 'Bearer realm="api"'}   # optional

``STATUSGUARD`` takes ``mode``, ``rules``, ``on_violation`` (a callable or its dotted path),
``log_interval`` and the fix options (``www_authenticate``, ``retry_after``...). Without a mode
(and without ``$STATUSGUARD_MODE``) it is strict while ``settings.DEBUG`` is on, fix otherwise.
Mode ``off`` removes the middleware (``MiddlewareNotUsed``).

Unlike the WSGI and ASGI adapters, this middleware checks the ``HttpResponse`` object itself, before
the WSGI/ASGI handler (or the test client) turns it into bytes: its status, its headers (cookies
rendered as Set-Cookie lines), and for a non-streaming response its content, which is still there
on a HEAD or a 204 (Django leaves dropping it to the server). Fixes are applied to the response
object (status, headers, content), so the middleware works the same under WSGI and ASGI, sync and
async. The methods for ``Allow`` come from the resolved view: a class-based view's handlers (HEAD
with GET, as ``View.setup`` does), ``require_http_methods`` and its shortcuts, DRF's ``APIView`` and
a viewset route's actions. Violations are stored on ``request.META["statusguard.violations"]``.

Everything statusguard knows of Django and DRF lives here, once: the router reader
(``view_methods``), how a Django exchange is read (``inspect_response``, for the middleware and
for the pytest plugin's hook into the test client, ``patch_test_client``), the URL-pattern
discovery of ``statusguard audit`` (``project_handler``, ``discover``, ``installed_configuration``)
and the hints (``DJANGO_HINTS``, ``DRF_HINTS``). The CLI and the plugin import this module only
once Django is imported (it imports asgiref, which comes with Django).
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import ModuleType
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from ..core.errors import ConfigurationError, StatusViolationError
from ..core.model import Exchange, Violation
from ..core.options import FixOptions
from ..core.policy import Policy
from ..runtime.report import Reporter
from ..runtime.session import Inspection
from ..runtime.verdict import Decision
from . import _integration

__all__ = ["StatusGuardMiddleware", "view_methods"]

META_KEY = "statusguard.violations"
_SETTING = "STATUSGUARD"
_KEYS = ("mode", "rules", "on_violation", "log_interval", *FixOptions.__dataclass_fields__)
_HTTP_DECORATORS_FILE: str | None = None
_MAX_DEPTH = 32  # nested includes followed by the audit


# =============================================================================================
# Router knowledge: the methods a resolved view serves
# =============================================================================================


def _required_methods(func: object) -> frozenset[str] | None:
    """The list given to ``require_http_methods`` when ``func`` is the function it returned."""
    global _HTTP_DECORATORS_FILE
    code = getattr(func, "__code__", None)
    if code is None or "request_method_list" not in code.co_freevars:
        return None
    if _HTTP_DECORATORS_FILE is None:
        from django.views.decorators import http  # type: ignore[import-untyped,unused-ignore]

        _HTTP_DECORATORS_FILE = http.__file__
    if code.co_filename != _HTTP_DECORATORS_FILE:
        return None
    closure = getattr(func, "__closure__", None) or ()
    cells = dict(zip(code.co_freevars, closure, strict=False))
    try:
        listed = cells["request_method_list"].cell_contents
    except (KeyError, ValueError):  # ValueError: an empty cell
        return None
    if isinstance(listed, str) or not isinstance(listed, Iterable):
        return None
    # ``request.method not in request_method_list``, and Django upper-cases request.method: a
    # method written in lower case is never answered, so it is not reported either.
    return frozenset(method for method in listed if isinstance(method, str) and method == method.upper())


def _class_methods(func: object) -> frozenset[str] | None:
    """The methods of a class-based view function (Django ``View``, DRF ``APIView`` or viewset route)."""
    cls = getattr(func, "view_class", None) or getattr(func, "cls", None)
    if not isinstance(cls, type):
        return None
    initkwargs = getattr(func, "view_initkwargs", None) or getattr(func, "initkwargs", None) or {}
    names = initkwargs.get("http_method_names", getattr(cls, "http_method_names", None))
    if not isinstance(names, Iterable) or isinstance(names, str):
        return None
    actions = getattr(func, "actions", None)
    actions = actions if isinstance(actions, Mapping) else {}

    def handles(name: str) -> bool:
        return name in actions or hasattr(cls, name)

    served = set()
    for name in names:
        if not isinstance(name, str):
            continue
        # View.setup (and ViewSetMixin.as_view) serve HEAD with the GET handler when there is no head().
        if handles(name) or (name == "head" and handles("get")):
            served.add(name.upper())
    return frozenset(served)


def view_methods(view: object) -> frozenset[str] | None:
    """The methods ``view`` (a URL pattern's callback) really answers, or None when it cannot be known.

    Follows the ``__wrapped__`` chain through decorators: each ``require_http_methods`` layer
    (``require_GET``, ``require_safe``...) narrows the set to exactly its list, read from the
    decorator's closure; a class-based view at the bottom gives what ``View.dispatch`` serves: the
    names in ``http_method_names`` that have a handler, HEAD with GET when there is no ``head``
    (``View.setup``), OPTIONS from ``View.options``. DRF's ``APIView`` is such a view;
    ``@api_view([...])`` builds one whose ``http_method_names`` are its list plus OPTIONS (so no HEAD
    unless listed); a viewset route serves its actions, HEAD with a ``get`` action. A plain function
    view with no method decorator answers whatever it likes: None. A Django URL resolves to one view,
    so the view's methods are the path's.
    """
    result: frozenset[str] | None = None
    seen: set[int] = set()
    current: object = view
    while current is not None and id(current) not in seen and len(seen) < 64:
        seen.add(id(current))
        listed = _required_methods(current)
        if listed is not None:
            result = listed if result is None else result & listed
        served = _class_methods(current)
        if served is not None:
            result = served if result is None else result & served
            break
        current = getattr(current, "__wrapped__", None)
    return result


def _drf_view_class(view: object) -> type | None:
    """The DRF APIView subclass behind ``view``, when DRF is in use and it is one."""
    views = sys.modules.get("rest_framework.views")
    api_view = getattr(views, "APIView", None) if views is not None else None
    if not isinstance(api_view, type):
        return None
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    return cls if isinstance(cls, type) and issubclass(cls, api_view) else None


# =============================================================================================
# Hints in the framework's own words
# =============================================================================================


def _django_4xx(x: Exchange, request_facts: _integration.Facts) -> str | None:
    if x.status == 405:
        return (
            'Django: HttpResponseNotAllowed(["GET"]) is empty: pass content, e.g. '
            'HttpResponseNotAllowed(["GET"], "use GET").'
        )
    return (
        'Django: HttpResponseBadRequest() and its siblings are empty: pass the explanation as content, or raise '
        "BadRequest / PermissionDenied / Http404 and let Django render its error page."
    )


_DJANGO_RATELIMIT = (
    "django-ratelimit blocks with 403 by default (Ratelimited is a PermissionDenied): answer 429 instead "
    "(RATELIMIT_VIEW pointing at a view that returns 429 with Cache-Control: no-store)."
)

DJANGO_HINTS: _integration.HintTable = {
    "401-www-authenticate": (
        'Django: set response["WWW-Authenticate"] = \'Bearer realm="api"\' on the HttpResponse(status=401), '
        'or STATUSGUARD = {"www_authenticate": ...} to have statusguard add it.'
    ),
    "405-allow": (
        'Django: return HttpResponseNotAllowed(["GET", "HEAD"]) (it sets Allow), or use require_http_methods '
        "or a class-based view, which do."
    ),
    "allow-get-implies-head": (
        'Django: list HEAD with GET, e.g. HttpResponseNotAllowed(["GET", "HEAD"]); require_GET refuses HEAD: '
        'use require_safe or require_http_methods(["GET", "HEAD", ...]).'
    ),
    "4xx-explain": _django_4xx,
    "429-not-storable": (
        'Django: response["Cache-Control"] = "no-store" (or decorate the view with never_cache). '
        + _DJANGO_RATELIMIT
    ),
    "401-vs-403": _DJANGO_RATELIMIT,
    "204-no-content": "Django: return HttpResponse(status=204) with no content.",
}


def _drf_403(x: Exchange, request_facts: _integration.Facts) -> str | None:
    if request_facts.get("drf_auth_downgrade"):
        return (
            "DRF turned this 401 into a 403 because the view's first authentication class has no "
            "authenticate_header() (SessionAuthentication has none): put BasicAuthentication or "
            "TokenAuthentication first, or give the class an authenticate_header()."
        )
    if request_facts.get("drf_no_authenticator"):
        return (
            "DRF answers 403 instead of 401 here because the view has no authentication class "
            "(authentication_classes is empty), so an anonymous request can never be challenged: add one "
            "whose authenticate_header() names a scheme (BasicAuthentication, TokenAuthentication)."
        )
    return (
        "DRF answers 403 instead of 401 whenever the view has no authentication class or the first one "
        "has no authenticate_header() (SessionAuthentication has none)."
    )


DRF_HINTS: _integration.HintTable = {
    "401-www-authenticate": (
        "DRF: the first class in authentication_classes must define authenticate_header(); DRF copies its "
        "value into WWW-Authenticate."
    ),
    "401-vs-403": _drf_403,
    "429-not-storable": (
        "DRF throttling sends Retry-After but no Cache-Control: add \"Cache-Control: no-store\" to "
        "exceptions.Throttled responses in a custom REST_FRAMEWORK['EXCEPTION_HANDLER']."
    ),
    "allow-get-implies-head": (
        'DRF: @api_view(["GET"]) refuses HEAD; write @api_view(["GET", "HEAD"]).'
    ),
}


# =============================================================================================
# The middleware
# =============================================================================================


def _settings() -> tuple[dict[str, Any], bool]:
    from django.conf import settings  # type: ignore[import-untyped,unused-ignore]

    config = getattr(settings, _SETTING, None) or {}
    if not isinstance(config, Mapping):
        raise ConfigurationError(f"settings.{_SETTING}={config!r}: expected a dict, e.g. {{'mode': 'fix'}}")
    unknown = sorted(set(config) - set(_KEYS))
    if unknown:
        raise ConfigurationError(
            f"settings.{_SETTING} has unknown key(s) {', '.join(map(repr, unknown))}; valid keys: {', '.join(_KEYS)}"
        )
    return dict(config), bool(settings.DEBUG)


def _on_violation(value: object) -> Callable[..., object] | None:
    if value is None:
        return None
    if isinstance(value, str):
        from django.utils.module_loading import import_string  # type: ignore[import-untyped,unused-ignore]

        try:
            value = import_string(value)
        except ImportError as exc:
            raise ConfigurationError(f"settings.{_SETTING}['on_violation']={value!r}: {exc}") from None
    if not callable(value):
        raise ConfigurationError(
            f"settings.{_SETTING}['on_violation']={value!r}: expected a callable(violation, context) or its dotted path"
        )
    return value


class StatusGuardMiddleware:
    """Check (and per the policy log, fix or raise on) every ``HttpResponse`` the project returns."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from django.core.exceptions import MiddlewareNotUsed  # type: ignore[import-untyped,unused-ignore]

        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
        config, debug = _settings()
        fix_options = {key: config[key] for key in FixOptions.__dataclass_fields__ if key in config}
        self.policy = Policy(
            config.get("mode"), config.get("rules"), default_mode="strict" if debug else "fix", **fix_options
        )
        if self.policy.mode == "off":
            raise MiddlewareNotUsed("statusguard: mode is off")
        interval = config.get("log_interval", 60.0)
        if isinstance(interval, bool) or not isinstance(interval, int | float):
            raise ConfigurationError(f"settings.{_SETTING}['log_interval']={interval!r}: expected seconds, e.g. 60")
        self.reporter = Reporter(interval=float(interval), on_violation=_on_violation(config.get("on_violation")))
        self.strict = self.policy.mode == "strict"
        _integration.install(self.policy, self._hint_tables)

    @staticmethod
    def _hint_tables() -> tuple[_integration.HintTable, ...]:
        if _integration.facts.get().get("drf"):
            return (DRF_HINTS, DJANGO_HINTS)
        return (DJANGO_HINTS,)

    def __call__(self, request: Any) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        response = self.get_response(request)
        return self.process(request, response)

    async def __acall__(self, request: Any) -> Any:
        response = await self.get_response(request)
        return self.process(request, response)

    # -- inspection ---------------------------------------------------------------------------
    def process(self, request: Any, response: Any) -> Any:
        """Check ``response`` (the answer to ``request``); fix it in place; raise in strict mode."""
        try:
            view = self._view(request)
            facts = self._facts(view, response)
            token = _integration.facts.set(facts)
            try:
                self._inspect(request, response, view)
            finally:
                _integration.facts.reset(token)
        except StatusViolationError:
            raise
        except Exception as exc:
            if self.strict:
                raise
            self.reporter.internal_error("StatusGuardMiddleware", exc)
        return response

    @staticmethod
    def _view(request: Any) -> object:
        """The view the URL resolved to; None when resolution failed or a middleware answered first."""
        match = getattr(request, "resolver_match", None)
        return getattr(match, "func", None)

    @staticmethod
    def _facts(view: object, response: Any) -> dict[str, object]:
        if view is None or _drf_view_class(view) is None:
            return {}
        facts: dict[str, object] = {"drf": True}
        if getattr(response, "status_code", None) == 403 and getattr(response, "exception", False):
            data = getattr(response, "data", None)
            detail = data.get("detail") if isinstance(data, Mapping) else None
            context = getattr(response, "renderer_context", None)
            drf_request = context.get("request") if isinstance(context, Mapping) else None
            # NotAuthenticated / AuthenticationFailed that DRF downgraded (APIView.handle_exception).
            if getattr(detail, "code", None) in ("not_authenticated", "authentication_failed"):
                facts["drf_auth_downgrade"] = True
            elif drf_request is not None and not getattr(drf_request, "authenticators", True):
                # APIView.permission_denied raises PermissionDenied, never NotAuthenticated, without one.
                facts["drf_no_authenticator"] = True
        return facts

    def _inspect(self, request: Any, response: Any, view: object) -> None:
        meta = request.META
        violations = meta.get(META_KEY)
        if not isinstance(violations, list):
            violations = []
            meta[META_KEY] = violations
        decision = inspect_response(
            self.policy, self.reporter, request, response,
            allowed_methods=(lambda: view_methods(view)) if view is not None else None,
            violations=violations,
        )
        if decision.changed:
            _apply(response, decision)


# =============================================================================================
# A Django exchange as statusguard reads it (the middleware and the pytest plugin alike)
# =============================================================================================


def inspect_response(
    policy: Policy,
    reporter: Reporter,
    request: Any,
    response: Any,
    *,
    allowed_methods: Callable[[], Iterable[str] | None] | None = None,
    violations: list[Violation] | None = None,
) -> Decision:
    """Check ``response`` (the answer to ``request``) as Django's WSGI or ASGI handler will send it."""
    meta = request.META
    asgi = hasattr(request, "scope")
    scope = request.scope if asgi else {}
    method = str(request.method or "GET")  # Django upper-cases it already
    inspection = Inspection(
        policy,
        reporter,
        method=method,
        path=request.path,
        request_headers=_request_headers(request),
        http_version=str(scope.get("http_version") or meta.get("SERVER_PROTOCOL", "1.1")).removeprefix("HTTP/"),
        gateway="asgi" if asgi else "wsgi",
        allowed_methods=allowed_methods,
        violations=violations,
    )
    status, headers = _response_head(request, response)
    inspection.begin(status, headers)
    if response.streaming or getattr(response, "is_rendered", True) is False:
        # A stream is never consumed here; an unrendered TemplateResponse (one a middleware returned
        # before the handler could render it) is not rendered by us either: its content is unknown.
        return inspection.decide(None, None)
    return inspection.decide(bytes(response.content), None, complete=True)


def _response_head(request: Any, response: Any) -> tuple[int | str, list[tuple[str, str]]]:
    """The status line and the header lines the handler will send (cookies rendered as Set-Cookie)."""
    status: int | str = response.status_code
    if not hasattr(request, "scope"):
        status = f"{response.status_code} {response.reason_phrase}"  # what Django's WSGIHandler sends
    headers = [
        *response.items(),
        *(("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values()),
    ]
    return status, headers


def _request_headers(request: Any) -> list[tuple[str, str]]:
    # Django's test clients send "Cookie:" with an empty value when they hold no cookie; an empty
    # Cookie carries no cookie-pair (RFC 6265 §5.4) and must not count as credentials (401-vs-403).
    return [
        (name, value) for name, value in request.headers.items() if value or name.lower() != "cookie"
    ]


def _apply(response: Any, decision: Decision) -> None:
    """Make ``response`` the response the decision says to send."""
    if decision.status != response.status_code:
        response.status_code = decision.status
        response.reason_phrase = None  # the new status's own phrase
    elif any(v.rule == "wsgi-status-string" for v in decision.violations):
        response.reason_phrase = None  # the app's phrase was not printable: Django's registered one
    merged: dict[str, tuple[str, str]] = {}
    cookies = []
    for name, value in decision.headers:
        key = name.lower()
        if key == "set-cookie":
            cookies.append(value)
        elif key in merged:  # Django keeps one line per field: a list field joins (RFC 9110 §5.3)
            merged[key] = (merged[key][0], f"{merged[key][1]}, {value}")
        else:
            merged[key] = (name, value)
    for name in list(response.headers):
        if name.lower() not in merged:
            del response.headers[name]
    for name, value in merged.values():
        if response.headers.get(name) != value:
            response.headers[name] = value
    if not cookies and response.cookies:
        response.cookies.clear()
    if decision.drop_body:
        _set_body(response, b"")
    elif decision.replace_body is not None:
        _set_body(response, decision.replace_body)


def _set_body(response: Any, body: bytes) -> None:
    if not response.streaming:
        response.content = body  # also marks an unrendered TemplateResponse as rendered: ours is the body
        return
    if getattr(response, "is_async", False):

        async def content() -> Any:
            if body:
                yield body

        response.streaming_content = content()
    else:
        response.streaming_content = _chunks(body)


def _chunks(body: bytes) -> Iterator[bytes]:
    if body:
        yield body



# =============================================================================================
# statusguard audit: the project's URL patterns, and the configuration it gives statusguard
# =============================================================================================


class AlreadyConfigured(Exception):
    """Django is set up in this process with other settings: one process, one project."""


def project_handler(settings_module: str) -> object:
    """Django's WSGI handler for the project whose settings are ``settings_module``, set up as manage.py does."""
    import django  # type: ignore[import-untyped,unused-ignore]
    from django.conf import settings  # type: ignore[import-untyped,unused-ignore]

    if settings.configured:
        current = getattr(settings, "SETTINGS_MODULE", None)
        if current != settings_module:
            raise AlreadyConfigured(f"Django is already configured in this process (with {current!r}), "
                                    f"not with {settings_module!r}")
    else:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    importlib.import_module(settings_module)
    django.setup()
    from django.core.handlers.wsgi import WSGIHandler  # type: ignore[import-untyped,unused-ignore]

    return WSGIHandler()


def recognizes(app: object) -> bool:
    handlers = sys.modules.get("django.core.handlers.base")
    base = getattr(handlers, "BaseHandler", None) if handlers is not None else None
    return isinstance(base, type) and isinstance(app, base)


def discover(app: object, survey: _integration.RouteSurvey) -> _integration.Discovery:
    """Every URL pattern with a sample path that resolves, and the methods its view serves."""
    from django.conf import settings  # type: ignore[import-untyped,unused-ignore]
    from django.urls import Resolver404, get_resolver, resolve  # type: ignore[import-untyped,unused-ignore]

    found = _integration.Discovery("django", quiet_loggers=("django.request",))
    for host in getattr(settings, "ALLOWED_HOSTS", None) or ():
        if isinstance(host, str) and host and host != "*" and not host.startswith("."):
            found.host = host
            break
    for template, path, callback in _walk(get_resolver().url_patterns, "", "", survey, 0):
        try:
            match = resolve(path)
        except Resolver404:
            survey.note(f"skipped {template}: the sample path {path} does not resolve "
                        "(give values with --param NAME=VALUE)")
            continue
        except Exception:
            continue
        view = getattr(match, "func", callback)
        methods: frozenset[str] | None
        try:
            methods = view_methods(view)
        except Exception:
            methods = None
        hints = "drf" if _drf_view_class(view) is not None else "django"
        found.routes.append(_integration.FoundRoute(template, path, methods, hints))
    return found


def _walk(
    patterns: Iterable[Any], template_prefix: str, path_prefix: str, survey: _integration.RouteSurvey, depth: int,
) -> Iterator[tuple[str, str, Any]]:
    """(template, filled path, view) of every URL pattern, through nested includes."""
    if depth > _MAX_DEPTH:
        return
    for pattern in patterns:
        matcher = getattr(pattern, "pattern", None)
        try:
            template, filled = _fill(matcher, survey)
        except _integration.UnfillableParameter as missing:
            where = "/" + template_prefix + _pattern_text(matcher)
            if missing.name == "?":
                survey.note(f"skipped {where}: a regular expression statusguard cannot fill")
            elif missing.name != "format":  # DRF's format suffixes: the same view is probed without one
                survey.note(f"skipped {where}: no sample value for {missing.name!r} "
                            f"(give one with --param {missing.name}=VALUE)")
            continue
        nested = getattr(pattern, "url_patterns", None)
        if nested is not None:
            try:
                children = list(nested)
            except Exception as exc:
                survey.note(f"skipped /{template_prefix}{template}: its urlconf failed to load ({exc})")
                continue
            yield from _walk(children, template_prefix + template, path_prefix + filled, survey, depth + 1)
        else:
            yield "/" + template_prefix + template, "/" + path_prefix + filled, getattr(pattern, "callback", None)


def _pattern_text(matcher: Any) -> str:
    if matcher is None:
        return ""
    prefix = getattr(matcher, "language_prefix", None)
    if isinstance(prefix, str):
        return prefix
    return str(matcher)


def _fill(matcher: Any, survey: _integration.RouteSurvey) -> tuple[str, str]:
    """(display template, filled text) for one level of a URL pattern: a route or a regex."""
    text = _pattern_text(matcher)
    if matcher is None or hasattr(matcher, "language_prefix"):
        return text, text
    if type(matcher).__name__ == "RegexPattern":
        template, filled = survey.fill_regex(text)
        regex = getattr(matcher, "regex", None)
        if isinstance(regex, re.Pattern):
            found = regex.search(filled)
            if found is None or found.start() != 0:
                raise _integration.UnfillableParameter(next(iter(regex.groupindex), "?"))
        return template, filled
    return text, survey.fill_angle(text, getattr(matcher, "converters", None) or {})


def installed_configuration(app: object) -> tuple[dict[str, Any], object]:
    """The fix options and rule selectors of ``settings.STATUSGUARD``."""
    from django.conf import settings  # type: ignore[import-untyped,unused-ignore]

    options: dict[str, Any] = {}
    rules: object = None
    config = getattr(settings, _SETTING, None) or {}
    if isinstance(config, Mapping):
        options.update({k: v for k, v in config.items() if k in FixOptions.__dataclass_fields__})
        rules = config.get("rules")
    return options, rules


def hint_tables(hints: str) -> tuple[_integration.HintTable, ...]:
    return {"django": (DJANGO_HINTS,), "drf": (DRF_HINTS, DJANGO_HINTS)}.get(hints, ())


# =============================================================================================
# The pytest plugin: Django's test client imitates a server in conditional_content_removal
# =============================================================================================


def patch_test_client(module: ModuleType, guard: _integration.PluginGuard) -> str | None:
    original = getattr(module, "conditional_content_removal", None)
    if original is None or guard.is_ours(original):
        return None

    @functools.wraps(original)
    def conditional_content_removal(request: Any, response: Any) -> Any:
        # The test client's stand-in for a server (it strips HEAD/1xx/204/304 bodies): check first.
        try:
            _check_for_test_client(guard, request, response)
        except Exception as exc:
            guard.internal_error("django.test.client", exc)
        return original(request, response)

    guard.replace(module, "conditional_content_removal", conditional_content_removal)
    return "Django test client"


def _check_for_test_client(guard: _integration.PluginGuard, request: Any, response: Any) -> None:
    settings = getattr(sys.modules.get("django.conf"), "settings", None)
    try:
        middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    except Exception:  # settings not configured: no request could have got here, but do not fail it
        middleware = []
    if any(isinstance(entry, str) and entry.startswith("statusguard.") for entry in middleware):
        return  # the app's own statusguard middleware checks it (and the plugin records what it reports)
    _, headers = _response_head(request, response)
    guard.exchange(str(request.method or "GET").upper(), str(request.path), int(response.status_code), headers)
    inspect_response(guard.policy, guard.reporter, request, response)
