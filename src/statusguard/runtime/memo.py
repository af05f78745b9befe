"""Verdicts remembered per response head, so that a response like one already judged costs a look-up.

Why: statusguard runs on every response, and most responses of an app repeat a handful of heads
(the same status, the same header lines, often the same Content-Length). Judging a head is a pure
function of its facts; when those facts are the status, the header list exactly as the app sent
it, the request method and the protocol version (no rule or fix read a request header, no router
was asked, no header entry was malformed), the same head always gets the same decision. The
session keys a verdict on exactly those facts, taken before any normalisation, so that a hit
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

from .verdict import Verdict

_CAPACITY = 1024  # entries per map (heads, shapes)

if TYPE_CHECKING:
    from ..core.dispatch import Dispatcher

__all__ = ["Memo", "shape_of"]

# The spellings of Content-Length a shape is made from (others are judged in full: still correct).
_LENGTH_NAMES = frozenset({"content-length", "Content-Length", "CONTENT-LENGTH", b"content-length", b"Content-Length"})
_ANY_LENGTH = object()  # stands for the Content-Length value in a shape: no app value equals it


def shape_of(key: tuple[object, tuple[object, ...], object, object]) -> tuple[object, int] | None:
    """The head key with its Content-Length value left out, and that value; None when the head has no
    single Content-Length of plain digits (no sign, no leading zero, not 0).

    Why: most heads of a JSON API differ only in Content-Length. A verdict is shaped only when no
    rule decided before the body's end reads the value beyond its syntax (``Verdict.shapeable``,
    derived from the rules' declarations by ``Selection.reads_length_value``); the length phase,
    which compares the value with the bytes sent, is checked on every response.
    """
    status, headers, method, version = key
    found = -1
    name: object = None
    value: object = None
    for index, entry in enumerate(headers):
        if type(entry) is tuple and len(entry) == 2 and entry[0] in _LENGTH_NAMES:
            if found >= 0:
                return None  # several: judged in full
            found, (name, value) = index, entry
    if type(value) is bytes:
        value = value.decode("latin-1")
    if type(value) is not str or not (value.isdigit() and value.isascii()) or value[0] == "0" or len(value) > 15:
        return None  # also when there is none (value None)
    shaped = (*headers[:found], (name, _ANY_LENGTH), *headers[found + 1:])
    return (status, shaped, method, version), int(value)


class Memo:
    """Bounded maps from head keys (and from shapes, see ``shape_of``) to verdicts, for one middleware.

    Each is emptied when it is full (a burst of distinct heads costs their judging, never memory) and
    both when the policy's dispatcher is replaced (framework hints installed after the first request):
    the middlewares register ``current`` with ``Policy.on_new_dispatcher``, so that a look-up need not
    compare dispatchers, and a verdict judged under a replaced dispatcher is not stored.
    Reads and writes are single dict operations: safe under threaded servers.
    """

    __slots__ = ("dispatcher", "entries", "shapes")

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.entries: dict[object, Verdict] = {}
        self.shapes: dict[object, Verdict] = {}
        self.dispatcher = dispatcher

    def current(self, dispatcher: Dispatcher) -> bool:
        """Is the memo still that of this dispatcher? If not, it is emptied and taken over by it."""
        if dispatcher is self.dispatcher:
            return True
        self.dispatcher = dispatcher  # first: a verdict judged under the old one is no longer stored
        self.entries = {}
        self.shapes = {}
        return False

    def recall(self, key: tuple[object, tuple[object, ...], object, object], dispatcher: Dispatcher) -> Verdict | None:
        """The verdict for a head first seen now, from a head that differed only in its Content-Length."""
        if not self.shapes or not self.current(dispatcher):
            return None
        shaped = shape_of(key)
        if shaped is None:
            return None
        found = self.shapes.get(shaped[0])
        if found is None:
            return None
        return Verdict(found.decision, declared=shaped[1], declared_ok=True)

    def put(self, key: tuple[object, ...], verdict: Verdict, dispatcher: Dispatcher) -> None:
        """Remember ``verdict`` for ``key`` (status, headers, method, version[, body]); a plain one also
        for its shape, when the rules that judged it allow (``Verdict.shapeable``, see ``shape_of``)."""
        if dispatcher is not self.dispatcher:
            return  # judged under a dispatcher replaced since (the memo follows the policy's): stale
        entries = self.entries
        if len(entries) >= _CAPACITY:
            entries = self.entries = {}
        entries[key] = verdict
        decision = verdict.decision
        status = decision.status if decision is not None else 0
        if (
            verdict.plain and verdict.declared and verdict.declared_ok and 200 <= status <= 599
            and verdict.shapeable and len(key) == 4 and key[2] != "HEAD"
        ):
            shaped = shape_of(key)  # type: ignore[arg-type]
            if shaped is not None:
                shapes = self.shapes
                if len(shapes) >= _CAPACITY:
                    shapes = self.shapes = {}
                shapes[shaped[0]] = verdict

    def __len__(self) -> int:
        return len(self.entries)

