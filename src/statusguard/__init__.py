"""statusguard: make web apps tell the truth with their HTTP status codes.

Everything in ``__all__`` is public API; the modules whose names start with an underscore are not.
Importing this package imports no framework and nothing outside the standard library.
"""

from __future__ import annotations

from ._model import Example, Level, Rule, Violation
from ._report import ViolationContext
from .asgi import ASGIMiddleware
from .catalogue import NOT_CHECKABLE, RULES
from .checker import check
from .errors import ConfigurationError, StatusViolationError
from .fixer import FixResult, fix
from .policy import Action, Policy
from .wsgi import WSGIMiddleware

__version__ = "0.1.0"

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
