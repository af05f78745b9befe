"""Shared fixtures for the framework integration tests.

Django is configured here, lazily and only for the tests that ask for it (the ``django_client``
fixtures of test_django.py), with settings.configure(): nothing outside tests/contrib is affected
unless a Django test runs, and then only the process-wide settings Django itself insists on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest

from statusguard import Violation, ViolationContext


@dataclass
class Recorder:
    """An ``on_violation`` hook that keeps what it is given."""

    seen: list[tuple[Violation, ViolationContext]] = field(default_factory=list)

    def __call__(self, violation: Violation, context: ViolationContext) -> None:
        self.seen.append((violation, context))

    @property
    def rules(self) -> list[str]:
        return [violation.rule for violation, _ in self.seen]

    def actions(self) -> dict[str, str]:
        return {violation.rule: context.action for violation, context in self.seen}

    def get(self, rule: str) -> Violation:
        for violation, _ in self.seen:
            if violation.rule == rule:
                return violation
        raise AssertionError(f"{rule} was not reported; reported: {self.rules}")

    def clear(self) -> None:
        self.seen.clear()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(autouse=True)
def _no_mode_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A STATUSGUARD_MODE in the developer's shell must not change what these tests check."""
    monkeypatch.delenv("STATUSGUARD_MODE", raising=False)


def starlette_test_client() -> Any:
    """Starlette's TestClient class.

    Starlette 1.x warns, when starlette.testclient is imported, that driving it with httpx is
    deprecated in favour of httpx2, which is not installed here. The warning is about the test
    client's transport, not about anything these tests check, so it is silenced for the import only.
    """
    import starlette.exceptions

    # The class exists from Starlette 1.0; older releases do not warn at all.
    category = getattr(starlette.exceptions, "StarletteDeprecationWarning", DeprecationWarning)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r"Using `httpx` with `starlette\.testclient` is deprecated",
            category=category,
        )
        from starlette.testclient import TestClient
    return TestClient


@pytest.fixture
def sample_file(tmp_path: Any) -> Any:
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello world")
    return path


@dataclass
class WireResponse:
    """What an ASGI app sent, message by message, joined: the response as a server would write it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]


def asgi_call(app: Any, method: str, path: str, headers: tuple[tuple[str, str], ...] = ()) -> WireResponse:
    """Drive an ASGI app with one request and collect what it sends, bytes and all.

    The test clients (httpx) drop a HEAD response's body before a test can look at it; a server
    may not. This shows what reached the server.
    """
    import asyncio

    sent: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # no disconnect while the app is still answering
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in headers)],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80), "state": {},
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return WireResponse(
        start["status"], [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in start["headers"]], body
    )


@pytest.fixture(scope="session")
def django_configured() -> None:
    """Configure Django with tests/contrib/django_settings.py, once, if nobody has yet."""
    django = pytest.importorskip("django")
    pytest.importorskip("rest_framework")
    from django.conf import settings

    from . import django_settings

    if not settings.configured:
        settings.configure(**django_settings.values())
    django.setup()
