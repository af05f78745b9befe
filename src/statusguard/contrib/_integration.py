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

import sys
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar

from ..core.model import Exchange
from ..core.policy import Policy
from ..core.rule import Rule

__all__ = ["Facts", "Hint", "HintTable", "facts", "install", "loaded", "provider"]

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
