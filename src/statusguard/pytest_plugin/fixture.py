"""The ``statusguard`` fixture: the violations a test caused so far, and ``expect()`` to say that
the test means one (it then does not fail the test)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import overload

import pytest

from ..core.model import Violation
from .recorder import Record
from .session import SessionPlugin, validate_rules

__all__ = ["StatusGuardFixture"]


class StatusGuardFixture(Sequence[Record]):
    """The ``statusguard`` fixture: the violations recorded in this test so far, and ``expect()``."""

    def __init__(self, plugin: SessionPlugin | None, nodeid: str) -> None:
        self._plugin = plugin
        state = plugin.recorder.current if plugin is not None else None
        self._state = state if state is not None and state.nodeid == nodeid else None

    @property
    def enabled(self) -> bool:
        """Is statusguard checking this test's responses (``--statusguard`` on, the test not marked off)?"""
        return self._state is not None and self._state.mode != "off"

    @property
    def mode(self) -> str:
        """This test's effective mode: ``strict``, ``log`` or ``off``."""
        return self._state.mode if self._state is not None else "off"

    def _records(self) -> list[Record]:
        if self._plugin is None or self._state is None:
            return []
        with self._plugin.recorder.lock:
            return list(self._state.records)

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        return self._records()[index]

    def __len__(self) -> int:
        return len(self._records())

    def __iter__(self) -> Iterator[Record]:
        return iter(self._records())

    def __repr__(self) -> str:
        return f"<statusguard fixture ({self.mode}): {self._records()!r}>"

    @property
    def rules(self) -> list[str]:
        """The rule ids of the violations so far, in order (with repeats)."""
        return [record.rule for record in self._records()]

    @property
    def violations(self) -> list[Violation]:
        return [record.violation for record in self._records()]

    @contextmanager
    def expect(self, *rules: str) -> Iterator[list[Record]]:
        """Assert that the block causes a violation of each rule (ids or globs); they then do not fail the test.

        Yields a list that holds the matching records once the block is over. A no-op when statusguard
        is not checking this test (``--statusguard`` not given, or ``mode="off"``).
        """
        if not rules:
            raise TypeError("expect() needs at least one rule id, e.g. statusguard.expect('405-allow')")
        patterns = validate_rules(rules, "expect()")
        matched: list[Record] = []
        if not self.enabled or self._plugin is None or self._state is None:
            yield matched
            return
        state, lock = self._state, self._plugin.recorder.lock
        with lock:
            start = len(state.records)
        yield matched
        missing = []
        with lock:
            new = state.records[start:]
            for pattern in patterns:
                found = [record for record in new if fnmatch.fnmatchcase(record.rule, pattern)]
                if not found:
                    missing.append(pattern)
                for record in found:
                    record.expected = True
                    if record not in matched:
                        matched.append(record)
        if missing:
            seen = ", ".join(sorted({record.rule for record in new})) or "none"
            pytest.fail(
                f"statusguard.expect(): no violation of {', '.join(missing)} in the block "
                f"(violations seen in the block: {seen})",
                pytrace=False,
            )
