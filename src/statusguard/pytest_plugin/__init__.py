"""pytest plugin: ``pytest --statusguard`` checks every response that goes through a test client.

Registered through the ``pytest11`` entry point, so it is loaded in every pytest run where
statusguard is installed: this module imports nothing but pytest and the standard library, and does
nothing unless switched on:

    pytest --statusguard            # strict: a MUST/SHOULD violation fails the test that caused it
    pytest --statusguard=log        # report the violations in the summary, fail nothing
    pytest --statusguard=off        # off, whatever the ini file says
    [pytest] statusguard = strict   # the ini option; the command line wins over it; default: off

When on, the responses of Starlette's/FastAPI's TestClient, httpx's ASGITransport and WSGITransport,
the Flask/werkzeug test client and Django's test Client (and DRF's APIClient) are checked without the
app being touched; see docs/pytest.md. The working part lives in the modules next to this one
(``session``, ``guard``, ``recorder``, ``fixture``), imported only when the plugin is on (or a test
asks for the ``statusguard`` fixture); each framework's test client is patched by its integration
in ``statusguard.contrib``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .fixture import StatusGuardFixture

__all__ = ["MODES", "pytest_addoption", "pytest_configure", "pytest_load_initial_conftests", "statusguard"]

MODES = ("strict", "log", "off")
_PLUGIN_NAME = "statusguard-session"  # the name the runtime plugin object is registered under
_MARKER = (
    "statusguard(*, ignore=(), mode=None): statusguard's checks for this test: ignore=[rule ids or globs] "
    "are not checked; mode='strict'|'log'|'off' overrides --statusguard for the test (see docs/pytest.md)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("statusguard", "statusguard: check the HTTP responses of the test clients (RFC 9110)")
    group.addoption(
        "--statusguard",
        action="store",
        nargs="?",
        const="strict",
        default=None,
        metavar="MODE",
        dest="statusguard",
        help="check every response of the test clients: strict (the default when no MODE is given: a MUST or "
        "SHOULD violation fails the test), log (report only) or off. Overrides the 'statusguard' ini option.",
    )
    group.addoption(
        "--statusguard-report",
        action="store",
        default=None,
        metavar="FILE",
        dest="statusguard_report",
        help="write the violations statusguard found as JSON to FILE (counts per rule, and per test).",
    )
    parser.addini("statusguard", "statusguard's mode when --statusguard is not given: strict, log or off (default)")
    parser.addini(
        "statusguard_ignore", "rule ids (or globs) statusguard never reports in this test suite", type="args",
        default=[],
    )


def _looks_like_a_path(arg: str) -> bool:
    if arg.startswith("-") or arg.lower() in MODES:
        return False
    return "/" in arg or os.sep in arg or "::" in arg or arg.endswith(".py") or os.path.exists(arg)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """``pytest --statusguard tests/`` means strict mode on tests/, not mode 'tests/'."""
    for index, arg in enumerate(args[:-1]):
        if arg == "--statusguard" and _looks_like_a_path(args[index + 1]):
            args[index] = "--statusguard=strict"


def _mode(config: pytest.Config) -> tuple[str, str]:
    """The effective mode and where it came from: the command line, else the ini file, else off."""
    value = config.getoption("statusguard")
    if value is not None:
        source = "--statusguard"
    else:
        value = str(config.getini("statusguard") or "").strip()
        if not value:
            return "off", "default"
        source = f"'statusguard' in {config.inipath.name if config.inipath else 'the ini file'}"
    mode = str(value).strip().lower()
    if mode not in MODES:
        raise pytest.UsageError(
            f"statusguard: {value!r} (from {source}) is not a mode; valid modes: {', '.join(MODES)} "
            "(write --statusguard=MODE on the command line)"
        )
    return mode, source


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)
    mode, source = _mode(config)
    if mode == "off":
        return
    from .session import SessionPlugin

    try:
        plugin = SessionPlugin(
            config, mode, source, config.getoption("statusguard_report"), config.getini("statusguard_ignore")
        )
    except ValueError as exc:
        raise pytest.UsageError(f"statusguard: {exc}") from None
    config.pluginmanager.register(plugin, _PLUGIN_NAME)


@pytest.fixture
def statusguard(request: pytest.FixtureRequest) -> StatusGuardFixture:
    """The status-code violations recorded in this test (a sequence; ``.rules`` lists their ids), and
    ``with statusguard.expect("405-allow"): ...`` to assert one happens (it then does not fail the test)."""
    from .fixture import StatusGuardFixture
    from .session import SessionPlugin

    plugin = request.config.pluginmanager.get_plugin(_PLUGIN_NAME)
    return StatusGuardFixture(plugin if isinstance(plugin, SessionPlugin) else None, request.node.nodeid)
