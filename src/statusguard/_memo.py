"""Verdicts remembered per response head, so that a response like one already judged costs a look-up.

Why: statusguard runs on every response, and most responses of an app repeat a handful of heads
(the same status, the same header lines, often the same Content-Length). Judging a head is a pure
function of its facts; when those facts are the status, the header list exactly as the app sent
it, the request method and the protocol version (no rule or fix read a request header, no router
was asked, no header entry was malformed), the same head always gets the same decision. The
adapters key a verdict on exactly those facts, taken before any normalisation, so that a hit
needs no decoding, no parsing and no rule at all; anything else is judged in full.

What is remembered (and what is not):
- the decision for the head (unchanged, or the repaired head) and the violations to report,
  which are reported again on every hit (the reporter dedups log lines as for any response; the
  ``on_violation`` hook sees every one). A violation is replayed only to a request without
  credentials (Authorization, Proxy-Authorization, Cookie), since its message was masked with the
  credentials of the request that was judged, not this one's; such requests are judged in full;
- for a head that goes out with the app's body, what the length phase says of the bytes sent:
  for the declared Content-Length, or (no Content-Length) for an empty and a non-empty body. Any
  other total is judged in full, at the end, as without the memo;
- for a head held for its body (errors without content, HEAD...), that it is held; the decision
  then depends on the body, which is part of the key when the whole body is small and known.
Heads carrying credentials (Set-Cookie...) are never kept, nor big heads or bodies: the memo is
bounded in entries and in the size of what it keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._model import Violation
    from .checker import Dispatcher
    from .engine import Decision

__all__ = ["MAX_KEPT_BODY", "MAX_KEPT_HEAD", "Memo", "Verdict"]

MAX_KEPT_HEAD = 4096  # characters of header names and values a remembered head may have
MAX_KEPT_BODY = 2048  # bytes of a whole body that may be part of a key
_CAPACITY = 1024


class Verdict:
    """What was decided for one head (or one head and whole body)."""

    __slots__ = ("decision", "declared", "declared_ok", "empty_ok", "held", "nonempty_ok", "reports")

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

    def settles(self, total: int) -> bool:
        """Does the length phase find nothing to report when ``total`` bytes of the app's body went out?"""
        decision = self.decision
        if decision is not None and (decision.drop_body or decision.replace_body is not None):
            return True  # the body is ours, not counted
        if self.declared is not None:
            return total == self.declared and self.declared_ok
        return self.nonempty_ok if total else self.empty_ok


class Memo:
    """A bounded map from head keys to verdicts, for one middleware (one policy).

    It is emptied when it is full (a burst of distinct heads costs their judging, never memory) and
    when the policy's dispatcher is replaced (framework hints installed after the first request).
    Reads and writes are single dict operations: safe under threaded servers.
    """

    __slots__ = ("_entries", "dispatcher")

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._entries: dict[object, Verdict] = {}
        self.dispatcher = dispatcher

    def get(self, key: object, dispatcher: Dispatcher) -> Verdict | None:
        if dispatcher is not self.dispatcher:
            self._entries = {}
            self.dispatcher = dispatcher
            return None
        return self._entries.get(key)

    def put(self, key: object, verdict: Verdict, dispatcher: Dispatcher) -> None:
        if dispatcher is not self.dispatcher:
            return
        entries = self._entries
        if len(entries) >= _CAPACITY:
            entries = self._entries = {}
        entries[key] = verdict

    def __len__(self) -> int:
        return len(self._entries)
