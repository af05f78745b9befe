"""The fixer: repair a response, then check it again.

Charter: pure, like the checker. Fixes come from the catalogue (each rule owns its repair); this
file only orders them, keeps Content-Length true after a body change (RFC 9110 §8.6, RULES.md
§3), re-checks, and repeats until nothing fixable is left, so that fixing is idempotent and a
fixed response re-checks clean for the rules that were fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .checker import build_exchange
from .dispatch import Gateway
from .model import Draft, Exchange, HeaderInput, Phase, UnknownFact, Violation
from .policy import Action, Policy
from .rules import ADDITIONS, RULES

__all__ = ["FixResult", "Repair", "fix", "repair"]

_ALL_PHASES: tuple[Phase, ...] = ("head", "body", "length")
_MAX_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class FixResult:
    """A repaired response: what to send, which rules were fixed, which violations remain."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes | None
    fixed: tuple[str, ...]
    remaining: tuple[Violation, ...]


@dataclass(slots=True)
class Repair:
    """What ``repair`` decided for one response (the adapters' view of a FixResult)."""

    draft: Draft
    exchange: Exchange  # the repaired response, as re-checked
    found: list[Violation]  # every violation seen before repairing (action not off)
    fixed: list[str]  # ids whose violation is gone after repairing
    remaining: list[Violation]  # violations still present (action not off)
    errors: list[tuple[str, BaseException]]  # fixes that failed with an exception (rule id, error)

    original_status: int = 0
    original_headers: list[tuple[str, str]] | None = None

    @property
    def changed(self) -> bool:
        """Does the response to send differ from the app's? (If not, it passes through untouched.)"""
        draft = self.draft
        return (
            draft.dropped or draft.body_changed or draft.status_changed
            or draft.status != self.original_status or draft.headers != self.original_headers
        )


def _settle_dropped_body(draft: Draft, x: Exchange) -> None:
    """A body dropped for a no-content status (e.g. a 304) that another fix then changed to a status
    with content (e.g. 304 -> 412): the observed body is now simply empty, as if the app had sent
    none, so that later rounds (problem+json) and a second ``fix`` see the same response. An unobserved
    (streamed) body stays dropped: the adapter must still discard it."""
    if not draft.dropped or draft.body is None or x.is_head:
        return
    status = draft.status
    if 100 <= status < 200 or status in (204, 205, 304):
        return
    draft.dropped = False


def _finish_framing(draft: Draft, x: Exchange) -> None:
    """Keep Content-Length true after a body change; never rewrite a HEAD's length (RULES.md §3.2)."""
    if not (draft.body_changed or draft.dropped) or x.is_head:
        return
    if draft.has("transfer-encoding"):
        if draft.body:  # new content, framed by its own Content-Length: the old body's framing goes
            draft.remove("transfer-encoding")
        else:
            # An emptied body stays framed by the app's Transfer-Encoding (a zero-length chunk, RFC 9110
            # §15.3.6); a Content-Length next to it would contradict it (RFC 9112 §6.1).
            draft.remove("content-length")
            return
    status = draft.status
    if 100 <= status < 200 or status == 204:
        draft.remove("content-length")
    elif status == 304:
        draft.remove("content-length")  # it counted the dropped body, not the 200's length
    elif status == 205:
        draft.set("Content-Length", "0")
    elif draft.body is not None:
        draft.set("Content-Length", str(len(draft.body)))
    elif draft.dropped:
        draft.set("Content-Length", "0")


def _recheck(draft: Draft, x: Exchange, policy: Policy, phases: Sequence[Phase]) -> tuple[Exchange, list[Violation]]:
    if draft.dropped:
        has_body: bool | None = False
        length: int | None = 0
    elif draft.body is not None:
        has_body, length = len(draft.body) > 0, len(draft.body)
    else:
        has_body, length = x.has_body, x.body_length
    fixed_x = Exchange(
        draft.status,
        list(draft.headers),
        body=draft.body if not draft.dropped else (b"" if draft.body is not None else None),
        body_length=length,
        has_body=has_body,
        method=x.method,
        request_headers=lambda: x.request_headers,  # read only if a rule needs it (the engine notices)
        http_version=x._http_version,  # unknown stays unknown
        allowed_methods=x.allowed_methods,
        gateway=x.gateway,
        status_line=None if draft.status_changed or x.status_line is None else x.status_line,
        known_methods=x._known_methods,
        final=x._final,
        request_known=x.knows("request_fields"),
    )
    return fixed_x, _active(policy, policy.dispatcher.run(fixed_x, phases))


def _active(policy: Policy, violations: Iterable[Violation]) -> list[Violation]:
    return [v for v in violations if policy.action(RULES[v.rule], v.status) is not Action.OFF]


def repair(
    x: Exchange,
    policy: Policy,
    phases: Sequence[Phase] = _ALL_PHASES,
    found: list[Violation] | None = None,
) -> Repair:
    """Apply every fix whose action is ``fix`` to the violations of ``x``, then re-check."""
    if found is None:
        found = _active(policy, policy.dispatcher.run(x, phases))
    draft = Draft(x.status, list(x.headers), x.body)
    if (
        x.status_line is not None and not _valid_status_line(x.status_line)
        and policy.action(RULES["wsgi-status-string"], x.status) is Action.FIX
    ):
        draft.status_changed = True  # the adapter rebuilds the line as "NNN " + the registered phrase
    errors: list[tuple[str, BaseException]] = []
    tried: set[str] = set()
    current_x, current = x, found
    for _ in range(_MAX_ROUNDS):
        todo = [
            v for v in current
            if v.rule not in tried and RULES[v.rule].fix is not None
            and policy.action(RULES[v.rule], v.status) is Action.FIX
        ]
        if not todo:
            break
        for violation in todo:
            rule = RULES[violation.rule]
            tried.add(rule.id)
            assert rule.fix is not None
            status_before = draft.status
            saved = _snapshot(draft)
            try:
                rule.fix(draft, current_x, policy.options)
            except UnknownFact:  # the fix needs a fact nobody knows: it does nothing (unknown is not absent)
                _restore(draft, saved)
            except Exception as exc:  # a fix must never cost the response: report and go on
                errors.append((rule.id, exc))
            if draft.status != status_before:
                draft.status_changed = True
        _settle_dropped_body(draft, x)
        _finish_framing(draft, x)
        current_x, current = _recheck(draft, x, policy, phases)
    if _apply_hints(draft, x, policy):
        current_x, current = _recheck(draft, x, policy, phases)
    remaining_ids = {v.rule for v in current}
    found_ids = dict.fromkeys(v.rule for v in found)
    fixed = [rule_id for rule_id in found_ids if rule_id in tried and rule_id not in remaining_ids]
    return Repair(draft, current_x, found, fixed, current, errors, x.status, x.headers)


def _snapshot(draft: Draft) -> tuple[object, ...]:
    return (draft.status, list(draft.headers), draft.body, draft.body_changed, draft.dropped, draft.status_changed)


def _restore(draft: Draft, saved: tuple[object, ...]) -> None:
    (draft.status, headers, draft.body, draft.body_changed, draft.dropped, draft.status_changed) = saved  # type: ignore[assignment]
    draft.headers = list(headers)  # type: ignore[call-overload]


def _additions(status: int, has_field: Callable[[str], bool], policy: Policy) -> list[tuple[str, str]]:
    """The configured fields the catalogue's MAY rows (``ADDITIONS``) add to this response."""
    if policy.mode not in ("fix", "strict"):
        return []
    found = []
    for addition in ADDITIONS:
        if status in addition.statuses and not has_field(addition.field.lower()):
            value = getattr(policy.options, addition.option).get(status)
            if value is not None:
                found.append((addition.field, value))
    return found


def wants_hints(status: int, has_field: Callable[[str], bool], policy: Policy) -> bool:
    """Would ``repair`` add a configured value to this response even though it breaks no rule?
    (``has_field``: does the response have this lower-case field.)"""
    return bool(_additions(status, has_field, policy))


def _apply_hints(draft: Draft, x: Exchange, policy: Policy) -> bool:
    """RULES.md's MAY rows that feed fixes (``core/rules`` ``ADDITIONS``: a configured Retry-After on
    429 and 503). Never reported as violations; applied only when the user configured a value."""
    added = _additions(draft.status, draft.has, policy)
    for name, value in added:
        draft.add(name, value)
    return bool(added)


def _valid_status_line(line: str) -> bool:
    code, space, reason = line.partition(" ")
    return len(code) == 3 and code.isdigit() and bool(space) and bool(reason.strip()) and reason.isprintable()


def fix(
    status: int | str | bytes,
    headers: HeaderInput,
    body: bytes | None = None,
    *,
    method: str | bytes = "GET",
    request_headers: HeaderInput | None = None,
    http_version: str | bytes | None = None,
    allowed_methods: Iterable[str] | None = None,
    rules: Mapping[str, str] | None = None,
    gateway: Gateway = None,
    final: bool | None = None,
    **fix_options: Any,
) -> FixResult:
    """Repair one response with the safe fixes RULES.md names; return it with what was fixed.

    Takes ``check``'s arguments plus the fix options (``www_authenticate``, ``retry_after``,
    ``upgrade``, ``blocked_by``, ``login_url``, ``status_map``, ``cache_control``,
    ``known_methods``, ``problem_details``), validated before anything runs. Idempotent:
    ``fix`` on its own result changes nothing. What is not given is unknown, as for ``check``: a
    fix that needs an unknown fact does nothing. The safety contract every fix keeps is in
    docs/rules.md ("Fix safety").
    """
    policy = Policy(mode="fix", rules=rules, **fix_options)
    x = build_exchange(
        status, headers, body, method=method, request_headers=request_headers, http_version=http_version,
        allowed_methods=allowed_methods, gateway=gateway, known_methods=policy.options.known_methods, final=final,
    )
    result = repair(x, policy)
    draft = result.draft
    out_body = draft.body
    if draft.dropped and out_body is not None:
        out_body = b""
    return FixResult(
        status=draft.status,
        headers=list(draft.headers),
        body=out_body,
        fixed=tuple(result.fixed),
        remaining=tuple(result.remaining),
    )
