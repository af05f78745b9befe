"""What the framework integrations share: hints in the framework's own words, and router coherence.

Charter: this module imports no framework. It gives the integrations the core's hint hook
(``Policy(hints=...)``, installed with ``install``):

- **hints**: each violation's ``hint`` gets the framework's own remedy appended (``abort(401,
  www_authenticate=...)`` for Flask, ``HTTPException(401, headers={...})`` for FastAPI...), from a
  per-framework table ``rule id -> text``. Every violation is built with it, whichever path of the
  engine builds it, and everything downstream (the ``on_violation`` hook, the violations stored for the app,
  ``StatusViolationError``) sees the framework's words.

Router coherence (an ``Allow`` that omits methods other routes at the path serve) is the
catalogue's ``405-allow-coherent``, fed by the integrations' ``allowed_methods``.

The integration decides which tables apply: statically (Flask, Starlette/FastAPI, chosen once per
middleware) or per request through ``facts`` (Django, where a DRF view gets DRF's words and the
facts say whether DRF turned a 401 into a 403).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar

from ..core.model import Exchange
from ..core.policy import Policy
from ..core.rule import Rule

__all__ = [
    "DJANGO",
    "DRF",
    "FASTAPI",
    "FLASK",
    "STARLETTE",
    "HintTable",
    "facts",
    "install",
    "provider",
]

Facts = Mapping[str, object]
# A hint is fixed text, or a function of the exchange and the request's facts that returns the
# text (None: nothing to add for this response).
Hint = str | Callable[[Exchange, Facts], "str | None"]
HintTable = Mapping[str, Hint]

_NO_FACTS: Facts = {}

# Facts about the request being inspected, set by an integration around its inspection (Django).
facts: ContextVar[Facts] = ContextVar("statusguard_contrib_facts", default=_NO_FACTS)


def _loaded(module: str) -> bool:
    return module in sys.modules


def provider(tables: Callable[[], Sequence[HintTable]]) -> Callable[[Rule, Exchange], str | None]:
    """The policy's hint provider (``Policy(hints=...)``) for a framework's tables."""

    def hints(rule: Rule, x: Exchange) -> str | None:
        request_facts = facts.get()
        extra: list[str] = []
        for table in tables():
            hint = table.get(rule.id)
            if hint is None:
                continue
            text = hint if isinstance(hint, str) else hint(x, request_facts)
            if text and text not in extra:
                extra.append(text)
        return " ".join(extra) or None

    return hints


def install(policy: Policy, tables: Callable[[], Sequence[HintTable]]) -> None:
    """Make ``policy`` speak the framework: its violations' hints get the tables' words."""
    policy.use_hints(provider(tables))


# =============================================================================================
# Flask (Werkzeug)
# =============================================================================================


def _flask_429(x: Exchange, request_facts: Facts) -> str | None:
    text = (
        "Flask: a hand-made 429 can carry it: abort(make_response(body, 429, "
        '{"Cache-Control": "no-store"})).'
    )
    if _loaded("flask_limiter"):
        text += (
            " flask-limiter: register @app.errorhandler(429) returning the response with "
            '"Cache-Control: no-store", and set RATELIMIT_HEADERS_ENABLED = True so that it sends Retry-After.'
        )
    return text


FLASK: HintTable = {
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
        "Flask: list HEAD next to GET in valid_methods=[...]; Werkzeug serves HEAD for GET rules."
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


# =============================================================================================
# Starlette and FastAPI
# =============================================================================================


def _starlette_429(x: Exchange, request_facts: Facts) -> str | None:
    text = 'Starlette: raise HTTPException(429, headers={"Cache-Control": "no-store", "Retry-After": "60"}).'
    if _loaded("slowapi"):
        text += (
            " slowapi: Limiter(..., headers_enabled=True) sends Retry-After and X-RateLimit-*; add "
            '"Cache-Control: no-store" in the RateLimitExceeded exception handler.'
        )
    return text


def _starlette_4xx(x: Exchange, request_facts: Facts) -> str | None:
    if x.status == 416 and x.has("content-range"):
        return (
            "Starlette's FileResponse answers an unsatisfiable Range with an empty 416: statusguard's fix "
            "gives it a problem+json body."
        )
    return 'Starlette: raise HTTPException(status_code, detail="...") instead of an empty Response(status_code=...).'


STARLETTE: HintTable = {
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


def _fastapi_429(x: Exchange, request_facts: Facts) -> str | None:
    text = 'FastAPI: raise HTTPException(429, headers={"Cache-Control": "no-store", "Retry-After": "60"}).'
    if _loaded("slowapi"):
        text += (
            " slowapi: Limiter(..., headers_enabled=True) sends Retry-After and X-RateLimit-*; add "
            '"Cache-Control: no-store" in the RateLimitExceeded exception handler.'
        )
    return text


FASTAPI: HintTable = {
    **STARLETTE,
    "401-www-authenticate": (
        'FastAPI: raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"}); the fastapi.security '
        "classes (HTTPBearer, OAuth2PasswordBearer) do this for you."
    ),
    "405-allow": (
        'FastAPI: raise HTTPException(405, headers={"Allow": "GET, HEAD"}); with StatusGuardMiddleware '
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


# =============================================================================================
# Django and Django REST framework
# =============================================================================================


def _django_4xx(x: Exchange, request_facts: Facts) -> str | None:
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

DJANGO: HintTable = {
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


def _drf_403(x: Exchange, request_facts: Facts) -> str | None:
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


DRF: HintTable = {
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
