"""The plugin once it is on: the session's hooks, each test's mode and ignored rules, and the
report (a failing test's section, the terminal summary, the JSON file).

Registered by ``pytest_plugin`` only when statusguard is on; the plugin's ``__init__`` itself
imports nothing of statusguard's, so that a run without ``--statusguard`` pays nothing.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
from collections import Counter
from collections.abc import Generator, Iterable, Sequence
from pathlib import Path
from typing import Final

import pytest

from ..core.model import escape
from ..core.phrases import reason_phrase
from ..core.policy import Action, Policy
from ..core.rules import RULES
from .guard import Guard
from .recorder import Record, Recorder, TestState

__all__ = ["MODES", "SessionPlugin", "marker_options", "validate_rules"]

MODES: Final = ("strict", "log", "off")
_MAX_HEADERS_SHOWN = 16
_SETTLED = ("fixed", "quiet", "raised")  # what an app's own statusguard middleware already dealt with


def validate_rules(patterns: Iterable[object], where: str) -> tuple[str, ...]:
    """Rule ids and globs over them; anything else is a ValueError naming the closest ids."""
    valid: list[str] = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise ValueError(f"{where}: {pattern!r} is not a rule id (a str such as '405-allow')")
        if pattern in RULES or (
            any(char in pattern for char in "*?[") and any(fnmatch.fnmatchcase(rule, pattern) for rule in RULES)
        ):
            valid.append(pattern)
            continue
        close = difflib.get_close_matches(pattern, list(RULES), n=3)
        suggestion = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"{where}: {pattern!r} is not a statusguard rule id nor a glob matching one{suggestion} "
            "(`statusguard rules` lists them)"
        )
    return tuple(valid)


def marker_options(*, ignore: str | Iterable[str] = (), mode: str | None = None) -> tuple[tuple[str, ...], str | None]:
    """The keyword-only signature of ``@pytest.mark.statusguard(ignore=[...], mode="log")``."""
    if isinstance(ignore, str):
        ignore = (ignore,)
    rules = validate_rules(ignore, "ignore")
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode={mode!r} is not a statusguard mode; valid modes: {', '.join(MODES)}")
    return rules, mode


def _item_options(item: pytest.Item, default_mode: str) -> tuple[str, tuple[str, ...]]:
    mode: str | None = None
    ignore: list[str] = []
    for mark in item.iter_markers("statusguard"):  # the closest first
        rules, marked_mode = marker_options(*mark.args, **mark.kwargs)
        ignore.extend(rules)
        if mode is None:
            mode = marked_mode
    return mode or default_mode, tuple(ignore)


_CALL_PASSED = pytest.StashKey[bool]()


class SessionPlugin:
    """Registered by ``pytest_plugin`` only when statusguard is on: every runtime hook lives here."""

    def __init__(
        self, config: pytest.Config, mode: str, source: str, report: str | None, ignore: Sequence[str]
    ) -> None:
        self.config = config
        self.mode = mode
        self.source = source
        self.report_path = Path(config.invocation_params.dir, report) if report else None
        worker = getattr(config, "workerinput", None)  # pytest-xdist: one file per worker, not one clobbered
        if self.report_path is not None and isinstance(worker, dict) and "workerid" in worker:
            path = self.report_path
            self.report_path = path.with_name(f"{path.stem}.{worker['workerid']}{path.suffix}")
        self.ignore = validate_rules(ignore, "statusguard_ignore")
        self.recorder = Recorder(self.ignore)
        self.guard = Guard(self.recorder)
        self._strict = Policy("strict")

    # -- session ----------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.guard.install()

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return [
            f"statusguard: {self.mode} mode (from {self.source}); checking responses of the httpx ASGI/WSGI "
            "transports, Starlette's TestClient, the werkzeug/Flask and Django test clients"
        ]

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        for item in items:
            for mark in item.iter_markers("statusguard"):
                try:
                    marker_options(*mark.args, **mark.kwargs)
                except (TypeError, ValueError) as exc:
                    raise pytest.UsageError(
                        f"{item.nodeid}: @pytest.mark.statusguard: {exc} "
                        "(valid: @pytest.mark.statusguard(ignore=['RULE-ID', ...], mode='strict'|'log'|'off'))"
                    ) from None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.guard.uninstall()
        if self.report_path is not None:
            self.report_path.parent.mkdir(parents=True, exist_ok=True)
            self.report_path.write_text(json.dumps(self.json_report(), indent=2) + "\n", encoding="utf-8")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.guard.uninstall()

    # -- tests ------------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        mode, ignore = _item_options(item, self.mode)
        self.recorder.start(TestState(item.nodeid, mode, ignore))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call" or (report.when == "setup" and not report.passed):
            item.stash[_CALL_PASSED] = report.passed and not hasattr(report, "wasxfail")
            state = self.recorder.current
            if report.failed and state is not None and state.records:
                self._settle(state)
                report.sections.append(("statusguard", self.format(state, state.records, failing=False)))
        return report

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        try:
            yield
        finally:
            state = self.recorder.finish()
            if state is not None:
                self._settle(state)
        if state is not None and item.stash.get(_CALL_PASSED, False):
            failing = [record for record in state.records if record.outcome == "failed"]
            if failing:
                pytest.fail(self.format(state, failing, failing=True), pytrace=False)

    def _settle(self, state: TestState) -> None:
        with self.recorder.lock:
            for record in state.records:
                record.outcome = self._outcome(state, record)

    def _outcome(self, state: TestState, record: Record) -> str:
        if record.expected:
            return "expected"
        if record.action in _SETTLED:
            return record.action
        rule = RULES.get(record.rule)
        if state.mode == "strict" and rule is not None and self._strict.action(rule, record.status) is Action.RAISE:
            return "failed"
        return "reported"

    # -- reporting --------------------------------------------------------------------------------
    def format(self, state: TestState, records: Sequence[Record], *, failing: bool) -> str:
        count = len(records)
        plural = "s" if count != 1 else ""
        if failing:
            lines = [
                f"statusguard: {count} status-code violation{plural} in the responses of this test ({state.mode} mode):"
            ]
        else:
            lines = [f"statusguard saw {count} status-code violation{plural} in the responses of this test:"]
        groups: dict[tuple[str, str, int, tuple[tuple[str, str], ...] | None], list[Record]] = {}
        for record in records:
            groups.setdefault((record.method, record.path, record.status, record.headers), []).append(record)
        for (method, path, status, headers), group in groups.items():
            lines.append("")
            lines.append(f"  {escape(method, 16)} {escape(path, 200)} -> {status} {reason_phrase(status)}")
            if headers is not None:
                shown = "; ".join(f"{name}: {value}" for name, value in headers[:_MAX_HEADERS_SHOWN]) or "(none)"
                more = f" (and {len(headers) - _MAX_HEADERS_SHOWN} more)" if len(headers) > _MAX_HEADERS_SHOWN else ""
                lines.append(f"    response headers: {shown}{more}")
            for record in group:
                note = "" if record.outcome in ("failed", "reported") else f" [{record.outcome}]"
                message = escape(record.message, 300)
                lines.append(f"    [{record.rule}] {record.level} ({record.reference}): {message}{note}")
                lines.append(f"        fix: {record.hint}")
        if state.dropped:
            lines.append(f"  ... and {state.dropped} more violations not kept")
        if failing:
            rules = sorted({record.rule for record in records})
            example = ", ".join(repr(rule) for rule in rules)
            lines += [
                "",
                "If the test means it, say so (statusguard fails MUST and SHOULD violations in strict mode):",
                f"  - around the request: `with statusguard.expect({example}):` (the `statusguard` fixture);",
                f"  - on the test: `@pytest.mark.statusguard(ignore=[{example}])`, "
                "or mode=\"log\" to report without failing;",
                "  - for the whole run: `statusguard = log` in the ini file or `--statusguard=log` "
                f"(`statusguard_ignore = {' '.join(rules)}` ignores the rules everywhere).",
                f"`statusguard explain {rules[0]}` says why the rule exists.",
            ]
        return "\n".join(lines)

    def counts(self) -> Counter[str]:
        return Counter(record.rule for record in self.recorder.all_records())

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
    ) -> None:
        records = self.recorder.all_records()
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "statusguard")
        tests = len(self.recorder.finished)
        outcomes = Counter(record.outcome for record in records)
        detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        write(
            f"{self.mode} mode: {self.recorder.responses} response{'s' if self.recorder.responses != 1 else ''} "
            f"checked, {len(records)} violation{'s' if len(records) != 1 else ''}"
            + (f" in {tests} test{'s' if tests != 1 else ''} ({detail})" if records else "")
        )
        if records:
            levels = {record.rule: record.level for record in records}
            width = max(len(rule) for rule in levels)
            for rule, count in self.counts().most_common():
                write(f"  {rule:<{width}}  {levels[rule]:<10}  {count}")
        if self.report_path is not None:
            write(f"JSON report: {self.report_path}")

    def json_report(self) -> dict[str, object]:
        records = self.recorder.all_records()
        tests: dict[str | None, list[dict[str, object]]] = {}
        for record in records:
            tests.setdefault(record.nodeid, []).append(record.to_json())
        return {
            "version": 1,
            "mode": self.mode,
            "responses_checked": self.recorder.responses,
            "total": len(records),
            "counts": dict(self.counts().most_common()),
            "tests": [{"nodeid": nodeid, "violations": found} for nodeid, found in tests.items()],
        }

