"""A rule of the catalogue: what is checked, on which responses, how strongly, and how to mend it.

Charter: the shape of a rule and nothing else. The rules themselves live in ``core/rules/``; this
module imports neither them nor anything that runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .model import SEVERITY, Draft, Example, Exchange, Level, Phase
from .options import FixOptions

__all__ = ["Check", "Fix", "Rule"]

Check = Callable[[Exchange], "str | None"]
Fix = Callable[[Draft, Exchange, FixOptions], bool]


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """One row of the catalogue: what is checked, how strongly, where it is written, how to mend it."""

    id: str
    level: Level
    summary: str
    reference: str
    hint: str
    check: Check = field(repr=False)
    statuses: frozenset[int] | None = None  # None: any status
    phase: Phase = "head"
    fix: Fix | None = field(default=None, repr=False)
    fix_summary: str = ""
    enabled_by_default: bool = True
    fix_by_default: bool = True  # False for fixes RULES.md marks "(opt-in)"
    quiet: bool = False  # routinely done by the stack: fixed (not raised) even in strict mode
    fields: frozenset[str] | None = None  # any-status rule relevant only when one of these fields is present
    methods: frozenset[str] | None = None  # any-status rule relevant only for these request methods
    gateways: frozenset[str] | None = None  # only under these interfaces ("wsgi", "asgi")
    content_types: frozenset[str] | None = None  # only when the media type is one of these
    always: bool = False  # relevant to every response (kept to a bare few: the hot path pays for them)
    needs: str = "S"
    why: str = ""
    examples_bad: tuple[Example, ...] = ()
    examples_good: tuple[Example, ...] = ()

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    @property
    def severity(self) -> str:
        return SEVERITY[self.level]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description (``statusguard rules --json``, docs tooling)."""
        return {
            "id": self.id,
            "level": self.level,
            "severity": self.severity,
            "statuses": _statuses_json(self.statuses),
            "summary": self.summary,
            "why": self.why,
            "reference": self.reference,
            "hint": self.hint,
            "phase": self.phase,
            "needs": self.needs,
            "fixable": self.fixable,
            "fix": self.fix_summary or None,
            "fix_by_default": self.fixable and self.fix_by_default,
            "enabled_by_default": self.enabled_by_default,
            "quiet": self.quiet,
        }


def _statuses_json(statuses: frozenset[int] | None) -> object:
    if statuses is None:
        return "any"
    if statuses == frozenset({-1}):  # the catalogue's OUT_OF_RANGE marker
        return "outside 100-599"
    return sorted(statuses)
