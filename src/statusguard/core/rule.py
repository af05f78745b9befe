"""A rule of the catalogue: what is checked, on which responses, how strongly, and how to mend it.

Charter: the shape of a rule and nothing else. The rules themselves live in ``core/rules/``; this
module imports neither them nor anything that runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from .model import SEVERITY, Draft, Example, Exchange, Level, Phase
from .options import FixOptions

__all__ = ["ALL_FIELDS", "Addition", "BodyRead", "Check", "Fix", "Reads", "Rule"]

# What a rule reads of the body, from least to most:
# - "none": nothing (a head-phase rule, decided before any body byte);
# - "presence": whether there is content at all (known from the first body chunk);
# - "content": the bytes themselves, when the whole body was observed (silent otherwise);
# - "length": the total number of bytes sent (known only once the body has ended).
BodyRead = Literal["none", "presence", "content", "length"]
_PHASE_OF_BODY: dict[str, Phase] = {"none": "head", "presence": "body", "content": "body", "length": "length"}
_BODY_READS = frozenset(_PHASE_OF_BODY)

ALL_FIELDS = "*"  # in ``Reads.fields`` / ``Reads.request_fields``: every field (names and values)


@dataclass(frozen=True, slots=True)
class Reads:
    """The facts of an exchange that a rule's check and fix read, beyond the response's status.

    Why it exists: the engine derives from these declarations, and from nothing else, what it must
    know before it can judge a response (hold the head for a body chunk, ask the router) and what a
    remembered verdict depends on (which header values are part of its key, whether it can be
    remembered at all). The catalogue's meta-test (tests/test_rule_reads.py) runs every rule on
    recording facts and fails when a rule reads what it did not declare.

    ``fields`` and ``request_fields`` hold lower-case field names whose presence or values are
    read; ``ALL_FIELDS`` ("*") stands for every field (syntax rules that look at each line).
    """

    fields: AbstractSet[str] = frozenset()
    # Fields whose values it reads only to tell whether they are well-formed: silent on any
    # well-formed value (so a verdict for one such value holds for every other; the meta-test checks).
    syntax: AbstractSet[str] = frozenset()
    field_names: bool = False  # which fields are present and how many lines each has (not their values)
    body: BodyRead = "none"
    method: bool = False
    request_fields: AbstractSet[str] = frozenset()
    router: bool = False  # the methods the router serves at the target (``Exchange.allowed_methods``)
    known_methods: bool = False  # the methods the server implements (``Exchange.known_methods``)
    interface: bool = False  # WSGI or ASGI (``Exchange.gateway``)
    http_version: bool = False
    status_line: bool = False  # the WSGI status line as the app wrote it
    final: bool = False  # whether the app handed the response over as the final one (``Exchange.final``)

    def __post_init__(self) -> None:
        # Declarations are written as set literals: normalise them so that they compare and hash.
        for name in ("fields", "syntax", "request_fields"):
            names = getattr(self, name)
            if isinstance(names, str):
                raise TypeError(f"Reads.{name} takes a collection of field names, not the string {names!r}")
            object.__setattr__(self, name, frozenset(str(n).lower() for n in names))
        if self.body not in _BODY_READS:
            raise ValueError(f"Reads.body={self.body!r}: expected one of {sorted(_BODY_READS)}")

    @property
    def phase(self) -> Phase:
        """When the rule can be decided: ``head`` (before the body), ``body``, ``length`` (after it)."""
        return _PHASE_OF_BODY[self.body]

    @property
    def all_fields(self) -> bool:
        return ALL_FIELDS in self.fields

    @property
    def request(self) -> bool:
        """Does the rule read anything of the request beyond its method?"""
        return bool(self.request_fields)

    def reads_field(self, name: str) -> bool:
        """Does it read the field's value (beyond its syntax)?"""
        return name in self.fields or ALL_FIELDS in self.fields

    def reads_syntax(self, name: str) -> bool:
        """Does it read the field's value, for its syntax alone or more?"""
        return self.reads_field(name) or name in self.syntax or ALL_FIELDS in self.syntax

    def union(self, others: Iterable[Reads]) -> Reads:
        """Everything that this declaration or any of ``others`` reads."""
        merged = [self, *others]
        body = max((reads.body for reads in merged), key=_BODY_ORDER.index)
        return Reads(
            fields=frozenset().union(*(reads.fields for reads in merged)),
            syntax=frozenset().union(*(reads.syntax for reads in merged)),
            field_names=any(reads.field_names for reads in merged),
            body=body,
            method=any(reads.method for reads in merged),
            request_fields=frozenset().union(*(reads.request_fields for reads in merged)),
            router=any(reads.router for reads in merged),
            known_methods=any(reads.known_methods for reads in merged),
            interface=any(reads.interface for reads in merged),
            http_version=any(reads.http_version for reads in merged),
            status_line=any(reads.status_line for reads in merged),
            final=any(reads.final for reads in merged),
        )

    @property
    def unknowable(self) -> frozenset[str]:
        """The declared facts a caller may not know (``model.UNKNOWABLE``): when one of them is unknown,
        a rule that needs it on a response stays silent there (``Exchange.unknown``)."""
        facts = {name for name in ("known_methods", "http_version", "final") if getattr(self, name)}
        if self.request_fields:
            facts.add("request_fields")
        return frozenset(facts)


    def describe(self) -> list[str]:
        """The declaration in words, for ``statusguard rules --json`` and the docs."""
        out = [
            f"response field {name}" if name != ALL_FIELDS else "every response field" for name in sorted(self.fields)
        ]
        out += [
            f"syntax of response field {name}" if name != ALL_FIELDS else "syntax of every response field"
            for name in sorted(self.syntax)
        ]
        if self.body != "none":
            out.append({"presence": "whether there is content", "content": "the content",
                        "length": "the number of bytes sent"}[self.body])
        out += [label for flag, label in (
            (self.field_names, "which response fields are present"), (self.method, "request method"),
            (self.router, "router: allowed methods"),
            (self.known_methods, "server: known methods"), (self.interface, "interface (WSGI/ASGI)"),
            (self.http_version, "HTTP version"), (self.status_line, "WSGI status line"),
            (self.final, "whether the app sent it as the final response"),
        ) if flag]
        out += [f"request field {name}" if name != ALL_FIELDS else "every request field"
                for name in sorted(self.request_fields)]
        return out


# "content" implies the length of what was observed, so it ranks above "length".
_BODY_ORDER: list[str] = ["none", "presence", "length", "content"]
NOTHING = Reads()

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
    reads: Reads = NOTHING  # the facts its check (and its fix) read (see ``Reads``)
    fix_reads: Reads = NOTHING  # what its fix reads beyond ``reads`` (the router for an Allow, say)
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
    def phase(self) -> Phase:
        """Derived from what the rule reads of the body (``Reads.phase``)."""
        return self.reads.phase

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
            "reads": self.reads.describe(),
            "fix_reads": self.fix_reads.describe(),
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


class Addition(NamedTuple):
    """A MAY row of RULES.md that feeds a fix: a field statusguard adds from configuration alone.

    Never a violation (a MAY is an option, not a requirement): in fix and strict modes, a response
    with one of ``statuses`` that lacks ``field`` gets the value configured for its status in the
    fix option ``option`` (a mapping status -> value), and nothing when none is configured.
    """

    id: str  # the RULES.md row, e.g. "429-retry-after"
    statuses: frozenset[int]
    field: str  # as written on the wire, e.g. "Retry-After"
    option: str  # the FixOptions attribute holding {status: value}
