"""Shared test configuration: hypothesis profiles and small helpers for the core suite.

Profiles: ``ci`` (the default; reproducible, 200 examples) and ``dev`` (1000 examples, for hunting).
Pick one with ``HYPOTHESIS_PROFILE=dev pytest``.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
RULES_MD = ROOT / "docs" / "spec" / "RULES.md"


# Reliability counts (issue 8: "with their counts printed"): the fuzzers add the examples they ran,
# the fault scenarios are counted as they pass, and the summary prints both at the end of the run.
COUNTS: Counter[str] = Counter()


def pytest_runtest_logreport(report: Any) -> None:
    if report.when == "call" and report.passed and "test_faults.py" in report.nodeid:
        COUNTS["fault scenarios injected and passed"] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if COUNTS:
        terminalreporter.section("statusguard reliability counts")
        for name, count in sorted(COUNTS.items()):
            terminalreporter.write_line(f"{name}: {count}")
