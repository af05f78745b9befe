"""What the framework integrations share: the hint plumbing, and how the CLI and the plugin find them.

Charter: this module imports no framework and no integration module. Everything a framework's
integration knows (its router reader, its route discovery for ``statusguard audit``, its test
client's hook for the pytest plugin, its hints) lives in that framework's module; what is here is
the mechanism they all plug into, so that ``statusguard.cli`` and ``statusguard.pytest_plugin``
can ask "which integration knows this app, this test client" without importing a framework that
is not in use.

Hints: each violation's ``hint`` gets the framework's own remedy appended (``abort(401,
www_authenticate=...)`` for Flask, ``HTTPException(401, headers={...})`` for FastAPI...), from a
per-framework table ``rule id -> text``, through the core's hint hook (``Policy(hints=...)``,
installed with ``install``). Every violation is built with it, whichever path of the engine builds
it, so everything downstream (the ``on_violation`` hook, ``StatusViolationError``) sees the
framework's words. The integration decides which tables apply: once per middleware (Flask,
Starlette/FastAPI) or per request through ``facts`` (Django, where a DRF view gets DRF's words and
the facts say whether DRF turned a 401 into a 403).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final, NamedTuple, Protocol, cast

from ..core.model import Exchange
from ..core.policy import Policy
from ..core.rule import Rule
from ..runtime.report import Reporter

__all__ = [
    "INTEGRATIONS",
    "Discovery",
    "Facts",
    "FoundRoute",
    "FrameworkModule",
    "Hint",
    "HintTable",
    "Integration",
    "PluginGuard",
    "RouteSurvey",
    "UnfillableParameter",
    "facts",
    "install",
    "integration_for",
    "loaded",
    "provider",
    "speaking",
    "test_client_hooks",
]

Facts = Mapping[str, object]
# A hint is fixed text, or a function of the exchange and the request's facts that returns the
# text (None: nothing to add for this response).
Hint = str | Callable[[Exchange, Facts], "str | None"]
HintTable = Mapping[str, Hint]

_NO_FACTS: Facts = {}

# Facts about the request being inspected, set by an integration around its inspection (Django).
facts: ContextVar[Facts] = ContextVar("statusguard_contrib_facts", default=_NO_FACTS)


def loaded(module: str) -> bool:
    """Is ``module`` imported (a companion library such as flask-limiter, worth a hint of its own)?"""
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
# Finding the integration that knows an app or a test client
# =============================================================================================


class UnfillableParameter(Exception):
    """A path parameter no sample value fits: the route is skipped, with a note naming it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class RouteSurvey(Protocol):
    """What ``statusguard audit`` lends a framework's route discovery: sample values for path
    parameters (the user's ``--param`` first) and requests to ask the router with."""

    host: str

    def note(self, text: str) -> None:
        """Tell the user what discovery skipped or could not know."""

    def fill_angle(self, template: str, converters: Mapping[str, Any]) -> str:
        """``/items/<int:id>`` (Werkzeug, Django) with a sample per parameter; raises UnfillableParameter."""

    def fill_braces(self, template: str, convertors: Mapping[str, Any], annotations: Mapping[str, Any]) -> str:
        """``/items/{id:int}`` (Starlette) with a sample per parameter; raises UnfillableParameter."""

    def fill_regex(self, pattern: str) -> tuple[str, str]:
        """(display template, filled path) for a simple regex pattern; raises UnfillableParameter."""

    def environ(self, method: str, path: str) -> dict[str, Any]:
        """The WSGI environ a probe of ``path`` would carry."""

    def scope(self, method: str, path: str) -> dict[str, Any]:
        """The ASGI scope a probe of ``path`` would carry."""


class FoundRoute(NamedTuple):
    template: str  # as the framework writes it: /items/{id}, /items/<int:id>
    path: str  # the template with sample values filled in
    methods: frozenset[str] | None  # what the router serves at ``path``; None: it cannot say
    hints: str  # whose words the hints speak: a key of the integration's ``hint_tables``


@dataclass(slots=True)
class Discovery:
    framework: str  # what the audit report names: flask, starlette, fastapi, django
    routes: list[FoundRoute] = field(default_factory=list)
    host: str | None = None  # the Host the app answers to, when it is choosy (Django's ALLOWED_HOSTS)
    quiet_loggers: tuple[str, ...] = ()  # loggers that write one line per refused request (django.request)


class PluginGuard(Protocol):
    """What the pytest plugin lends a framework's test-client hook: wrapping an app in the plugin's
    checks, patching for the session only, and checking a response the framework hands over."""

    policy: Policy
    reporter: Reporter

    def wrap_asgi(self, app: Any) -> Any: ...
    def wrap_wsgi(self, app: Any) -> Any: ...
    def already_guarded(self, app: object) -> bool: ...
    def is_ours(self, function: object) -> bool: ...
    def replace(self, owner: Any, name: str, new: Any) -> None: ...
    def sync_method(self, original: Callable[..., Any], wrap: Callable[[Any], Any]) -> Callable[..., Any]: ...
    def internal_error(self, where: str, exc: BaseException) -> None: ...
    def exchange(self, method: str, path: str, status: int, headers: Iterable[tuple[str, str]]) -> None: ...


class FrameworkModule(Protocol):
    """The hooks every ``statusguard.contrib.<framework>`` module defines at module level."""

    def recognizes(self, app: object) -> bool: ...
    def discover(self, app: Any, survey: RouteSurvey) -> Discovery: ...
    def installed_configuration(self, app: Any) -> tuple[dict[str, Any], object]: ...
    def hint_tables(self, hints: str) -> Sequence[HintTable]: ...
    def patch_test_client(self, module: ModuleType, guard: PluginGuard) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Integration:
    name: str
    module: str
    packages: tuple[str, ...]  # the framework is in play once one of these is imported
    hints: tuple[str, ...]  # the hint names its discovery gives routes
    test_clients: tuple[str, ...]  # the modules whose test client its hook patches

    def in_play(self) -> bool:
        return any(package in sys.modules for package in self.packages)

    def load(self) -> FrameworkModule:
        """The integration module; import it only once ``in_play()`` (it may import the framework)."""
        return cast("FrameworkModule", importlib.import_module(self.module))


# In the order ``audit`` asks them about each object along an app's wrapping chain.
INTEGRATIONS: Final = (
    Integration("flask", "statusguard.contrib.flask", ("flask",), ("flask",), ("werkzeug.test",)),
    Integration("django", "statusguard.contrib.django", ("django",), ("django", "drf"), ("django.test.client",)),
    Integration(
        "starlette", "statusguard.contrib.starlette", ("starlette",), ("starlette", "fastapi"),
        ("starlette.testclient",),
    ),
)


def integration_for(app: object) -> FrameworkModule | None:
    """The integration whose framework ``app`` belongs to, among the frameworks imported so far."""
    for integration in INTEGRATIONS:
        if integration.in_play():
            module = integration.load()
            if module.recognizes(app):
                return module
    return None


def speaking(hints: str) -> FrameworkModule | None:
    """The integration whose discovery named a route's hints ``hints`` (it is in play: it found the route)."""
    for integration in INTEGRATIONS:
        if hints in integration.hints and integration.in_play():
            return integration.load()
    return None


def test_client_hooks() -> dict[str, Integration]:
    """Test-client module name -> the integration whose hook patches it."""
    return {name: integration for integration in INTEGRATIONS for name in integration.test_clients}
