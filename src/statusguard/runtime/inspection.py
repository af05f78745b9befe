"""The judgement of one response against the rules: sans-I/O, driven by the response session.

Charter: this file knows what to decide at each step of a response (its head, its body or first
chunk, its length) and what is remembered of a decision, but neither the order of a response's
events (``session.py`` keeps that) nor WSGI or ASGI message shapes (the adapters translate), nor
HTTP semantics (the catalogue). Its three calls are:

    begin(status, headers)  -> is the first body chunk needed before the head can be sent?
    decide(body, has_body)  -> the head (and, if replaced, the body) to send; may raise in strict mode
    end(total_length)       -> the length-phase checks (Content-Length true?) on what was sent

Strict-mode errors are raised from ``decide`` before a byte leaves, or from ``end`` (the only
rules left then are about the bytes already sent). Every other outcome is logged through the
Reporter. A response that breaks no rule is reported as unchanged, so that the adapter forwards
the app's own objects, byte for byte. Frameworks that see a whole response at once (the Django
middleware, the pytest plugin's test-client hooks) call it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from ..core.dispatch import Selection, parse_status, run_rule, run_rules
from ..core.errors import StatusViolationError
from ..core.fixer import Repair, repair, wants_hints
from ..core.model import Draft, Exchange, Phase, Violation, normalise_indexed, response_exchange
from ..core.phrases import reason_phrase
from ..core.policy import Action, Policy
from ..core.rule import Rule
from ..core.rules import RULES
from .report import SENSITIVE_FIELDS, Reporter, ViolationContext, redact, secrets_in_entries, secrets_of
from .verdict import MAX_KEPT_HEAD, Decision, Verdict

__all__ = ["Inspection"]

_DECIDE_PHASES: tuple[Phase, ...] = ("head", "body")
_COMPLETE_PHASES: tuple[Phase, ...] = ("head", "body", "length")
_LENGTH_PHASE: tuple[Phase, ...] = ("length",)
_NO_BODY_STATUSES = frozenset({204, 304})
_MAX_UNCHANGED = 1024


# The decision for a response that breaks no rule, one per status (never mutated: every other
# outcome gets a Decision of its own).
_UNCHANGED: dict[int, Decision] = {}


def _unchanged(status: int) -> Decision:
    decision = _UNCHANGED.get(status)
    if decision is None:
        decision = Decision(status=status)
        if len(_UNCHANGED) < _MAX_UNCHANGED:  # statuses are app-chosen ints: bounded
            _UNCHANGED[status] = decision
    return decision


class Inspection:
    """One response's journey through the middleware."""

    __slots__ = (
        "_allowed_methods",
        "_complete",
        "_entry_secrets",
        "_reports",
        "_request_source",
        "_selection",
        "_sent_headers",
        "_sent_status",
        "_unrepeatable",
        "decision",
        "exchange",
        "gateway",
        "http_version",
        "method",
        "path",
        "policy",
        "reporter",
        "violations",
    )

    def __init__(
        self,
        policy: Policy,
        reporter: Reporter,
        *,
        method: str,
        path: str,
        request_headers: list[tuple[str, str]] | Callable[[], list[tuple[str, str]]],
        http_version: str,
        gateway: Literal["wsgi", "asgi"],
        allowed_methods: Callable[[], Iterable[str] | None] | None = None,
        violations: list[Violation] | None = None,
    ) -> None:
        self.policy = policy
        self.reporter = reporter
        self.method = method
        self.path = path
        self._request_source = request_headers  # a list, or a callable building it on first use
        # A rule or fix read the request's headers, the router was asked, a fix failed: the verdict is not
        # a function of the head alone, so it is not remembered (see memo.py).
        self._unrepeatable = False
        self._reports: tuple[tuple[Violation, str], ...] = ()
        self._selection: Selection | None = None
        self.http_version = http_version
        self.gateway = gateway
        self._allowed_methods = allowed_methods
        self.exchange: Exchange | None = None
        self.decision: Decision | None = None
        self.violations = violations if violations is not None else []
        self._complete = False
        self._entry_secrets: Sequence[str] = ()
        self._sent_status = 0
        self._sent_headers: list[tuple[str, str]] = []

    @property
    def request_headers(self) -> list[tuple[str, str]]:
        source = self._request_source
        if callable(source):
            source = self._request_source = source()
        return source

    def _request_loader(self) -> list[tuple[str, str]]:
        self._unrepeatable = True
        return self.request_headers

    # -- head ---------------------------------------------------------------------------------
    def begin(self, status: object, headers: Iterable[object]) -> bool:
        """Record the app's status and headers; return True when the first body chunk is needed.

        When it is (the head is held), the head-phase rules whose action is ``raise`` are checked
        here all the same, so that strict mode raises as the app sends its head, not later from
        the body.
        """
        code, line = (status, None) if type(status) is int else parse_status(status)
        pairs, index, problems = normalise_indexed(headers)
        # Malformed entries are dropped from ``pairs`` but quoted in messages: their credentials too
        # must be masked.
        self._entry_secrets = secrets_in_entries(headers) if problems and isinstance(headers, list | tuple) else ()
        policy = self.policy
        gateway = self.gateway
        self.exchange = x = response_exchange(
            code, pairs, index, self.method, self._request_loader, self.http_version, gateway,
            line if gateway == "wsgi" else None, problems, policy.options.known_methods,
        )
        self.decision = None
        self._complete = False
        if not (code in _NO_BODY_STATUSES or 100 <= code < 200 or x.is_head):
            declared = x.get_all("content-length")
            if len(declared) == 1:
                value = declared[0]
                if value.isdigit() and value.isascii():
                    # The app's declaration (checked against the bytes at the end); compared as digits, since
                    # int() refuses values over 4300 digits.
                    x.has_body = value.strip("0") != ""
        self._selection = selection = policy.dispatcher.selection(x)
        if x.has_body is not None:
            return False
        memo = selection.memo
        hold: bool = (memo if type(memo) is tuple and memo[0] is policy else self._facts(selection, x))[1]
        if not hold and policy.mode in ("fix", "strict") and x.has("content-length") and not x.is_head:
            # Several or invalid Content-Length values: once a fix settles them, only the body can tell
            # the true length, so the head waits for the first body message like an error head does.
            hold = code not in _NO_BODY_STATUSES and not 100 <= code < 200
        if hold:
            self._raise_early(x, selection.head)
        return hold

    def _facts(self, selection: Selection, x: Exchange) -> tuple[object, bool, bool, bool]:
        """(policy, hold, wants router, wants hints): what this policy decides from the selection's key
        alone (status, method, gateway, field names), worked out once per selection."""
        memo = selection.memo
        policy = self.policy
        if type(memo) is tuple and memo[0] is policy:
            return memo
        code = x.status
        facts = (policy, self._holds_for_body(selection, code), selection.asks_router, wants_hints(code, x.has, policy))
        selection.memo = facts
        return facts

    def _holds_for_body(self, selection: Selection, code: int) -> bool:
        """Is the head held for its first body chunk? When a body-phase rule selected for it is on."""
        policy = self.policy
        return any(policy.action(rule, code) is not Action.OFF for rule in selection.body)

    def _raise_early(self, x: Exchange, selected: Iterable[Rule]) -> None:
        """Raise now for the head-phase violations whose action is ``raise`` (the head is being held).

        Only those rules run here (none at all outside strict mode and explicit 'raise' selectors);
        the rest are decided with the body, once.
        """
        policy = self.policy
        to_raise = [
            violation for rule in selected
            if rule.phase == "head" and policy.action(rule, x.status) is Action.RAISE
            and (violation := run_rule(rule, x)) is not None
        ]
        if to_raise:
            raise StatusViolationError(
                [self._report(v, "raised") for v in to_raise], method=self.method, path=self.path
            )

    def decide(self, body: bytes | None = None, has_body: bool | None = None, *, complete: bool = False) -> Decision:
        """Check with what is known of the body now; repair per the policy; raise in strict mode.

        ``body`` is the whole content when ``complete``; otherwise None (or the first chunk, used
        only to know whether content exists).
        """
        x = self.exchange
        selection = self._selection
        assert x is not None, "begin() first"
        assert selection is not None
        if complete and body is not None:
            x.body, x.body_length, x.has_body = body, len(body), len(body) > 0
        elif has_body is not None:
            x.has_body = has_body
        self._complete = complete
        policy = self.policy
        facts = selection.memo
        if type(facts) is not tuple or facts[0] is not policy:
            facts = self._facts(selection, x)
        if facts[2]:
            self._unrepeatable = self._unrepeatable or self._allowed_methods is not None
            x.allowed_methods = self._router_methods()
        if complete:
            rules = selection.complete if x.header_problems else selection.complete_clean
        else:
            rules = selection.decide if x.header_problems else selection.decide_clean
        fired = run_rules(rules, x)
        if fired:
            found = [v for v in fired if policy.action(RULES[v.rule], v.status) is not Action.OFF]
        if (not fired or not found) and not facts[3]:
            decision = _UNCHANGED.get(x.status) or _unchanged(x.status)
            self.decision = decision
            return decision
        if not fired:
            found = []
        phases = _COMPLETE_PHASES if complete else _DECIDE_PHASES
        decision = Decision(status=x.status)
        self.decision = decision
        to_raise = [v for v in found if policy.action(RULES[v.rule], v.status) is Action.RAISE]
        result = repair(x, policy, phases, found)
        for rule_id, error in result.errors:
            self._unrepeatable = True
            self.reporter.internal_error(f"the fix of {rule_id}", error)
        fixed = set(result.fixed)
        reported = []
        takens = []
        for violation in found:
            action = policy.action(RULES[violation.rule], violation.status)
            if action is Action.RAISE:
                taken = "raised"
            elif violation.rule in fixed:
                taken = "quiet" if RULES[violation.rule].quiet else "fixed"
            elif action is Action.FIX:
                taken = "unfixed"
            else:
                taken = "logged"
            reported.append(self._report(violation, taken))
            takens.append(taken)
        decision.violations = reported
        self._reports = tuple(zip(reported, takens, strict=True))
        if to_raise:
            raise StatusViolationError(
                [safe for safe, v in zip(reported, found, strict=True) if v in to_raise],
                method=self.method, path=self.path,
            )
        draft = result.draft
        if self._changes(x, result):
            decision.changed = True
            decision.status = draft.status
            decision.status_line = self._status_line(x, draft)
            decision.headers = list(draft.headers)
            decision.drop_body = draft.dropped
            # Our body replaces the app's: one synthesized where the content was unobserved (and empty),
            # or any repair of content that was observed whole.
            if draft.body_changed and draft.body is not None and (x.body is not None or draft.body):
                decision.replace_body = draft.body
        self._sent_status = decision.status
        self._sent_headers = decision.headers if decision.changed else x.headers
        return decision

    # -- end ----------------------------------------------------------------------------------
    def end(self, total_length: int) -> None:
        """The body has ended: check what was sent (length phase), unless it was already checked whole."""
        x = self.exchange
        decision = self.decision
        if x is None or decision is None or self._complete:
            return
        if decision.drop_body or decision.replace_body is not None:
            return
        policy = self.policy
        found = self._length_phase(total_length)
        if not decision.changed:  # the app's exchange now holds the total, as the length phase saw it
            x.body_length, x.has_body = total_length, total_length > 0
        if not found:
            return
        to_raise = []
        for violation in found:
            action = policy.action(RULES[violation.rule], violation.status)
            if action is Action.OFF:
                continue
            # Nothing can be repaired once the head is sent: a wanted fix is reported as not made.
            taken = "raised" if action is Action.RAISE else "unfixed" if action is Action.FIX else "logged"
            safe = self._report(violation, taken)
            if action is Action.RAISE:
                to_raise.append(safe)
        if to_raise:
            raise StatusViolationError(to_raise, method=self.method, path=self.path)

    def end_ahead(self, total_length: int) -> bool:
        """The body's total length is known before any of it is sent (a body already in memory).

        When the head went out unchanged and the length phase finds nothing to report on that
        total, the response is settled now: True, and ``end`` has nothing left to do (the adapter
        need not count the bytes). Otherwise False, nothing is reported, and ``end`` checks the
        bytes actually sent, as for any body.
        """
        x = self.exchange
        decision = self.decision
        selection = self._selection
        if x is None or decision is None or selection is None or self._complete or decision.changed:
            return False
        if decision.drop_body or decision.replace_body is not None:
            return False
        before = x.body_length, x.has_body
        x.body_length, x.has_body = total_length, total_length > 0
        found = run_rules(selection.length, x)
        if found:
            policy = self.policy
            if any(policy.action(RULES[v.rule], v.status) is not Action.OFF for v in found):
                x.body_length, x.has_body = before
                return False
        self._complete = True
        return True

    # -- verdicts to remember (see memo.py) ---------------------------------------------------
    def verdict(self, *, held: bool = False) -> Verdict | None:
        """What to remember of this response for the next one with the same head, or None.

        ``held``: right after ``begin`` returned True (the head waits for its body; only that is
        remembered). Otherwise right after ``decide``: the decision and its reports, and, unless the
        whole body was decided on, what the length phase will say of the bytes that may follow.
        """
        x = self.exchange
        selection = self._selection
        if x is None or selection is None or self._unrepeatable or x.header_problems or self._entry_secrets:
            return None
        if selection.reads_request:
            return None  # a rule reads the request's headers: the verdict is this request's alone
        if any(name in SENSITIVE_FIELDS for name in x.field_names()):
            return None  # never keep credentials in memory longer than the response
        if sum(len(name) + len(value) for name, value in x.headers) > MAX_KEPT_HEAD:
            return None
        if held:
            return Verdict(None, held=True)
        decision = self.decision
        if decision is None:
            return None
        if self._reports and secrets_of(self.request_headers):
            return None  # the reports were masked with this request's credentials: not for another's
        if self._complete:
            return Verdict(decision, self._reports, empty_ok=True, nonempty_ok=True)
        if decision.drop_body or decision.replace_body is not None:
            return Verdict(decision, self._reports)
        sent = decision.headers if decision.changed else x.headers
        declared = [value for name, value in sent if name.lower() == "content-length"]
        if not declared:
            verdict = Verdict(
                decision, self._reports, empty_ok=self._length_clean(0), nonempty_ok=self._length_clean(1)
            )
        elif len(declared) == 1 and declared[0].isdigit() and declared[0].isascii() and len(declared[0]) <= 18:
            length = int(declared[0])
            verdict = Verdict(decision, self._reports, declared=length, declared_ok=self._length_clean(length))
            # The same verdict holds for any other plain Content-Length unless a rule decided before
            # the body's end reads the value (the length phase is checked on every response anyway).
            verdict.shapeable = not selection.reads_length_value
        else:
            verdict = Verdict(decision, self._reports)  # every total is checked in full at the end
        return None if self._unrepeatable else verdict

    def _length_clean(self, total: int) -> bool:
        """Would ``end(total)`` report nothing? (``end`` without its reports.)"""
        policy = self.policy
        return not any(policy.action(RULES[v.rule], v.status) is not Action.OFF for v in self._length_phase(total))

    def _length_phase(self, total: int) -> Sequence[Violation]:
        """The length-phase violations of the head that went out, had ``total`` body bytes followed it.

        The app's own head is checked on its exchange (restored afterwards) with the selection made
        at ``begin``; a repaired head on an exchange of its own.
        """
        x = self.exchange
        decision = self.decision
        assert x is not None
        assert decision is not None
        if decision.changed:
            sent = Exchange(
                self._sent_status, self._sent_headers, body_length=total, method=x.method,
                request_headers=self._request_loader, http_version=x.http_version, gateway=x.gateway,
            )
            return self.policy.dispatcher.run(sent, _LENGTH_PHASE)
        assert self._selection is not None
        before = x.body_length, x.has_body
        x.body_length, x.has_body = total, total > 0
        try:
            return run_rules(self._selection.length, x)
        finally:
            x.body_length, x.has_body = before

    def resume(self, status: object, headers: Iterable[object], decision: Decision) -> None:
        """Take up a response whose head went out on a remembered verdict, so that ``end`` checks its
        bytes as for any response (the total was not one the verdict foresaw)."""
        self.begin(status, headers)  # the same head: the same selection, not held, nothing raised
        x = self.exchange
        assert x is not None
        self.decision = decision
        self._sent_status = decision.status
        self._sent_headers = decision.headers if decision.changed else x.headers

    # -- helpers ------------------------------------------------------------------------------
    def secrets(self) -> list[str]:
        """The credentials of this exchange (request and response), for masking anything logged."""
        x = self.exchange
        return [*secrets_of(self.request_headers, x.headers if x is not None else ()), *self._entry_secrets]

    def _report(self, violation: Violation, taken: str) -> Violation:
        """Log the violation; return it with credentials masked, the only form that leaves this object.

        The masked form is what the app sees (environ / scope state) and what StatusViolationError
        prints: a rule message that quoted a cookie must not carry it into a test log or a 500 page.
        """
        x = self.exchange
        secrets = [*secrets_of(self.request_headers, x.headers if x is not None else ()), *self._entry_secrets]
        safe = violation._replace(message=redact(violation.message, secrets)) if secrets else violation
        self.violations.append(safe)
        context = ViolationContext(self.method, self.path, violation.status, taken, self.gateway)
        self.reporter.report(safe, context, secrets)
        return safe

    @staticmethod
    def _changes(x: Exchange, result: Repair) -> bool:
        """Does the repaired response differ from the app's in what goes on the wire?

        The fixer flags an invalid WSGI status line as changed whatever the rule's action; unless a
        fix was actually made that alone must not rewrite the line (log mode changes nothing).
        """
        draft = result.draft
        if "field-name-syntax" in result.fixed and any(rule == "field-name-syntax" for rule, _ in x.header_problems):
            return True  # malformed entries were dropped; x.headers never had them, so no comparison can see it
        if result.fixed:
            return result.changed
        return draft.dropped or draft.body_changed or draft.status != x.status or draft.headers != x.headers

    @staticmethod
    def _status_line(x: Exchange, draft: Draft) -> str:
        """The app's own WSGI status line while its code stands and is valid ("200 Fine" stays); else rebuilt."""
        if x.status_line is not None and draft.status == x.status and not draft.status_changed:
            return x.status_line
        # Three digits even for a code under 100 (a status-in-range violation of its own): "000 Unknown".
        return f"{draft.status:03d} {reason_phrase(draft.status)}"

    def _router_methods(self) -> frozenset[str] | None:
        if self._allowed_methods is None:
            return None
        try:
            methods = self._allowed_methods()
            if methods is None:
                return None
            if isinstance(methods, str):  # "GET, POST" is one Allow-style value, not the letters G, E, T...
                methods = [m for m in (part.strip(" \t") for part in methods.split(",")) if m]
            return frozenset(str(m).upper() for m in methods)
        except Exception as exc:
            self.reporter.internal_error("the allowed_methods callable", exc, self.secrets())
            return None

