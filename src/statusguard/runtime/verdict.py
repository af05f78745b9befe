"""What is decided for a response head, and what is remembered of it.

``Decision`` is what the session tells an adapter to send; ``Verdict`` is a decision kept by the
memo (``memo.py``) with the reports to replay and what the length phase will say of the body.
Both are plain data: no rule, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.model import Violation

__all__ = ["MAX_KEPT_BODY", "MAX_KEPT_HEAD", "Decision", "Verdict"]


@dataclass(slots=True)
class Decision:
    """What to send for the head of the response, and what to do with the app's body."""

    changed: bool = False  # False: forward the app's own status/header objects untouched
    status: int = 0
    status_line: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    replace_body: bytes | None = None  # send this instead of the app's (empty) body
    drop_body: bool = False  # send no content at all
    violations: list[Violation] = field(default_factory=list)


MAX_KEPT_HEAD = 4096  # characters of header names and values a remembered head may have
MAX_KEPT_BODY = 2048  # bytes of a whole body that may be part of a key


class Verdict:
    """What was decided for one head (or one head and whole body)."""

    __slots__ = (
        "decision", "declared", "declared_ok", "empty_ok", "held", "nonempty_ok", "owns_body", "plain", "raw_headers",
        "reports", "settled_total", "shapeable",
    )

    def __init__(
        self,
        decision: Decision | None,
        reports: tuple[tuple[Violation, str], ...] = (),
        *,
        held: bool = False,
        declared: int | None = None,
        declared_ok: bool = False,
        empty_ok: bool = False,
        nonempty_ok: bool = False,
    ) -> None:
        self.decision = decision  # None for a held head: decided with its body
        self.reports = reports  # (violation as reported, action taken), replayed on every hit
        self.held = held
        self.declared = declared  # the single valid Content-Length of the head that goes out
        self.declared_ok = declared_ok  # the length phase finds nothing when exactly that many bytes go out
        self.empty_ok = empty_ok  # ... when no byte goes out (a head without Content-Length)
        self.nonempty_ok = nonempty_ok  # ... when some bytes go out (a head without Content-Length)
        # The body that goes out is ours (dropped, or replaced), not the app's.
        self.owns_body = decision is not None and (decision.drop_body or decision.replace_body is not None)
        # The session's fast branch: the app's own head goes out, its body follows, nothing to report.
        self.plain = not held and not reports and decision is not None and not decision.changed and not self.owns_body
        # The total that certainly settles the response (-1: none; ask ``settles``): one comparison.
        self.settled_total = declared if declared is not None and declared_ok else -1
        # Does it hold for the same head with another plain Content-Length (``memo.shape_of``)? Set by
        # the session from the rules' declarations.
        self.shapeable = False
        # The changed decision's headers as the ASGI adapter sends them, made on first use.
        self.raw_headers: tuple[tuple[bytes, bytes], ...] | None = None

    def settles(self, total: int) -> bool:
        """Does the length phase find nothing to report when ``total`` bytes of the app's body went out?"""
        decision = self.decision
        if decision is not None and (decision.drop_body or decision.replace_body is not None):
            return True  # the body is ours, not counted
        if self.declared is not None:
            return total == self.declared and self.declared_ok
        return self.nonempty_ok if total else self.empty_ok


