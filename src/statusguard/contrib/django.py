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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from ..core.errors import ConfigurationError, StatusViolationError
from ..core.model import Exchange
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
    return frozenset(str(method) for method in listed)  # compared as written: require_http_methods is case-sensitive


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
    """The methods ``view`` (a URL pattern's callback) serves, or None when it cannot be known.

    Follows the ``__wrapped__`` chain through decorators: each ``require_http_methods`` layer
    narrows the set; a class-based view at the bottom gives its handlers. A plain function view
    with no method decorator answers whatever it likes: None.
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
    import sys

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
        asgi = hasattr(request, "scope")
        scope = request.scope if asgi else {}
        method = str(request.method or "GET")  # Django upper-cases it already
        inspection = Inspection(
            self.policy,
            self.reporter,
            method=method,
            path=request.path,
            request_headers=_request_headers(request),
            http_version=str(scope.get("http_version") or meta.get("SERVER_PROTOCOL", "1.1")).removeprefix("HTTP/"),
            gateway="asgi" if asgi else "wsgi",
            allowed_methods=(lambda: view_methods(view)) if view is not None else None,
            violations=violations,
        )
        status: int | str = response.status_code
        if not asgi:
            status = f"{response.status_code} {response.reason_phrase}"  # what Django's WSGIHandler sends
        headers = [
            *response.items(),
            *(("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values()),
        ]
        inspection.begin(status, headers)
        if response.streaming or getattr(response, "is_rendered", True) is False:
            # A stream is never consumed here; an unrendered TemplateResponse (one a middleware returned
            # before the handler could render it) is not rendered by us either: its content is unknown.
            decision = inspection.decide(None, None)
        else:
            decision = inspection.decide(bytes(response.content), None, complete=True)
        if decision.changed:
            _apply(response, decision)


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

