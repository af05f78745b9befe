"""Shared test configuration: hypothesis profiles and small helpers for the core suite.

Profiles: ``ci`` (the default; reproducible, 200 examples) and ``dev`` (1000 examples, for hunting).
Pick one with ``HYPOTHESIS_PROFILE=dev pytest``.
"""

from __future__ import annotations

import os
from pathlib import Path

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
