"""Many requests at once through one middleware instance, over real servers on 127.0.0.1.

- uvicorn (a subprocess) serving a raw ASGI app wrapped in ASGIMiddleware(mode="fix"): 500
  concurrent requests from one httpx.AsyncClient, a mix of streamed 200s, empty 404s (held and
  framed), HEADs and 429s, plus 20 requests to one shared path.
- waitress (threads=8, in a thread) serving a raw WSGI app wrapped in WSGIMiddleware(mode="fix"):
  50 concurrent clients doing the same mix.

Each request's path says what the app does (``/empty404/17``), so the violations recorded for a
path must be exactly what that path's response breaks (``statusguard.check`` on what the app
sends is the oracle): the server records every on_violation call as (rule, path), and, after each
response, the rules left in that request's environ / scope state; uvicorn's records are read from
its ``/__violations`` endpoint (outside the middleware). Streams are interleaved on purpose
(sleeps between chunks, a held start waiting while others run), so that any state shared between
requests would show. Dedup: the shared path is logged once per rule however many requests hit it.

Run this file as a script (``python tests/test_concurrency.py uvicorn``) to start the uvicorn
server; it prints its port on the first line of stdout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from statusguard import ASGIMiddleware, WSGIMiddleware, check

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

SRC = Path(__file__).resolve().parent.parent / "src"
CHUNKS = 8
PROBLEM_404 = {"type": "about:blank", "title": "Not Found", "status": 404}
KINDS = ("stream200", "empty404", "empty404cl", "head", "limited")
ASGI_MIX = {"stream200": 200, "empty404": 50, "empty404cl": 50, "head": 100, "limited": 100}  # 500 requests
SHARED = 20  # extra requests to /limited/shared: hooked every time, logged once


def chunk(index: str, number: int) -> bytes:
    return f"{index}:{number}:".encode() + b"x" * 512 + b"\n"


def streamed(index: str) -> bytes:
    return b"".join(chunk(index, k) for k in range(CHUNKS))


# What each kind of app response is, as (status, headers, body): the same for both gateways.
RESPONSES: dict[str, tuple[int, list[tuple[str, str]], bytes]] = {
    "empty404": (404, [("Content-Type", "text/html")], b""),
    "empty404cl": (404, [("Content-Length", "0")], b""),
    "head": (200, [("Content-Type", "text/plain"), ("Content-Length", "11")], b"hello world"),
    "limited": (429, [("Content-Type", "text/plain"), ("Content-Length", "9"), ("Cache-Control", "max-age=60")],
                b"slow down"),
}


def method_of(kind: str) -> str:
    return "HEAD" if kind == "head" else "GET"


def expected_rules(kind: str, gateway: str) -> list[str]:
    """The oracle: what the app's response for ``kind`` breaks (statusguard.check on what it sends)."""
    if kind == "stream200":
        status, headers, body = 200, [("Content-Type", "text/plain")], streamed("0")
    else:
        status, headers, body = RESPONSES[kind]
    return sorted(v.rule for v in check(status, headers, body, method=method_of(kind), gateway=gateway))  # type: ignore[arg-type]


# -- the ASGI server (subprocess) -----------------------------------------------------------------


def build_asgi_app() -> Callable[..., Any]:
    hooked: list[tuple[str, str]] = []
    states: list[tuple[str, list[str]]] = []
    logged: Counter[tuple[str, str]] = Counter()

    class Counting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged[(getattr(record, "rule", "?"), getattr(record, "path", "?"))] += 1

    log = logging.getLogger("statusguard")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(Counting())

    async def app(scope: Any, receive: Any, send: Any) -> None:
        kind, _, index = scope["path"].strip("/").partition("/")
        if kind == "stream200":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            for number in range(CHUNKS):
                await send({"type": "http.response.body", "body": chunk(index, number), "more_body": True})
                await asyncio.sleep(0.001)  # interleave with every other request in flight
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        status, headers, body = RESPONSES[kind]
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in headers]})
        await asyncio.sleep(0.002)  # a held start waits while other requests go through the same middleware
        await send({"type": "http.response.body", "body": body, "more_body": False})

    guarded = ASGIMiddleware(app, mode="fix", on_violation=lambda v, c: hooked.append((v.rule, c.path)))

    async def outer(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/__violations":
            data = json.dumps({"hooked": hooked, "states": states,
                               "logged": [[rule, path, n] for (rule, path), n in logged.items()]}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return
        await guarded(scope, receive, send)
        states.append((scope["path"], [v.rule for v in scope["state"]["statusguard.violations"]]))

    return outer


def serve_uvicorn() -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(build_asgi_app(), http="h11", lifespan="off", log_level="warning", access_log=False,
                            backlog=2048)
    uvicorn.Server(config).run(sockets=[sock])


class UvicornProcess:
    def __init__(self, tmp: Path) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
        env.pop("STATUSGUARD_MODE", None)
        self.stderr_path = tmp / "uvicorn.stderr"
        self.stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, __file__, "uvicorn"], stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"uvicorn did not start: {self.stderr_path.read_text(errors='replace')}")
        self.url = f"http://127.0.0.1:{int(line)}"
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", int(line)), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr.close()


@pytest.fixture
def uvicorn_server(tmp_path: Path) -> Iterator[UvicornProcess]:
    server = UvicornProcess(tmp_path)
    try:
        yield server
    finally:
        server.stop()
    assert server.proc.returncode is not None


# -- the WSGI server (waitress, in a thread) ------------------------------------------------------


class WsgiRecords:
    def __init__(self) -> None:
        self.hooked: list[tuple[str, str]] = []
        self.states: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()


def build_wsgi_app(records: WsgiRecords) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        kind, _, index = environ["PATH_INFO"].strip("/").partition("/")
        if kind == "stream200":
            start_response("200 OK", [("Content-Type", "text/plain")])

            def chunks() -> Iterator[bytes]:
                for number in range(CHUNKS):
                    yield chunk(index, number)
                    time.sleep(0.001)  # let the other threads run through the same middleware

            return chunks()
        status, headers, body = RESPONSES[kind]
        start_response(f"{status} Reason", list(headers))
        time.sleep(0.002)
        return [body] if body else []

    def hook(violation: Any, context: Any) -> None:
        with records.lock:
            records.hooked.append((violation.rule, context.path))

    guarded = WSGIMiddleware(app, mode="fix", on_violation=hook)

    class Recorded:
        """The guarded response, recording the environ's violations once the server has closed it."""

        def __init__(self, result: Iterable[bytes], environ: dict[str, Any]) -> None:
            self.result, self.environ = result, environ

        def __iter__(self) -> Iterator[bytes]:
            return iter(self.result)

        def close(self) -> None:
            try:
                getattr(self.result, "close", lambda: None)()
            finally:
                rules = [v.rule for v in self.environ["statusguard.violations"]]
                with records.lock:
                    records.states.append((self.environ["PATH_INFO"], rules))

    def outer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return Recorded(guarded(environ, start_response), environ)

    return outer


@pytest.fixture
def waitress_server() -> Iterator[tuple[str, WsgiRecords]]:
    import waitress

    records = WsgiRecords()
    server: Any = waitress.create_server(build_wsgi_app(records), host="127.0.0.1", port=0, threads=8,
                                         connection_limit=200, backlog=1024)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", records
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=10)
        assert not thread.is_alive()


# -- the clients ----------------------------------------------------------------------------------


async def one_request(client: httpx.AsyncClient, kind: str, index: str) -> tuple[str, str]:
    """Send one request and check what arrives on the wire; return (kind, path)."""
    path = f"/{kind}/{index}"
    if kind == "stream200":
        async with client.stream("GET", path) as response:
            assert response.status_code == 200
            assert "content-length" not in response.headers  # streamed, not buffered into one body
            received = b"".join([data async for data in response.aiter_raw()])
        assert received == streamed(index), f"{path}: the stream arrived altered"
        return kind, path
    response = await client.request(method_of(kind), path)
    if kind in ("empty404", "empty404cl"):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["content-length"] == str(len(response.content))
        assert json.loads(response.content) == PROBLEM_404
    elif kind == "head":
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == "11"  # the GET's length, never rewritten to 0
    else:
        assert response.status_code == 429
        assert response.headers.get_list("cache-control") == ["no-store"]
        assert response.content == b"slow down"
        assert response.headers["content-length"] == "9"
    return kind, path


def plan_requests(mix: dict[str, int], seed: int) -> list[tuple[str, str]]:
    plan = [(kind, str(index)) for kind, count in mix.items() for index in range(count)]
    plan += [("limited", "shared")] * SHARED
    random.Random(seed).shuffle(plan)
    return plan


def assert_attribution(
    sent: list[tuple[str, str]], hooked: list[tuple[str, str]], states: list[tuple[str, list[str]]], gateway: str
) -> None:
    """Every path's recorded violations are exactly what its own response breaks: none lost, none misplaced."""
    expected = {kind: expected_rules(kind, gateway) for kind in KINDS}
    assert expected["stream200"] == []
    assert "4xx-explain" in expected["empty404"]
    assert "4xx-explain" in expected["empty404cl"]
    assert "head-no-content" in expected["head"]
    assert "429-not-storable" in expected["limited"]
    want_hooked: Counter[tuple[str, str]] = Counter()
    want_states: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for kind, path in sent:
        want_hooked.update((rule, path) for rule in expected[kind])
        want_states[(path, tuple(expected[kind]))] += 1
    assert Counter(hooked) == want_hooked
    # Per request: its environ / scope state holds its own violations only, nothing from a neighbour.
    assert Counter((path, tuple(sorted(rules))) for path, rules in states) == want_states


def test_uvicorn_500_concurrent_requests_each_fixed_and_attributed(
    uvicorn_server: UvicornProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = plan_requests(ASGI_MIX, seed=500)

    async def main() -> list[tuple[str, str]]:
        limits = httpx.Limits(max_connections=len(plan), max_keepalive_connections=len(plan))
        async with httpx.AsyncClient(base_url=uvicorn_server.url, timeout=60, limits=limits) as client:
            return await asyncio.gather(*(one_request(client, kind, index) for kind, index in plan))

    started = time.monotonic()
    sent = asyncio.run(main())
    elapsed = time.monotonic() - started
    records = httpx.get(f"{uvicorn_server.url}/__violations", timeout=30).json()
    hooked = [tuple(pair) for pair in records["hooked"]]
    states = [(path, rules) for path, rules in records["states"]]
    assert len(sent) == len(plan) == 520
    assert len(states) == len(plan)
    assert_attribution(sent, hooked, states, "asgi")  # type: ignore[arg-type]
    # Dedup: each (rule, path) is logged once per interval; the shared path's 20 requests are one line per rule.
    logged = {(rule, path): count for rule, path, count in records["logged"]}
    assert set(logged.values()) == {1}
    assert {(rule, path) for rule, path in hooked} == set(logged)
    shared = sum(1 for rule, path in hooked if path == "/limited/shared")
    assert shared == SHARED * len(expected_rules("limited", "asgi"))
    with capsys.disabled():
        print(f"\n[uvicorn] {len(sent)} requests sent in {elapsed:.1f}s, {len(hooked)} violations recorded, "
              f"{sum(logged.values())} log lines")


def test_waitress_50_concurrent_clients_each_fixed_and_attributed(
    waitress_server: tuple[str, WsgiRecords], capsys: pytest.CaptureFixture[str]
) -> None:
    url, records = waitress_server
    per_client = list(KINDS)  # each client sends one request of every kind
    clients = 50

    async def client_session(client: httpx.AsyncClient, number: int) -> list[tuple[str, str]]:
        order = list(per_client)
        random.Random(number).shuffle(order)
        done = [await one_request(client, kind, f"{number}") for kind in order]
        done.append(await one_request(client, "limited", "shared"))
        return done

    async def main() -> list[tuple[str, str]]:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            sessions = await asyncio.gather(*(client_session(client, n) for n in range(clients)))
        return [item for session in sessions for item in session]

    logged: Counter[tuple[str, str]] = Counter()

    class Counting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged[(getattr(record, "rule", "?"), getattr(record, "path", "?"))] += 1

    handler = Counting(logging.DEBUG)
    log = logging.getLogger("statusguard")
    previous = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        started = time.monotonic()
        sent = asyncio.run(main())
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 10  # the server closes each response after the client has it
        while len(records.states) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)
    with records.lock:
        hooked, states = list(records.hooked), list(records.states)
    assert len(sent) == clients * (len(KINDS) + 1)
    assert len(states) == len(sent)
    assert_attribution(sent, hooked, states, "wsgi")
    assert set(logged.values()) == {1}
    assert {(rule, path) for rule, path in hooked} == set(logged)
    with capsys.disabled():
        print(f"\n[waitress] {len(sent)} requests from {clients} clients in {elapsed:.1f}s, "
              f"{len(hooked)} violations recorded, {sum(logged.values())} log lines")


if __name__ == "__main__":
    if sys.argv[1:] == ["uvicorn"]:
        serve_uvicorn()
    else:
        sys.exit("usage: python tests/test_concurrency.py uvicorn")
