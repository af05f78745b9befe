"""The rule catalogue: every check statusguard makes, with its level, source, fix and examples.

Charter:
- Rule 1: every HTTP semantic statusguard enforces lives in this package, next to the RFC section
  it comes from, one module per section of RULES.md. The checker, the fixer and the adapters only
  dispatch; they know no status code.
- Rule 2: a check is a pure function of an ``Exchange`` returning a one-line message (the facts
  seen) or None. It reads only the facts its rule declares (``reads=``; the catalogue's meta-test
  holds every rule to it) and is silent when one of them is not known: a false positive is as bad
  as a miss.
- Rule 3: a fix never guesses. It adds a challenge, Allow, Upgrade, Link or Retry-After only from
  ``FixOptions`` or router knowledge, and it never makes a response that broke no rule differ.
- Rule 4: ids are public, stable and literal strings (RULES.md), so that ``grep`` finds each one.

The ``examples_bad`` / ``examples_good`` of each rule feed both docs/rules.md and the catalogue
tests: each bad example must make its rule fire, each good one must leave it silent.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..rule import Addition, Rule

# The sections, in the catalogue's order (importing one registers its rules, in its order).
from . import caching, client_error, fields, general, informational, problem_details, redirection, server_error, success
from ._base import ADDITIONS as _ADDITIONS
from ._base import OUT_OF_RANGE, REGISTERED

__all__ = ["ADDITIONS", "NOT_CHECKABLE", "OUT_OF_RANGE", "RULES", "RULE_LIST", "SECTIONS"]

# The sections in the catalogue's order (RULES.md's): the order rules are dispatched and documented in.
_ORDER = [
    module.__name__
    for module in (
        general, informational, success, redirection, client_error, server_error, fields, caching, problem_details,
    )
]
_REGISTERED = sorted(REGISTERED, key=lambda entry: _ORDER.index(entry[1]))  # stable within a module

RULE_LIST: tuple[Rule, ...] = tuple(rule for rule, _, _ in _REGISTERED)
RULES: Mapping[str, Rule] = {rule.id: rule for rule in RULE_LIST}
assert len(RULES) == len(RULE_LIST), "duplicate rule id"

# The MAY rows that feed fixes (never violations): a configured field added in fix mode.
ADDITIONS: tuple[Addition, ...] = tuple(_ADDITIONS)

# (section title, its rules) in the catalogue's order, for the generated docs.
SECTIONS: tuple[tuple[str, tuple[Rule, ...]], ...] = tuple(
    (title, tuple(rule for rule, _, section in _REGISTERED if section == title))
    for title in dict.fromkeys(section for _, _, section in _REGISTERED)
)

# Rows of RULES.md that no middleware can check soundly, with the reason; docs/rules.md lists them.
NOT_CHECKABLE: Mapping[str, str] = {
    "head-content-length": "needs the Content-Length a GET would have sent (G); the head-no-content fix "
    "never rewrites the app's value to 0 and never invents one",
    "head-same-headers": "needs the header set a GET would have sent (G)",
    "100-server-managed": "100 Continue is sent by the server before the app runs; WSGI and ASGI apps never see it",
    "103-early-hints": "a MAY: hints are optional; an ASGI app sends them through the early-hint extension",
    "403-may-hide-as-404": "a MAY: answering 404 to hide a forbidden resource is the origin's choice",
    "404-vs-410": "whether an absence is lasting is app knowledge that no response reveals",
    "413-may-close": "a MAY about connection handling, which is the server's",
    "415-accept": "a MAY: Accept on 415 is optional",
    "429-retry-after": "a MAY: statusguard adds a configured retry_after for 429 in fix mode, "
    "never reports its absence",
    "503-retry-after": "a MAY: statusguard adds a configured retry_after for 503 in fix mode, "
    "never reports its absence",
    "507-temporary": "describes client behaviour; the server has nothing to check",
}
