"""One response's session through a middleware: the state machine both adapters drive, sans-I/O.

Rule 1: everything about the order of a response's events, and what is decided at each, lives
here. The adapters (``wsgi.py``, ``asgi.py``) translate their protocol into these events and carry
out the actions they get back; they decide nothing of their own.

Rule 2: nothing here knows a WSGI or ASGI shape (an adapter's Gateway reads its requests for us)
nor any HTTP semantics (the catalogue does, through an Inspection).

Theory of operation. An adapter feeds the session three events; each returns what to do:

    head(status, headers, key)  the app's head      -> SEND, SEND_FIXED or HOLD
    decide(whole)               a held head's body  -> SEND or SEND_FIXED
    end()                       the body ended      -> nothing (in strict mode it may raise)

SEND: the app's own head objects go out untouched (byte for byte). SEND_FIXED: the decision's head
goes out instead (``decision.status_line`` or ``status``, ``decision.headers``). HOLD: the head
waits until the first body chunk with content, or the end of the body, when ``decide`` is told
which: ``whole`` is None for a first chunk (content exists, more may follow) or the whole body.
Between ``head`` and ``end`` the adapter adds the bytes of the app's body it forwards to ``sent``;
it never keeps them. ``end_ahead(total)`` is ``end`` for a body whose length is known before any
of it goes out (a WSGI list).

States, in the order a response goes through them (below OPEN, the head has not gone out):

    IDLE     no head yet
    HELD     the head waits for its first content (or the end of the body) to be decided
    REFUSED  a rule whose action is raise fired: this head must never go out
    OPEN     the head went out; the app's body follows, counted in ``sent``
    OWNED    the head went out; the body is ours (dropped, or ``decision.replace_body``): the app's
             bytes are not forwarded
    DONE     the body ended and its length was checked
    BROKEN   an internal error of ours was reported: from here on everything passes through as the
             app sent it (in strict mode the error propagates instead)

The fast branch. A head like one already judged (the same status, header list, method and
version: its ``key``) is decided by the verdict the memo remembers for it: a plain verdict (the
app's head goes out, nothing to report) costs one look-up, and the body only its count. A held
head's whole body is looked up the same way. Anything else is judged by an Inspection, and what
can be remembered of its verdict is. Why this object has no ``__init__`` and why the adapters
subclass it rather than wrap it: bench/README.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Final, Literal

from ..core.errors import StatusViolationError
from ..core.model import Violation, normalise_headers
from ..core.policy import Policy
from .inspection import Inspection
from .memo import Memo
from .report import Reporter, secrets_of
from .verdict import MAX_KEPT_BODY, Decision, Verdict

__all__ = [
    "BROKEN", "DONE", "HELD", "HOLD", "IDLE", "OPEN", "OWNED", "REFUSED", "SEND", "SEND_FIXED",
    "Gateway", "Inspection", "Session",
]

# Actions: what the adapter does with the app's head.
SEND: Final = 0
SEND_FIXED: Final = 1
HOLD: Final = 2

# States (ordered: below OPEN the head has not gone out).
IDLE: Final = 0
HELD: Final = 1
REFUSED: Final = 2
OPEN: Final = 3
OWNED: Final = 4
DONE: Final = 5
BROKEN: Final = 6


class Gateway:
    """What one middleware shares with each of its sessions: its policy, reporter, memo and router,
    and how its protocol's request (an environ, a scope) is read. Each adapter subclasses it."""

    # How internal errors name where they happened: the middleware, and the protocol's name for a head.
    label: ClassVar[str]
    head_event: ClassVar[str]

    def __init__(
        self,
        name: Literal["wsgi", "asgi"],
        policy: Policy,
        reporter: Reporter,
        allowed_methods: Callable[[Any], Iterable[str] | None] | None,
    ) -> None:
        self.name = name  # an instance attribute, not a class one: it is read on every replayed report
        self.policy = policy
        self.reporter = reporter
        self.allowed_methods = allowed_methods
        self.memo = Memo(policy.dispatcher)
        policy.on_new_dispatcher(self.memo.current)  # the memo is emptied when hints are installed

    # -- the request, as the protocol gives it (called off the fast branch only) ------------------
    def request_line(self, request: Any) -> tuple[str, str]:
        """The request's method (case-sensitive, RFC 9110 §9.1) and path, as reports name them."""
        raise NotImplementedError

    def version(self, request: Any) -> str:
        raise NotImplementedError

    def request_headers(self, request: Any) -> list[tuple[str, str]]:
        raise NotImplementedError

    def replay_line(self, request: Any) -> tuple[str, str] | None:
        """``request_line``, to replay remembered reports under; None when the request carries credentials
        (Authorization, Proxy-Authorization, Cookie): a remembered report was masked with another's."""
        raise NotImplementedError


class Session:
    """One response, from the app's head to the end of its body. Never shared between requests."""

    __slots__ = ("decision", "gateway", "headers", "inspection", "key", "request", "sent", "settled", "state",
                 "status", "verdict", "violations")
    # Set by the adapter as it makes the session: state IDLE, sent 0.
    gateway: Gateway
    request: Any  # the environ or the scope, read only through the gateway
    violations: list[Violation]  # the environ's or scope state's list, filled as reports are made
    state: int
    sent: int
    # Set by ``head`` (the fast branch sets only the first four and the state):
    status: object  # the app's status and headers, as it gave them
    headers: Any
    verdict: Verdict | None  # the remembered verdict the head went out on, if any
    settled: int  # a total of ``sent`` that settles the response at once: no ``end`` needed (-1: none)
    key: tuple[Any, ...] | None  # the memo key of a head judged or held (None: never remembered)
    inspection: Inspection | None  # the full judgement, when one was made
    decision: Decision | None  # set once the head is decided (not by the fast branch)

    # -- events -------------------------------------------------------------------------------
    def head(self, status: object, headers: Any, key: tuple[Any, ...] | None) -> int:
        """The app's head: a first one, or one replacing a head none of whose body went out yet.

        ``key`` is ``(status, tuple(headers), method, version)`` as the app and server gave them, for
        a first head of usual types only; None otherwise (then the head is judged in full).
        """
        found = None
        if key is not None:
            memo = self.gateway.memo
            try:
                found = memo.entries.get(key)
            except TypeError:  # an unhashable header entry: judged in full (and reported)
                key = None
            else:
                if found is None and memo.shapes:
                    found = memo.recall(key, self.gateway.policy.dispatcher)  # another Content-Length
            if found is not None:
                self.status = status
                self.headers = headers
                if found.plain:  # the fast branch: the app's head goes out as it is
                    self.verdict = found
                    self.settled = found.settled_total
                    self.state = OPEN
                    return SEND
                if found.held:  # decided with its body, as before
                    self.key = key
                    self.inspection = self.verdict = None
                    self.state = HELD
                    return HOLD
        elif self.state is not IDLE:  # a head replacing another (the adapters key only a first one)
            if self.state is BROKEN:
                return SEND
            self.sent = 0
        self.status = status
        self.headers = headers
        self.key = key
        self.inspection = self.verdict = None
        if found is not None:
            action = self._take(found)
            if action is not None:
                return action
        return self._judge()

    def decide(self, whole: bytes | None) -> int:
        """The held head's first content (``whole`` None: more may follow) or its whole body (bytes)."""
        key = self.key
        # A held head decided on its whole (small) body is remembered with the body as part of the key.
        whole_key = key + (whole,) if whole is not None and key is not None and len(whole) <= MAX_KEPT_BODY else None  # noqa: RUF005 (no list built)
        if whole_key is not None:
            found = self.gateway.memo.entries.get(whole_key)
            if found is not None:
                action = self._take(found)
                if action is not None:
                    return action
        try:
            inspection = self.inspection
            if inspection is None:  # the head was held on a remembered verdict: begun now, as at its head
                inspection = self._inspect()
                inspection.begin(self.status, self.headers)
            if whole is None:
                decision = inspection.decide(None, True)
            else:
                decision = inspection.decide(whole, None, complete=True)
                if whole_key is not None:
                    self._remember(whole_key, inspection.verdict())
        except StatusViolationError:
            self.state = REFUSED
            raise
        except Exception as exc:
            self.fail("decide", exc)
            return SEND
        return self._send(decision)

    def end(self) -> None:
        """The app's body ended, ``sent`` bytes of it forwarded: check them (the length phase)."""
        if self.state is not OPEN:
            return  # a body of ours, one already checked, or passed through
        self.state = DONE
        verdict = self.verdict
        sent = self.sent
        try:
            if verdict is None:
                inspection = self.inspection
                assert inspection is not None  # a head decided without a verdict was judged
            elif sent == verdict.settled_total or verdict.settles(sent):
                return
            else:  # a total the remembered verdict did not foresee: checked in full, as without the memo
                assert verdict.decision is not None
                inspection = self._inspect()
                inspection.resume(self.status, self.headers, verdict.decision)
            inspection.end(sent)
        except StatusViolationError:
            raise
        except Exception as exc:
            self.fail("end", exc)

    def end_ahead(self, total: int) -> bool:
        """``end`` for an open body whose length (``total``, with ``sent``) is known before any of it goes
        out. True: the response is settled, nothing is left to count. False: count it, then ``end``."""
        verdict = self.verdict
        if verdict is not None:
            settled = total == verdict.settled_total or verdict.settles(total)
        else:
            inspection = self.inspection
            try:
                settled = inspection is not None and inspection.end_ahead(total)
            except Exception as exc:
                self.fail("end", exc)
                return False
        if settled:
            self.state = DONE
        return settled

    def fail(self, where: str, exc: BaseException) -> None:
        """An internal error of ours (``where``: the event it broke). In strict mode it propagates;
        otherwise it is logged, and the response passes through as the app sent it from here on."""
        gateway = self.gateway
        if gateway.policy.mode == "strict":
            raise exc
        self.state = BROKEN
        inspection = self.inspection if self.verdict is None else None
        if inspection is not None:
            secrets = inspection.secrets()
        else:  # a head that went out on a remembered verdict
            secrets = secrets_of(gateway.request_headers(self.request), normalise_headers(self.headers)[0])
        gateway.reporter.internal_error(f"{gateway.label}.{where}", exc, secrets)

    # -- the slow branch ----------------------------------------------------------------------
    def _judge(self) -> int:
        """Judge the head in full, and remember what can be remembered of its verdict."""
        key = self.key
        try:
            inspection = self._inspect()
            hold = inspection.begin(self.status, self.headers)
        except StatusViolationError:
            self.state = REFUSED
            raise  # a rule whose action is raise (strict mode): before a byte leaves
        except Exception as exc:
            self.fail(self.gateway.head_event, exc)
            return SEND
        if hold:
            if key is not None:
                self._remember(key, inspection.verdict(held=True))
            self.state = HELD
            return HOLD
        try:
            decision = inspection.decide(None, None)
            if key is not None:
                self._remember(key, inspection.verdict())
        except StatusViolationError:
            self.state = REFUSED
            raise
        except Exception as exc:
            self.fail("decide", exc)
            return SEND
        return self._send(decision)

    def _take(self, verdict: Verdict) -> int | None:
        """Act on a remembered verdict, its reports made again for this response; None when they may not
        be (the request carries credentials of its own): the head is then judged in full."""
        if verdict.reports:
            gateway = self.gateway
            line = gateway.replay_line(self.request)
            if line is None:
                return None
            self.verdict = verdict
            try:
                gateway.reporter.replay(verdict.reports, self.violations, line[0], line[1], gateway.name)
            except Exception as exc:
                self.fail("report", exc)
                return SEND
        else:
            self.verdict = verdict
        self.settled = verdict.settled_total
        decision = self.decision = verdict.decision  # as ``_send`` (inline: a remembered verdict is the common case)
        assert decision is not None  # a verdict that is not held has one
        self.state = OWNED if verdict.owns_body else OPEN
        return SEND_FIXED if decision.changed else SEND

    def _send(self, decision: Decision) -> int:
        self.decision = decision
        self.settled = -1
        self.state = OWNED if decision.drop_body or decision.replace_body is not None else OPEN
        return SEND_FIXED if decision.changed else SEND

    def _remember(self, key: tuple[Any, ...], verdict: Verdict | None) -> None:
        if verdict is not None:
            self.gateway.memo.put(key, verdict, self.gateway.policy.dispatcher)

    def _inspect(self) -> Inspection:
        gateway = self.gateway
        request = self.request
        router = gateway.allowed_methods
        method, path = gateway.request_line(request)
        self.inspection = inspection = Inspection(
            gateway.policy,
            gateway.reporter,
            method=method,
            path=path,
            request_headers=lambda: gateway.request_headers(request),
            http_version=gateway.version(request),
            gateway=gateway.name,
            allowed_methods=(lambda: router(request)) if router is not None else None,
            violations=self.violations,
        )
        return inspection
