"""What the pytest plugin records: each violation with the request and response it belongs to,
attributed to the test that was running when the response was checked.

The recorder is one for the process, behind a lock: the app may run in another thread than the
test (Starlette's TestClient runs it in an anyio portal thread), so "the current test" is a
process-wide fact, set at setup and cleared at teardown, not a context variable.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..core.model import Violation, escape
from ..core.rules import RULES
from ..runtime.report import SENSITIVE_FIELDS, ViolationContext

__all__ = ["Record", "Recorder", "TestState"]

_MAX_RECORDS = 1000  # per test: a loop of a million bad requests must not eat the memory
_MAX_EXCHANGES = 500


@dataclass(eq=False)
class Record:
    """One violation seen during a test, with the request and response it belongs to."""

    violation: Violation
    nodeid: str | None
    method: str
    path: str
    action: str  # from ViolationContext: "logged" for the plugin's own checks
    headers: tuple[tuple[str, str], ...] | None  # the response's, when the plugin saw them
    expected: bool = False
    outcome: str = "reported"  # "failed", "expected", "reported", or an action in _SETTLED

    @property
    def rule(self) -> str:
        return self.violation.rule

    @property
    def level(self) -> str:
        return self.violation.level

    @property
    def status(self) -> int:
        return self.violation.status

    @property
    def message(self) -> str:
        return self.violation.message

    @property
    def reference(self) -> str:
        return self.violation.reference

    @property
    def hint(self) -> str:
        return self.violation.hint

    def to_json(self) -> dict[str, object]:
        return {
            "nodeid": self.nodeid,
            "rule": self.rule,
            "level": self.level,
            "status": self.status,
            "method": self.method,
            "path": self.path,
            "message": self.message,
            "reference": self.reference,
            "action": self.action,
            "outcome": self.outcome,
        }

    def __repr__(self) -> str:
        return f"<statusguard {self.rule} {self.method} {escape(self.path, 60)} -> {self.status}>"


@dataclass(eq=False)
class TestState:
    """What the recorder knows about the test that is running."""

    __test__ = False  # not a test class, whatever its name says

    nodeid: str
    mode: str  # the test's effective mode: strict, log or off
    ignore: tuple[str, ...] = ()
    records: list[Record] = field(default_factory=list)
    exchanges: list[tuple[str, str, int, tuple[tuple[str, str], ...]]] = field(default_factory=list)
    dropped: int = 0  # records beyond _MAX_RECORDS

    def ignores(self, rule: str) -> bool:
        return any(fnmatch.fnmatchcase(rule, pattern) for pattern in self.ignore)


class Recorder:
    """Process-wide and thread-safe: the app may run in another thread than the test."""

    def __init__(self, ignore: Sequence[str] = ()) -> None:
        self.lock = threading.Lock()
        self.ignore = tuple(ignore)
        self.current: TestState | None = None
        self.finished: list[TestState] = []  # the tests that recorded something
        self.outside: list[Record] = []  # responses checked while no test was running
        self.responses = 0

    def start(self, state: TestState) -> None:
        with self.lock:
            self.current = state

    def finish(self) -> TestState | None:
        with self.lock:
            state, self.current = self.current, None
            if state is not None and state.records:
                self.finished.append(state)
        return state

    def exchange(self, method: str, path: str, status: int, headers: Iterable[tuple[str, str]]) -> None:
        """A response the plugin checks: counted, and its headers kept for the failure report."""
        shown = tuple(
            (name, "[redacted]" if name.lower() in SENSITIVE_FIELDS else escape(value, 100))
            for name, value in headers
        )
        with self.lock:
            self.responses += 1
            state = self.current
            if state is not None and len(state.exchanges) < _MAX_EXCHANGES:
                state.exchanges.append((method, path, status, shown))

    def on_violation(self, violation: Violation, context: ViolationContext) -> None:
        """The ``on_violation`` hook of the plugin's middlewares (and of the patched Reporter)."""
        if any(fnmatch.fnmatchcase(violation.rule, pattern) for pattern in self.ignore):
            return
        rule = RULES.get(violation.rule)
        if rule is not None and rule.quiet:
            return  # what every stack does and every server repairs (a HEAD body): not the app's bug
        with self.lock:
            state = self.current
            headers = None
            if state is not None:
                if state.mode == "off" or state.ignores(violation.rule):
                    return
                # The response's headers, for the report: the latest exchange of this request (by method,
                # path and status; by method and status alone if the adapter spells the path otherwise).
                key = (context.method, context.path, violation.status)
                for method, path, status, shown in reversed(state.exchanges):
                    if (method, path, status) == key:
                        headers = shown
                        break
                    if headers is None and (method, status) == (key[0], key[2]):
                        headers = shown
            record = Record(
                violation, state.nodeid if state is not None else None, context.method, context.path,
                context.action, headers,
            )
            target = state.records if state is not None else self.outside
            if len(target) < _MAX_RECORDS:
                target.append(record)
            elif state is not None:
                state.dropped += 1

    def all_records(self) -> list[Record]:
        with self.lock:
            return [r for state in self.finished for r in state.records] + list(self.outside)
