"""The two exceptions statusguard raises on purpose (defined in ``core/errors.py``)."""

from __future__ import annotations

from .core.errors import ConfigurationError, StatusViolationError

__all__ = ["ConfigurationError", "StatusViolationError"]
