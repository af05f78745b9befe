"""Dispatch: which rules concern a response, and running them.

Charter:
- Rule 1: no I/O, no logging, no framework import, no global state that changes. ``check`` may be
  called from any thread, any event loop, any test.
- Rule 2: total. No input makes it raise: a malformed response is a violation, and a rule whose
  own code fails is skipped (the failure is returned to the caller who wants it, never raised).
  A rule that reads a fact the exchange does not know (``Exchange.unknown``: ``UnknownFact``) is
  silent on that response: unknown is not absent. It can only read facts it declares (``Reads``,
  held by tests/test_rule_reads.py), so it is silent exactly where its verdict would need one.
- Rule 3: dispatch is precomputed. A response costs one look-up by status, one by method, and one
  per header name present; rules that cannot concern the response are never called.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from .model import Exchange, Phase, UnknownFact, Violation
from .rule import Rule
from .rules import OUT_OF_RANGE, RULES

__all__ = ["Dispatcher", "Gateway", "Hints", "Selection", "parse_status", "run_rule", "run_rules"]

Gateway = Literal["wsgi", "asgi"] | None
_PHASES: tuple[Phase, ...] = ("head", "body", "length")


Hints = Callable[[Rule, Exchange], "str | None"]
_Plan = tuple[tuple[Rule, ...], dict[str, tuple[Rule, ...]]]
_MAX_HINTED = 1024
_MAX_SELECTIONS = 4096
_MAX_MEDIA_TYPES = 64

# The checks that only report the entries ``normalise_headers`` left in ``Exchange.header_problems``
# (it names their rules): silent on a response without such entries, so they are not even called then.
_HEADER_PROBLEM_CHECKS = frozenset({RULES["field-name-syntax"].check, RULES["field-value-syntax"].check})
assert all(check(Exchange(200, [("X-A", "1"), ("x-a", "2")])) is None for check in _HEADER_PROBLEM_CHECKS)


_ALL_PHASES = frozenset(_PHASES)
_DECIDE_PHASES = frozenset(("head", "body"))
_LENGTH_PHASE = frozenset(("length",))


class Selection:
    """The rules that concern one kind of response, grouped the way a middleware runs them.

    A selection depends on the status, the method, the gateway, the field names present (in order)
    and, when a rule is restricted to media types, the media type: nothing else. The dispatcher
    keeps one per such key, so that a response like the previous one costs a single look-up. Each
    group keeps the selection's order. The ``*_clean`` groups leave out the checks that only report
    header-list problems, for a response that has none. ``memo`` belongs to the consumer (the
    engine caches its own per-selection facts there).

    What the engine must know, and what a remembered verdict depends on, is derived here from the
    rules' declarations (``Rule.reads`` / ``fix_reads``) and from nothing else:
    - ``asks_router``: a rule's check or fix reads the router's allowed methods;
    - ``reads_request``: a rule's check or fix reads a request header (a verdict then depends on
      the request, so it is never remembered for another one);
    - ``reads_length_value``: a rule decided before the body has ended reads the Content-Length
      value, so a verdict for one value is not one for another (the length phase compares the value
      with the bytes actually sent on every response, see tests/test_rule_reads.py).
    """

    __slots__ = (
        "asks_router", "body", "complete", "complete_clean", "decide", "decide_clean", "head", "length", "memo",
        "reads_length_value", "reads_request", "rules",
    )

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.head = tuple(rule for rule in self.rules if rule.phase == "head")
        self.body = tuple(rule for rule in self.rules if rule.phase == "body")
        self.length = tuple(rule for rule in self.rules if rule.phase == "length")
        self.decide = tuple(rule for rule in self.rules if rule.phase in ("head", "body"))
        self.complete = self.rules
        self.decide_clean = tuple(rule for rule in self.decide if rule.check not in _HEADER_PROBLEM_CHECKS)
        self.complete_clean = tuple(rule for rule in self.rules if rule.check not in _HEADER_PROBLEM_CHECKS)
        self.memo: object = None
        everything = [reads for rule in self.rules for reads in (rule.reads, rule.fix_reads)]
        self.asks_router = any(reads.router for reads in everything)
        self.reads_request = any(reads.request for reads in everything)
        # Only heads without header-list problems are remembered: the syntax checks that report those
        # problems are left out, as in ``decide_clean``.
        self.reads_length_value = any(rule.reads.reads_field("content-length") for rule in self.decide_clean)

    def for_phases(self, phases: Sequence[Phase], clean: bool) -> tuple[Rule, ...]:
        """The rules of these phases (``clean``: the response has no header-list problems), in order."""
        wanted = frozenset(phases)
        if wanted == _ALL_PHASES:
            return self.complete_clean if clean else self.complete
        if wanted == _DECIDE_PHASES:
            return self.decide_clean if clean else self.decide
        if wanted == _LENGTH_PHASE:
            return self.length
        rules = tuple(rule for rule in self.rules if rule.phase in wanted)
        return tuple(rule for rule in rules if rule.check not in _HEADER_PROBLEM_CHECKS) if clean else rules


class Dispatcher:
    """The rules that can concern a response, indexed by status, method and field name, per phase.

    ``hints`` (optional) returns extra remediation text for a rule on an exchange, in the words of
    the framework at hand; the rules ``select`` hands out then carry it, so every violation built
    from them (whichever path builds it) has it.
    """

    __slots__ = (
        "_always", "_by_field", "_by_method", "_by_status", "_cache", "_hinted", "_out_of_range", "_selections",
        "hints", "rules",
    )

    def __init__(self, rules: Iterable[Rule], hints: Hints | None = None) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.hints = hints
        self._hinted: dict[tuple[str, str], Rule] = {}
        by_status: dict[int, list[Rule]] = {}
        by_field: dict[str, list[Rule]] = {}
        by_method: dict[str, list[Rule]] = {}
        always: list[Rule] = []
        out_of_range: list[Rule] = []
        for rule in self.rules:
            if rule.fields is not None:
                for name in rule.fields:
                    by_field.setdefault(name, []).append(rule)
            elif rule.statuses is OUT_OF_RANGE:
                out_of_range.append(rule)
            elif rule.statuses is not None:
                for status in rule.statuses:
                    by_status.setdefault(status, []).append(rule)
            elif rule.methods is not None:
                for method in rule.methods:
                    by_method.setdefault(method, []).append(rule)
            else:
                always.append(rule)
        self._by_status = {status: tuple(rules) for status, rules in by_status.items()}
        self._by_field = {name: tuple(rules) for name, rules in by_field.items()}
        self._by_method = {method: tuple(rules) for method, rules in by_method.items()}
        self._always = tuple(always)
        self._out_of_range = tuple(out_of_range)
        self._cache: dict[tuple[int, str, Gateway], _Plan] = {}
        # (status, method, gateway, field names) -> a Selection, or {media type: Selection} when a rule
        # the field names trigger is restricted to media types.
        self._selections: dict[tuple[int, str, Gateway, tuple[str, ...]], Selection | dict[str | None, Selection]] = {}

    def _plan(self, status: int, method: str, gateway: Gateway) -> _Plan:
        """The rules selected by status and method alone, and the field-triggered rules that can apply
        to them, by field name (cached: a few hundred keys at most)."""
        key = (status, method, gateway)
        found = self._cache.get(key)
        if found is not None:
            return found
        if 100 <= status <= 599:
            candidates = [*self._by_status.get(status, ()), *self._by_method.get(method, ()), *self._always]
        else:
            candidates = [*self._out_of_range, *self._by_method.get(method, ()), *self._always]
        base = tuple(rule for rule in candidates if _applies(rule, status, method, gateway))
        fields = {}
        for name, rules in self._by_field.items():
            applicable = tuple(rule for rule in rules if rule not in base and _applies(rule, status, method, gateway))
            if applicable:
                fields[name] = applicable
        plan = (base, fields)
        if len(self._cache) < 4096:  # methods are attacker-chosen: bound the cache
            self._cache[key] = plan
        return plan

    def select(self, x: Exchange) -> list[Rule]:
        """Every rule that concerns this exchange: one look-up by status and method, one per field name."""
        return list(self.selection(x).rules)

    def selection(self, x: Exchange) -> Selection:
        """``select(x)`` grouped by phase; one cached look-up for a response like an earlier one."""
        index = x._index
        key = (x.status, x.method, x.gateway, tuple(x.field_names() if index is None else index))
        found = self._selections.get(key)
        if found is None:
            found = self._new_selection(key, x)
        if type(found) is dict:
            # Keyed by the first Content-Type value as sent, and by its media type: a media type is its
            # own media type, so both kinds of key agree.
            by_media = found
            values = x.get_all("content-type")
            raw = values[0] if values else None
            found = by_media.get(raw)
            if found is None:
                media_type = x.media_type
                found = by_media.get(media_type)
                if found is None:
                    found = Selection(self._selected_rules(x))
                    if len(by_media) < _MAX_MEDIA_TYPES:
                        by_media[media_type] = found
                if len(by_media) < _MAX_MEDIA_TYPES:  # values are app-chosen (multipart boundaries): bounded
                    by_media[raw] = found
        assert isinstance(found, Selection)
        if self.hints is not None:
            return Selection([self._with_hint(rule, x) for rule in found.rules])
        return found

    def _new_selection(
        self, key: tuple[int, str, Gateway, tuple[str, ...]], x: Exchange
    ) -> Selection | dict[str | None, Selection]:
        _, fields = self._plan(x.status, x.method, x.gateway)
        by_media = any(rule.content_types is not None for name in key[3] for rule in fields.get(name, ()))
        found: Selection | dict[str | None, Selection]
        if by_media:
            found = {x.media_type: Selection(self._selected_rules(x))}
        else:
            found = Selection(self._selected_rules(x))
        if len(self._selections) < _MAX_SELECTIONS:  # methods and field names are client/app-chosen: bound it
            self._selections[key] = found
        return found

    def _selected_rules(self, x: Exchange) -> list[Rule]:
        base, fields = self._plan(x.status, x.method, x.gateway)
        selected = list(base)
        if fields:
            seen: set[Rule] | None = None
            for name in x.field_names():
                rules = fields.get(name)
                if rules is None:
                    continue
                for rule in rules:
                    if rule.content_types is not None and x.media_type not in rule.content_types:
                        continue
                    if seen is None:
                        seen = set(selected)
                    if rule not in seen:
                        seen.add(rule)
                        selected.append(rule)
        return selected

    def _with_hint(self, rule: Rule, x: Exchange) -> Rule:
        assert self.hints is not None
        try:
            extra = self.hints(rule, x)
        except Exception:  # a hint is a courtesy: it never costs the check
            return rule
        if not extra:
            return rule
        key = (rule.id, extra)
        hinted = self._hinted.get(key)
        if hinted is None:
            hinted = dataclasses.replace(rule, hint=f"{rule.hint} {extra}")
            if len(self._hinted) < _MAX_HINTED:
                self._hinted[key] = hinted
        return hinted

    def run(
        self, x: Exchange, phases: Sequence[Phase] = _PHASES, selected: Sequence[Rule] | None = None
    ) -> list[Violation]:
        """Check ``x`` against the selected rules of the given phases (``selected``: a ``select(x)``
        made earlier for the same head). Never raises."""
        if selected is None:
            return list(run_rules(self.selection(x).for_phases(phases, not x.header_problems), x))
        violations = []
        for rule in selected:
            if rule.phase not in phases:
                continue
            violation = run_rule(rule, x)
            if violation is not None:
                violations.append(violation)
        return violations


def _applies(rule: Rule, status: int, method: str, gateway: Gateway) -> bool:
    if rule.statuses is not None:
        in_range = 100 <= status <= 599
        if rule.statuses is OUT_OF_RANGE:
            if in_range:
                return False
        elif status not in rule.statuses:
            return False
    if rule.methods is not None and method not in rule.methods:
        return False
    return rule.gateways is None or (gateway is not None and gateway in rule.gateways)


def run_rules(rules: Iterable[Rule], x: Exchange) -> Sequence[Violation]:
    """``run_rule`` for each rule in turn (the hot loop: one call per rule); an empty tuple when none
    fires (no list to allocate for the common answer)."""
    violations: list[Violation] | None = None
    for rule in rules:
        try:
            message = rule.check(x)
        except UnknownFact:  # the rule needs a fact this exchange does not know: unknown is not absent
            continue
        except Exception:  # pragma: no cover - a rule bug; the property tests hunt for these
            continue
        if message is not None:
            violation = Violation(
                rule.id, rule.level if type(message) is str else getattr(message, "level", rule.level), x.status,
                _one_line(message), rule.reference, rule.hint,
            )
            if violations is None:
                violations = [violation]
            else:
                violations.append(violation)
    return () if violations is None else violations


def run_rule(rule: Rule, x: Exchange) -> Violation | None:
    """One rule on one exchange. A bug in a rule must not become the app's crash: it is skipped."""
    try:
        message = rule.check(x)
    except UnknownFact:  # the rule needs a fact this exchange does not know: it stays silent
        return None
    except Exception:  # pragma: no cover - a rule bug; the property tests hunt for these
        return None
    if message is None:
        return None
    level = rule.level if type(message) is str else getattr(message, "level", rule.level)
    return Violation(rule.id, level, x.status, _one_line(message), rule.reference, rule.hint)


_MAX_MESSAGE = 2000


def _one_line(message: str) -> str:
    """Messages quote facts from the exchange (a method, a status line): they go to logs and exception
    text, so no control character gets through and no value can make them unbounded."""
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    if message.isprintable():
        return message
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in message)


def parse_status(status: object) -> tuple[int, str | None]:
    """``404`` → (404, None); ``'404 Not Found'`` → (404, '404 Not Found'); junk → (0, text).

    The second item is the WSGI status line when one was given, for ``wsgi-status-string``.
    """
    kind = type(status)
    if kind is int:
        return status, None  # type: ignore[return-value]
    if kind is str:
        code = _STATUS_CODES.get(status)  # type: ignore[call-overload]
        if code is not None:
            return code, status  # type: ignore[return-value]
    if isinstance(status, bool):
        return 0, None
    if isinstance(status, int):
        return status, None
    if isinstance(status, bytes | bytearray):
        status = bytes(status).decode("latin-1")
    if isinstance(status, str):
        code = status[:3]
        number = int(code) if len(code) == 3 and code.isdigit() and code.isascii() else 0
        if kind is str and len(_STATUS_CODES) < 256:  # lines are app-chosen: bounded
            _STATUS_CODES[status] = number
        return number, status
    return 0, None


_STATUS_CODES: dict[str, int] = {}  # WSGI status line -> its code
