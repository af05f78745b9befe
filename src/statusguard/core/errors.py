"""The two exceptions statusguard raises on purpose.

``StatusViolationError`` carries data (the violations and the request they belong to), not just
text, so that test tooling can inspect it (h11's ``ProtocolError`` carries its status hint the
same way). Its message never contains a credential: it is built from violation messages, which
the catalogue writes from status, method and field names, never from Authorization or cookies.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import Violation, escape

__all__ = ["ConfigurationError", "StatusViolationError"]


class ConfigurationError(ValueError):
    """A statusguard setting is invalid; the message names the value and what is valid instead."""


class StatusViolationError(Exception):
    """Raised in strict mode when a response breaks a rule whose action is ``raise``."""

    def __init__(
        self,
        violations: Sequence[Violation],
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        self.method = method
        self.path = path
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.method or self.path:
            where = f" to {escape(self.method or '?')} {escape(self.path or '?')}"
        count = len(self.violations)
        status = self.violations[0].status if self.violations else "?"
        lines = [f"{count} status-code violation{'s' if count != 1 else ''} in the {status} response{where}:"]
        for violation in self.violations:
            lines.append(f"  [{violation.rule}] {violation.level} ({violation.reference}): {violation.message}")
            lines.append(f"      fix: {violation.hint}")
        lines.append(
            "  (statusguard strict mode; set the rule to 'log' or 'off' in rules={...} to opt out: "
            "see `statusguard explain RULE_ID`)"
        )
        return "\n".join(lines)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.violations, self.method, self.path))


def _rebuild(violations: Sequence[Violation], method: str | None, path: str | None) -> StatusViolationError:
    return StatusViolationError(violations, method=method, path=path)


# Users meet these as ``statusguard.errors.*`` (tracebacks, docs): say so.
ConfigurationError.__module__ = StatusViolationError.__module__ = "statusguard.errors"
