"""The ``statusguard`` command line: audit an app, lint recorded traffic, explain the rules."""

from __future__ import annotations

from .commands import main

__all__ = ["main"]
