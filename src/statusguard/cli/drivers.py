"""How ``statusguard audit`` calls an app with a probe: a WSGI app in a thread, an ASGI app on one
event loop with its lifespan around the probes, a running server over HTTP.

Each probe runs with a timeout (an app that never answers is reported for that probe, the audit
goes on), an app that raises is reported for the probe that made it raise, and no body is held
beyond ``MAX_BODY`` bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from .. import __version__
from ..core.phrases import reason_phrase
from .probes import UNSAFE_METHODS, Probe, ProbeResult, asgi_scope, wsgi_environ
from .target import describe_exception

__all__ = ["MAX_BODY", "Lifespan", "drive_asgi", "drive_url", "drive_wsgi", "in_thread"]

MAX_BODY = 1 << 20  # a body beyond this is not held: it is checked as "not observed"
_GRACE = 1.0  # seconds an ASGI app gets to return once its response is complete


def in_thread(work: Callable[[], None], timeout: float) -> None:
    """Run ``work`` in a daemon thread; a synchronous app that hangs cannot hang the audit."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="statusguard-audit-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError
    if failure:
        raise failure[0]


def drive_wsgi(app: Any, probe: Probe, host: str, result: ProbeResult) -> None:
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []
    size = 0

    def take(chunk: bytes) -> bool:
        nonlocal size
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(bytes(chunk))
            return True
        return False

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, list(headers)
        def write(chunk: bytes) -> None:  # counted like the iterable's chunks
            take(chunk)

        return write

    environ = wsgi_environ(probe.method, probe.path, probe.headers, host)
    iterable = app(environ, start_response)
    try:
        for chunk in iterable:
            if not take(chunk):
                break  # beyond the cap: stop reading, as a client that went away
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    if "status" not in captured:
        raise RuntimeError("the app never called start_response")
    status_text = str(captured["status"])
    result.status_text = status_text
    result.status = int(status_text[:3]) if status_text[:3].isdigit() else 0
    result.headers = captured["headers"]
    result.body_size = size
    result.body = b"".join(chunks) if size <= MAX_BODY else None
    logged = environ["wsgi.errors"].getvalue() if isinstance(environ["wsgi.errors"], io.StringIO) else ""
    lines = [line.strip() for line in logged.splitlines() if line.strip()]
    if result.status >= 500 and lines:
        result.error = f"the app logged an error: {lines[-1][:300]}"  # Flask: the exception behind its 500


class Lifespan:
    """The ASGI lifespan protocol, as uvicorn's "auto" mode runs it: an app that does not support it is fine."""

    def __init__(self, app: Any, timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        self.state: dict[str, Any] = {}
        self.failure: str | None = None
        self.task: asyncio.Task[Any] | None = None
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def startup(self) -> dict[str, Any]:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        self.task = asyncio.ensure_future(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self._answer()
        if message is not None and message.get("type") == "lifespan.startup.failed":
            self.failure = f"the app's lifespan startup failed: {message.get('message', '')}".rstrip(": ")
        return self.state

    async def _answer(self) -> dict[str, Any] | None:
        assert self.task is not None
        getter = asyncio.ensure_future(self.outbox.get())
        done, _ = await asyncio.wait({getter, self.task}, timeout=self.timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        getter.cancel()
        if self.task in done:
            self.task.exception()  # an app that refuses lifespan scopes (Django) raises: not a failure
            self.task = None
        else:
            self.failure = f"the app's lifespan startup did not finish within {self.timeout:g} s"
        return None

    async def shutdown(self) -> None:
        if self.task is not None and self.task.done():
            if not self.task.cancelled():
                self.task.exception()  # a startup that raised: reported as a note, retrieved here
            return
        if self.task is None:
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self._answer()
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


async def drive_asgi(
    app: Any, probe: Probe, host: str, result: ProbeResult, timeout: float, state: Mapping[str, Any]
) -> None:
    """Call the app with one request; fill ``result`` with what it sent. Raises when it sent no
    response (TimeoutError when it never completed one); an exception after a response (Starlette
    re-raises after sending its 500) is kept in ``result.error`` next to the response."""
    scope = asgi_scope(probe.method, probe.path, probe.headers, host)
    scope["state"] = dict(state)
    start: dict[str, Any] = {}
    chunks: list[bytes] = []
    size = 0
    sent_request = False
    overflow = False
    finished = asyncio.Event()  # the response is complete, or we stopped reading it

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        nonlocal size, overflow
        if overflow:
            raise OSError("statusguard audit: stopped reading the body at the cap")  # as a server does (ASGI 2.4)
        if finished.is_set():
            return
        kind = message.get("type")
        if kind == "http.response.start":
            start.update(message)
        elif kind == "http.response.body":
            if not start:
                raise RuntimeError("the app sent http.response.body before http.response.start")
            body = bytes(message.get("body", b""))
            size += len(body)
            if size <= MAX_BODY:
                chunks.append(body)
            else:
                overflow = True
            if overflow or not message.get("more_body", False):
                finished.set()

    task = asyncio.ensure_future(app(scope, receive, send))
    waiter = asyncio.ensure_future(finished.wait())
    try:
        done, _ = await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            raise TimeoutError
        if not finished.is_set() and task in done:
            task.result()  # the app raised before its response was complete
            if start:
                raise RuntimeError("the app returned before its response body was complete")
        elif not overflow and not task.done():
            # The response is complete: give the app a moment to finish (background tasks).
            await asyncio.wait({task}, timeout=_GRACE)
        if finished.is_set() and not overflow and task.done() and not task.cancelled():
            failure = task.exception()
            if failure is not None:
                result.error = f"after sending its response, the app raised {describe_exception(failure)}"
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        elif not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" at exit
    if not start:
        raise RuntimeError("the app returned without sending http.response.start")
    status = int(start["status"])
    result.status = status
    result.status_text = f"{status} {reason_phrase(status)}"
    result.headers = [(bytes(n).decode("latin-1"), bytes(v).decode("latin-1")) for n, v in start.get("headers", [])]
    result.body_size = size
    result.body = b"".join(chunks) if size <= MAX_BODY else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def drive_url(base: str, probe: Probe, result: ProbeResult, timeout: float) -> None:
    headers = {"User-Agent": f"statusguard-audit/{__version__}", **dict(probe.headers)}
    data = b"" if probe.method in UNSAFE_METHODS else None
    request = urllib.request.Request(base + probe.path, data=data, method=probe.method, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        response: Any = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        response = error
    except urllib.error.URLError as error:
        raise ConnectionError(f"cannot reach {base}: {error.reason}") from None
    with response:
        status = int(getattr(response, "status", None) or response.code)
        reason = str(getattr(response, "reason", "") or "")
        result.headers = list(response.headers.items())
        body = response.read(MAX_BODY + 1) if probe.method != "HEAD" else b""
    result.status = status
    result.status_text = f"{status} {reason}".rstrip()
    result.body_size = len(body)
    result.body = body if len(body) <= MAX_BODY else None
