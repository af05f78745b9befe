"""statusguard benchmarks: per-request overhead against a bare app and a pure pass-through.

Run with the project's test dependencies installed (``pip install -e ".[dev]"``):

    python bench/run.py                 # in-process timings, interleaved, medians (about a minute)
    python bench/run.py --instructions  # also instruction counts under valgrind (deterministic; slow)
    python bench/run.py --markdown      # print the table in the form bench/README.md keeps

Timings never go into tests: this script prints the figures and says which targets hold.
Instruction counts are taken by running the same workload twice under ``valgrind --tool=callgrind``
with N and 2N requests and dividing the difference by N, which cancels interpreter start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import statusguard

# -- the apps ----------------------------------------------------------------------------------

JSON_BODY = b'{"id": 1, "name": "widget", "tags": ["a", "b"]}'
SCENARIOS = {
    "200-json": ("GET", 200, [("content-type", "application/json"), ("content-length", str(len(JSON_BODY)))],
                 [JSON_BODY]),
    "404-body": ("GET", 404, [("content-type", "text/plain"), ("content-length", "9")], [b"not found"]),
    "404-empty": ("GET", 404, [("content-type", "text/plain")], [b""]),
    "head": ("HEAD", 200, [("content-type", "application/json"), ("content-length", str(len(JSON_BODY)))],
             [JSON_BODY]),
    "200-stream": ("GET", 200, [("content-type", "text/plain")], [b"x" * 1024] * 64),
}


def asgi_app(scenario: str) -> Callable[..., Awaitable[None]]:
    _, status, headers, chunks = SCENARIOS[scenario]
    raw_headers = [(k.encode(), v.encode()) for k, v in headers]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        last = len(chunks) - 1
        for index, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": index != last})

    return app


def wsgi_app(scenario: str) -> Callable[..., Iterable[bytes]]:
    _, status, headers, chunks = SCENARIOS[scenario]
    from statusguard._phrases import reason_phrase

    status_line = f"{status} {reason_phrase(status)}"
    native = [(k.title(), v) for k, v in headers]

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(status_line, list(native))
        return list(chunks)

    return app


# -- the layers --------------------------------------------------------------------------------

# Strict mode would raise on the deliberately wrong scenarios; log them instead (status selectors
# change actions without turning opt-in rules on, so the rule set stays the default one).
_LOG_EVERY_CLASS = {"1xx": "log", "2xx": "log", "3xx": "log", "4xx": "log", "5xx": "log"}


class ASGIPassThrough:
    """The physical limit: wrap send and read the status, nothing more."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def wrapped(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, wrapped)


class WSGIPassThrough:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen: list[str] = []

        def wrapped(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen.append(status)
            return start_response(status, headers, exc_info)

        return self.app(environ, wrapped)


def asgi_layers() -> dict[str, Callable[[Any], Any]]:
    layers: dict[str, Callable[[Any], Any]] = {
        "bare": lambda app: app,
        "pass-through": ASGIPassThrough,
        "statusguard log": lambda app: statusguard.ASGIMiddleware(app, mode="log", log_interval=3600),
        "statusguard fix": lambda app: statusguard.ASGIMiddleware(app, mode="fix", log_interval=3600),
        "statusguard strict": lambda app: statusguard.ASGIMiddleware(
            app, mode="strict", log_interval=3600, rules=_LOG_EVERY_CLASS
        ),
    }
    try:
        from starlette.middleware.base import BaseHTTPMiddleware

        class Nothing(BaseHTTPMiddleware):
            async def dispatch(self, request: Any, call_next: Any) -> Any:
                return await call_next(request)

        layers["BaseHTTPMiddleware"] = Nothing
    except ImportError:  # pragma: no cover
        pass
    return layers


def wsgi_layers() -> dict[str, Callable[[Any], Any]]:
    import wsgiref.validate

    layers: dict[str, Callable[[Any], Any]] = {
        "bare": lambda app: app,
        "pass-through": WSGIPassThrough,
        "statusguard log": lambda app: statusguard.WSGIMiddleware(app, mode="log", log_interval=3600),
        "statusguard fix": lambda app: statusguard.WSGIMiddleware(app, mode="fix", log_interval=3600),
        "statusguard strict": lambda app: statusguard.WSGIMiddleware(
            app, mode="strict", log_interval=3600, rules=_LOG_EVERY_CLASS
        ),
        "wsgiref.validate": wsgiref.validate.validator,
    }
    try:
        from werkzeug.middleware.lint import LintMiddleware

        layers["werkzeug LintMiddleware"] = LintMiddleware
    except ImportError:  # pragma: no cover
        pass
    return layers


# -- drivers -----------------------------------------------------------------------------------


def _scope(method: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": "/bench", "raw_path": b"/bench", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"localhost"), (b"accept", b"*/*")], "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80), "state": {},
    }


def run_asgi(app: Any, method: str, count: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    async def loop() -> float:
        start = time.perf_counter()
        for _ in range(count):
            await app(_scope(method), receive, send)
        return time.perf_counter() - start

    return asyncio.run(loop())


def _environ(method: str) -> dict[str, Any]:
    import io

    return {
        "REQUEST_METHOD": method, "PATH_INFO": "/bench", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost",
        "HTTP_ACCEPT": "*/*", "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }


def run_wsgi(app: Any, method: str, count: int) -> float:
    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return None

    start = time.perf_counter()
    for _ in range(count):
        result = app(_environ(method), start_response)
        for _chunk in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return time.perf_counter() - start


def measure(interface: str, scenario: str, rounds: int, count: int) -> dict[str, float]:
    """Median seconds per request for each layer, rounds interleaved to share the machine's noise."""
    method = SCENARIOS[scenario][0]
    layers = asgi_layers() if interface == "asgi" else wsgi_layers()
    make = asgi_app if interface == "asgi" else wsgi_app
    runner = run_asgi if interface == "asgi" else run_wsgi
    apps = {name: wrap(make(scenario)) for name, wrap in layers.items()}
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for name, app in apps.items():
        runner(app, method, max(1, count // 10))  # warm up caches
    for _ in range(rounds):
        for name, app in apps.items():
            gc.collect()
            samples[name].append(runner(app, method, count) / count)
    return {name: statistics.median(values) for name, values in samples.items()}


# -- instruction counts --------------------------------------------------------------------------


def instructions(interface: str, scenario: str, layer: str, count: int) -> float | None:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    totals = []
    for n in (count, 2 * count):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "callgrind.out")
            cmd = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
                   "--_worker", interface, scenario, layer, str(n)]
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            total = next((line for line in result.stderr.splitlines() if "Collected :" in line), None)
            if total is None:
                return None
            totals.append(int(total.rsplit(":", 1)[1].strip()))
    return (totals[1] - totals[0]) / count


def _worker(interface: str, scenario: str, layer: str, count: int) -> None:
    layers = asgi_layers() if interface == "asgi" else wsgi_layers()
    app = layers[layer]((asgi_app if interface == "asgi" else wsgi_app)(scenario))
    (run_asgi if interface == "asgi" else run_wsgi)(app, SCENARIOS[scenario][0], count)


# -- report ------------------------------------------------------------------------------------

TARGETS = {  # scenario -> max ratio of statusguard fix's overhead to the pass-through's
    "200-json": 1.5, "404-body": 2.0, "404-empty": 6.0, "head": None, "200-stream": None,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--_worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import logging

    logging.getLogger("statusguard").addHandler(logging.NullHandler())
    logging.getLogger("statusguard").propagate = False
    if args._worker:
        interface, scenario, layer, count = args._worker
        _worker(interface, scenario, layer, int(count))
        return 0
    rows = []
    for interface in ("asgi", "wsgi"):
        for scenario in SCENARIOS:
            medians = measure(interface, scenario, args.rounds, args.count)
            bare = medians["bare"]
            passthrough = medians["pass-through"] - bare
            for layer, value in medians.items():
                overhead = value - bare
                row: dict[str, Any] = {
                    "interface": interface, "scenario": scenario, "layer": layer,
                    "us_per_request": value * 1e6, "overhead_us": overhead * 1e6,
                    "ratio_to_pass_through": overhead / passthrough if passthrough > 0 else float("nan"),
                }
                if args.instructions and layer in ("bare", "pass-through", "statusguard fix"):
                    row["instructions"] = instructions(interface, scenario, layer, 500)
                rows.append(row)
    _print(rows, args.markdown)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)
    return 0


def _print(rows: list[dict[str, Any]], markdown: bool) -> None:
    header = "| interface | scenario | layer | µs/request | overhead µs | × pass-through |"
    print(header)
    print("|---|---|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['interface']} | {row['scenario']} | {row['layer']} | {row['us_per_request']:.1f} | "
              f"{row['overhead_us']:.1f} | {row['ratio_to_pass_through']:.1f} |")
    print()
    for interface in ("asgi", "wsgi"):
        for scenario, limit in TARGETS.items():
            fix = next(r for r in rows if r["interface"] == interface and r["scenario"] == scenario
                       and r["layer"] == "statusguard fix")
            lint = next((r for r in rows if r["interface"] == interface and r["scenario"] == scenario
                         and r["layer"] == "werkzeug LintMiddleware"), None)
            verdicts = []
            if limit is not None:
                ok = fix["ratio_to_pass_through"] <= limit
                verdicts.append(f"≤ {limit}× pass-through: {'holds' if ok else 'MISSED'} "
                                f"({fix['ratio_to_pass_through']:.1f}×)")
            if lint is not None:
                ok = fix["overhead_us"] <= lint["overhead_us"] / 10
                verdicts.append(f"< 1/10 of LintMiddleware: {'holds' if ok else 'MISSED'}")
            if verdicts:
                print(f"{interface} {scenario}: " + "; ".join(verdicts))


if __name__ == "__main__":
    sys.exit(main())
