"""The policy: which action (off, log, fix, raise) each rule gets on each response.

Charter: configuration is parsed and validated here, once, when a middleware or ``fix`` call is
set up; bad configuration raises ``ConfigurationError`` naming the value and what to write
instead. At request time the policy answers one question, ``action(rule, status)``, from a cache.

Selectors, from most to least specific (flake8's DecisionEngine: the most specific wins):
  1. a rule id            "405-allow"
  2. a glob over ids      "405-*", "*-not-storable"  (longer literal text wins between globs)
  3. a status             "429"
  4. a status class       "4xx"
then the mode's default for the rule's level. Rules RULES.md marks opt-in are turned on only by
naming them (by id or glob); a status selector changes the action of rules already on.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any

from .dispatch import Dispatcher, Hints
from .errors import ConfigurationError
from .options import FixOptions
from .rule import Rule
from .rules import RULE_LIST, RULES

__all__ = ["MODES", "Action", "Policy"]

MODES = ("off", "log", "fix", "strict")
ENV_MODE = "STATUSGUARD_MODE"


class Action(StrEnum):
    OFF = "off"
    LOG = "log"
    FIX = "fix"
    RAISE = "raise"



_ACTIONS = {action.value: action for action in Action}
_STATUS_RE = re.compile(r"[1-5][0-9][0-9]")
_CLASS_RE = re.compile(r"[1-5]xx")
_RANK_ID, _RANK_GLOB, _RANK_STATUS, _RANK_CLASS = 4, 3, 2, 1


def resolve_mode(mode: str | None, default: str = "fix") -> str:
    """The explicit mode, else $STATUSGUARD_MODE, else ``default``; validated."""
    source = "mode"
    if mode is None:
        env = os.environ.get(ENV_MODE, "").strip()
        if env:
            mode, source = env.lower(), f"${ENV_MODE}"
        else:
            mode = default
    if mode not in MODES:
        raise ConfigurationError(f"{source}={mode!r} is not a statusguard mode; valid modes: {', '.join(MODES)}")
    return mode


class _Selector:
    __slots__ = ("action", "key", "literal", "rank")

    def __init__(self, key: str, action: Action, rank: int) -> None:
        self.key = key
        self.action = action
        self.rank = rank
        self.literal = len(key.replace("*", "").replace("?", ""))

    def matches(self, rule: Rule, status: int) -> bool:
        if self.rank == _RANK_ID:
            return rule.id == self.key
        if self.rank == _RANK_GLOB:
            return fnmatch.fnmatchcase(rule.id, self.key)
        if self.rank == _RANK_STATUS:
            return status == int(self.key)
        return str(status)[:1] == self.key[0] and 100 <= status <= 599

    def names(self, rule: Rule) -> bool:
        """Does this selector name the rule (and so may turn an opt-in rule on)?"""
        return self.rank in (_RANK_ID, _RANK_GLOB) and self.matches(rule, 0)


def _parse_selectors(rules: Mapping[Any, Any] | None) -> list[_Selector]:
    if rules is None:
        return []
    if not isinstance(rules, Mapping):
        raise ConfigurationError(
            f"rules={rules!r}: expected a mapping of selector to action, e.g. {{'405-allow': 'raise', '5xx': 'log'}}"
        )
    selectors = []
    for key, value in rules.items():
        if not isinstance(key, str):
            key = str(key) if isinstance(key, int) else repr(key)
        action = _ACTIONS.get(value.lower()) if isinstance(value, str) else None
        if action is None:
            raise ConfigurationError(
                f"rules[{key!r}]={value!r} is not an action; valid actions: {', '.join(_ACTIONS)}"
            )
        if key in RULES:
            rule = RULES[key]
            if action is Action.FIX and not rule.fixable:
                raise ConfigurationError(
                    f"rules[{key!r}]='fix', but {key} has no automatic fix; write 'log' or 'raise' "
                    "(`statusguard explain " + key + "` says why)"
                )
            selectors.append(_Selector(key, action, _RANK_ID))
        elif any(char in key for char in "*?["):
            if not any(fnmatch.fnmatchcase(rule.id, key) for rule in RULE_LIST):
                raise ConfigurationError(f"rules[{key!r}]: the glob matches no rule id; see `statusguard rules`")
            selectors.append(_Selector(key, action, _RANK_GLOB))
        elif _STATUS_RE.fullmatch(key):
            selectors.append(_Selector(key, action, _RANK_STATUS))
        elif _CLASS_RE.fullmatch(key):
            selectors.append(_Selector(key, action, _RANK_CLASS))
        else:
            close = difflib.get_close_matches(key, list(RULES), n=3)
            suggestion = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ConfigurationError(
                f"rules[{key!r}] is not a rule id, a glob over ids ('405-*'), a status ('429') or a status "
                f"class ('4xx'){suggestion}"
            )
    return selectors


class Policy:
    """Mode + per-rule selectors + fix options, validated at construction."""

    def __init__(
        self,
        mode: str | None = None,
        rules: Mapping[str, Any] | None = None,
        *,
        default_mode: str = "fix",
        hints: Hints | None = None,
        **fix_options: Any,
    ) -> None:
        if hints is not None and not callable(hints):
            raise ConfigurationError(f"hints={hints!r}: expected a callable (rule, exchange) -> extra text or None")
        self.mode = resolve_mode(mode, default_mode)
        self._selectors = _parse_selectors(rules)
        try:
            self.options = FixOptions.build(**fix_options)
        except TypeError as exc:
            valid = ", ".join(sorted(FixOptions.__dataclass_fields__))
            raise ConfigurationError(f"{exc}; valid fix options: {valid}") from None
        self._cache: dict[tuple[str, int], Action] = {}
        self.enabled_rules: tuple[Rule, ...] = tuple(rule for rule in RULE_LIST if self._may_be_on(rule))
        self.dispatcher = Dispatcher(self.enabled_rules, hints)

    def use_hints(self, hints: Hints | None) -> None:
        """Replace the hint provider (framework integrations install theirs after construction)."""
        self.dispatcher = Dispatcher(self.enabled_rules, hints)

    def on_new_dispatcher(self, watcher: Callable[[Dispatcher], object]) -> None:
        """Call ``watcher`` with the new dispatcher whenever it is replaced (``use_hints``, or an
        assignment), so that what was judged under the old one (the adapters' memo) is dropped at once
        rather than checked on every response."""
        self.__dict__.setdefault("_watchers", []).append(watcher)

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name == "dispatcher":
            for watcher in self.__dict__.get("_watchers", ()):
                watcher(value)

    def _may_be_on(self, rule: Rule) -> bool:
        """Can any response get an action other than off for this rule? (Its dispatcher entry.)"""
        if self.mode == "off":
            return False
        named = [s for s in self._selectors if s.names(rule)]
        if named:
            # An id or glob outranks every status selector, so the most specific one decides.
            return max(named, key=lambda s: (s.rank, s.literal)).action is not Action.OFF
        return rule.enabled_by_default

    def action(self, rule: Rule, status: int) -> Action:
        """The action for ``rule`` on a response with ``status`` (cached)."""
        key = (rule.id, status)
        found = self._cache.get(key)
        if found is None:
            found = self._decide(rule, status)
            if len(self._cache) < 65536:
                self._cache[key] = found
        return found

    def _decide(self, rule: Rule, status: int) -> Action:
        if self.mode == "off":
            return Action.OFF
        matching = [s for s in self._selectors if s.matches(rule, status)]
        if not rule.enabled_by_default and not any(s.names(rule) and s.action is not Action.OFF for s in matching):
            return Action.OFF
        if matching:
            chosen = max(matching, key=lambda s: (s.rank, s.literal))
            if chosen.action is Action.FIX and not rule.fixable:
                return Action.LOG
            return chosen.action
        return self._default(rule)

    def _default(self, rule: Rule) -> Action:
        if self.mode == "log":
            return Action.LOG
        fixable = rule.fixable and rule.fix_by_default
        if self.mode == "fix":
            return Action.FIX if fixable else Action.LOG
        # strict: raise on MUST and SHOULD, except what the stack routinely does and we quietly fix.
        if rule.quiet and fixable:
            return Action.FIX
        return Action.RAISE if rule.level in ("MUST", "SHOULD") else Action.LOG

    def describe(self) -> dict[str, object]:
        """The effective configuration, for report headers and debugging."""
        return {
            "mode": self.mode,
            "rules": {s.key: s.action.value for s in self._selectors},
            "enabled": len(self.enabled_rules),
        }


def iter_rule_ids(selectors: Iterable[str]) -> list[str]:
    """Expand ids and globs to the rule ids they name (CLI helper)."""
    ids: list[str] = []
    for selector in selectors:
        ids.extend(rule.id for rule in RULE_LIST if fnmatch.fnmatchcase(rule.id, selector))
    return ids
