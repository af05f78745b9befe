"""statusguard: make web apps tell the truth with their HTTP status codes.

Everything in ``__all__`` is public API; the modules whose names start with an underscore are not.
Importing this package imports no framework and nothing outside the standard library, and loads
the catalogue only when a public name is first used (PEP 562), so that the pytest plugin and the
command line stay cheap to load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .asgi import ASGIMiddleware
    from .core.checker import check
    from .core.fixer import FixResult, fix
    from .core.model import Example, Level, Violation
    from .core.policy import Action, Policy
    from .core.rule import Rule
    from .core.rules import NOT_CHECKABLE, RULES
    from .errors import ConfigurationError, StatusViolationError
    from .runtime.report import ViolationContext
    from .wsgi import WSGIMiddleware

_EXPORTS = {
    "ASGIMiddleware": "asgi",
    "Action": "core.policy",
    "ConfigurationError": "errors",
    "Example": "core.model",
    "FixResult": "core.fixer",
    "Level": "core.model",
    "NOT_CHECKABLE": "core.rules",
    "Policy": "core.policy",
    "RULES": "core.rules",
    "Rule": "core.rule",
    "StatusViolationError": "errors",
    "Violation": "core.model",
    "ViolationContext": "runtime.report",
    "WSGIMiddleware": "wsgi",
    "check": "core.checker",
    "fix": "core.fixer",
}

__all__ = [
    "NOT_CHECKABLE",
    "RULES",
    "ASGIMiddleware",
    "Action",
    "ConfigurationError",
    "Example",
    "FixResult",
    "Level",
    "Policy",
    "Rule",
    "StatusViolationError",
    "Violation",
    "ViolationContext",
    "WSGIMiddleware",
    "__version__",
    "check",
    "fix",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'statusguard' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
