"""statusguard benchmarks: per-request overhead against a bare app and a pure pass-through.

Run with the project's test dependencies installed (``pip install -e ".[dev]"``):

    python bench/run.py                 # in-process timings, interleaved, medians (a few minutes)
    python bench/run.py --instructions  # also instruction counts under valgrind (deterministic; slow)
    python bench/run.py --markdown      # print the table in the form bench/README.md keeps
    python bench/run.py --quick         # fewer rounds, for a first look

Every layer (bare app, pure pass-through, statusguard log/fix/strict, werkzeug's LintMiddleware,
wsgiref.validate, Starlette's BaseHTTPMiddleware) runs every scenario in the same process, rounds
interleaved so that they share the machine's noise; the figures are medians. Timings never go into
tests: this script prints the figures and says which targets hold. Two "floor" layers do only the
head look-up (and the length check) that statusguard's hot path cannot avoid, for scale.

Instruction counts are taken by running the same workload twice under ``valgrind --tool=callgrind``
with N and 2N requests (after the same warm-up, with a fixed hash seed) and dividing the difference
by N, which cancels interpreter start-up and first-request costs. They do not depend on the load
of the machine, so the targets are judged on them when they are measured.

The servers (uvicorn, waitress under wrk; the 1 GiB stream) are measured by bench/server.py.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import statusguard
from statusguard.core.dispatch import Dispatcher
from statusguard.core.rule import Reads, Rule

# -- the apps ----------------------------------------------------------------------------------

JSON_BODY = b'{"id": 1, "name": "widget", "tags": ["a", "b"]}'
# name -> (method, status, headers, body chunks, streamed)
SCENARIOS: dict[str, tuple[str, int, list[tuple[str, str]], list[bytes], bool]] = {
    "200-json": ("GET", 200, [("content-type", "application/json"), ("content-length", str(len(JSON_BODY)))],
                 [JSON_BODY], False),
    "404-body": ("GET", 404, [("content-type", "text/plain"), ("content-length", "9")], [b"not found"], False),
    # No Content-Length and no content: fix mode turns it into an RFC 9457 problem+json body.
    "404-empty": ("GET", 404, [("content-type", "text/plain")], [b""], False),
    # The app answers HEAD with the GET body (as many do): statusguard drops it (quietly, even in strict).
    "head": ("HEAD", 200, [("content-type", "application/json"), ("content-length", str(len(JSON_BODY)))],
             [JSON_BODY], False),
    # 64 chunks of 1 KiB, no Content-Length: an iterator (WSGI) or 64 body messages (ASGI).
    "200-stream": ("GET", 200, [("content-type", "text/plain")], [b"x" * 1024] * 64, True),
    # As 200-json, but every request's Content-Length is new (it cycles through 4096 values, more
    # than the verdict memo keeps): decided from the head's shape, as for most JSON API responses.
    "200-json-new-head": ("GET", 200, [("content-type", "application/json")], [JSON_BODY], False),
}
# Scenarios whose Content-Length varies per request (a body padded by 0..4095 spaces, precomputed).
NEW_HEADS = {"200-json-new-head"}
_PADDED = [JSON_BODY + b" " * n for n in range(4096)]


def _heads(scenario: str, encode: bool) -> list[tuple[list[Any], bytes]]:
    """(headers, body) per request for a NEW_HEADS scenario, cycled by the apps."""
    _, _, headers, _, _ = SCENARIOS[scenario]
    out = []
    for body in _PADDED:
        pairs = [*headers, ("content-length", str(len(body)))]
        out.append(([(k.encode(), v.encode()) for k, v in pairs] if encode else [(k.title(), v) for k, v in pairs],
                    body))
    return out


def asgi_app(scenario: str) -> Callable[..., Awaitable[None]]:
    _, status, headers, chunks, _ = SCENARIOS[scenario]
    raw_headers = [(k.encode(), v.encode()) for k, v in headers]
    if scenario in NEW_HEADS:
        heads = _heads(scenario, encode=True)
        turn = iter(range(1 << 62))

        async def fresh(scope: dict[str, Any], receive: Any, send: Any) -> None:
            head, payload = heads[next(turn) % len(heads)]
            await send({"type": "http.response.start", "status": status, "headers": list(head)})
            await send({"type": "http.response.body", "body": payload, "more_body": False})

        return fresh

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        last = len(chunks) - 1
        for index, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": index != last})

    return app


def wsgi_app(scenario: str) -> Callable[..., Iterable[bytes]]:
    _, status, headers, chunks, streamed = SCENARIOS[scenario]
    from statusguard.core.phrases import reason_phrase

    status_line = f"{status} {reason_phrase(status)}"
    native = [(k.title(), v) for k, v in headers]
    if scenario in NEW_HEADS:
        heads = _heads(scenario, encode=False)
        turn = iter(range(1 << 62))

        def fresh(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            head, payload = heads[next(turn) % len(heads)]
            start_response(status_line, list(head))
            return [payload]

        return fresh

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(status_line, list(native))
        return iter(chunks) if streamed else list(chunks)

    return app


# -- the layers --------------------------------------------------------------------------------

# Strict mode would raise on the deliberately wrong scenarios; log them instead (status selectors
# change actions without turning opt-in rules on, so the rule set stays the default one).
_LOG_EVERY_CLASS = {"1xx": "log", "2xx": "log", "3xx": "log", "4xx": "log", "5xx": "log"}
_EXTRA_STATUSES = tuple(s for s in range(100, 600) if s not in (200, 404))
EXTRA_RULES = 1000


def _with_rules_for_other_statuses(middleware: Any) -> Any:
    """The same middleware with EXTRA_RULES more rules, none for the scenarios' statuses (200, 404).

    The target: a rule that does not apply to a status costs that status nothing.
    """
    def never(x: Any) -> str | None:  # pragma: no cover - must never be called for 200/404
        return "called"

    extra = [
        Rule(id=f"bench-extra-{n}", level="MUST", summary="s", reference="r", hint="h", check=never,
             statuses=frozenset({_EXTRA_STATUSES[n % len(_EXTRA_STATUSES)]}),
             reads=Reads(body=("none", "presence", "length")[n % 3]))
        for n in range(EXTRA_RULES)
    ]
    policy = middleware.policy
    policy.dispatcher = Dispatcher([*policy.enabled_rules, *extra])
    return middleware


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


class _WSGIFloorState:
    __slots__ = ("entries", "environ", "found", "server_start_response")

    def start_response(self, status: str, headers: Any, exc_info: Any = None) -> Any:
        environ = self.environ
        key = (status, tuple(headers), environ["REQUEST_METHOD"], environ["SERVER_PROTOCOL"])
        found = self.entries.get(key)
        if found is None:
            found = self.entries[key] = -2  # stands for a remembered verdict
        self.found = found
        return self.server_start_response(status, headers, exc_info)


class WSGIFloor:
    """What the memo's design costs at the least, for scale (no rule, no report, nothing else): the
    head's key looked up in a dict, kept in the cheapest per-request state; with ``length``, also the
    list body's length compared with a number, as statusguard compares it with Content-Length."""

    def __init__(self, app: Any, length: bool = False) -> None:
        self.app, self.length, self.entries = app, length, {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        state = _WSGIFloorState()
        state.entries, state.environ, state.server_start_response = self.entries, environ, start_response
        state.found = None
        result = self.app(environ, state.start_response)
        if self.length and type(result) is list and len(result) == 1 and len(result[0]) == state.found:
            return result  # never true: the comparison is what is measured
        return result


class _ASGIFloorState:
    __slots__ = ("count", "entries", "found", "scope", "sent", "server_send")

    async def send(self, message: dict[str, Any]) -> None:
        if self.found is not None:
            if self.count and message["type"] == "http.response.body":
                self.sent += len(message["body"])
            await self.server_send(message)
            return
        scope = self.scope
        key = (message["status"], tuple(message["headers"]), scope["method"], scope["http_version"])
        found = self.entries.get(key)
        if found is None:
            found = self.entries[key] = -2
        self.found = found
        await self.server_send(message)


class ASGIFloor:
    """The ASGI twin of WSGIFloor: the start's key looked up, then (``length``) each body message counted."""

    def __init__(self, app: Any, length: bool = False) -> None:
        self.app, self.length, self.entries = app, length, {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        state = _ASGIFloorState()
        state.entries, state.scope, state.server_send = self.entries, scope, send
        state.found, state.sent, state.count = None, 0, self.length
        await self.app(scope, receive, state.send)


def asgi_layers() -> dict[str, Callable[[Any], Any]]:
    layers: dict[str, Callable[[Any], Any]] = {
        "bare": lambda app: app,
        "pass-through": ASGIPassThrough,
        "floor: head look-up": ASGIFloor,
        "floor: look-up + length": lambda app: ASGIFloor(app, length=True),
        "statusguard log": lambda app: statusguard.ASGIMiddleware(app, mode="log", log_interval=3600),
        "statusguard fix": lambda app: statusguard.ASGIMiddleware(app, mode="fix", log_interval=3600),
        "statusguard strict": lambda app: statusguard.ASGIMiddleware(
            app, mode="strict", log_interval=3600, rules=_LOG_EVERY_CLASS
        ),
        "fix +1000 other-status rules": lambda app: _with_rules_for_other_statuses(
            statusguard.ASGIMiddleware(app, mode="fix", log_interval=3600)
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
        "floor: head look-up": WSGIFloor,
        "floor: look-up + length": lambda app: WSGIFloor(app, length=True),
        "statusguard log": lambda app: statusguard.WSGIMiddleware(app, mode="log", log_interval=3600),
        "statusguard fix": lambda app: statusguard.WSGIMiddleware(app, mode="fix", log_interval=3600),
        "statusguard strict": lambda app: statusguard.WSGIMiddleware(
            app, mode="strict", log_interval=3600, rules=_LOG_EVERY_CLASS
        ),
        "fix +1000 other-status rules": lambda app: _with_rules_for_other_statuses(
            statusguard.WSGIMiddleware(app, mode="fix", log_interval=3600)
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


def _runner(interface: str) -> Callable[[Any, str, int], float]:
    return run_asgi if interface == "asgi" else run_wsgi


def _apps(interface: str, scenario: str, only: Iterable[str] | None = None) -> dict[str, Any]:
    layers = asgi_layers() if interface == "asgi" else wsgi_layers()
    make = asgi_app if interface == "asgi" else wsgi_app
    return {name: wrap(make(scenario)) for name, wrap in layers.items() if only is None or name in only}


def measure(interface: str, scenario: str, rounds: int, sample_seconds: float,
            only: Iterable[str] | None = None) -> dict[str, float]:
    """Median seconds per request for each layer, rounds interleaved to share the machine's noise.

    Each layer's request count per sample is calibrated once so that a sample lasts about
    ``sample_seconds`` (BaseHTTPMiddleware on a 64-chunk stream is a thousand times slower than a
    bare app on one chunk).
    """
    method = SCENARIOS[scenario][0]
    runner = _runner(interface)
    apps = _apps(interface, scenario, only)
    counts = {}
    for name, app in apps.items():
        runner(app, method, 20)  # warm up caches
        per_request = runner(app, method, 50) / 50
        counts[name] = max(20, min(20000, int(sample_seconds / max(per_request, 1e-7))))
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(rounds):
        for name, app in apps.items():
            gc.collect()
            samples[name].append(runner(app, method, counts[name]) / counts[name])
    return {name: statistics.median(values) for name, values in samples.items()}


# -- instruction counts --------------------------------------------------------------------------

_WARM_UP = 20


def instructions(interface: str, scenario: str, layer: str, count: int) -> float | None:
    """Instructions per request: (callgrind total for 2N requests - for N) / N."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    totals = []
    for n in (count, 2 * count):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "callgrind.out")
            cmd = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
                   "--_worker", interface, scenario, layer, str(n)]
            # A fixed hash seed: start-up and import cost the same in both runs, so the difference is the
            # requests' alone (with a random seed, dict layouts vary by millions of instructions).
            env = {**os.environ, "PYTHONHASHSEED": "0"}
            result = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
            total = next((line for line in result.stderr.splitlines() if "Collected :" in line), None)
            if total is None or result.returncode != 0:
                return None
            totals.append(int(total.rsplit(":", 1)[1].strip()))
    return (totals[1] - totals[0]) / count


def _worker(interface: str, scenario: str, layer: str, count: int) -> None:
    app = _apps(interface, scenario, only=[layer])[layer]
    runner = _runner(interface)
    method = SCENARIOS[scenario][0]
    runner(app, method, _WARM_UP)
    runner(app, method, count)


def count_instructions(jobs: list[tuple[str, str, str]], count: int, workers: int) -> dict[tuple[str, str, str], float]:
    found: dict[tuple[str, str, str], float] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(instructions, *job, count): job for job in jobs}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            job = futures[future]
            value = future.result()
            if value is not None:
                found[job] = value
            print(f"  [{done}/{len(jobs)}] {' / '.join(job)}: "
                  f"{'failed' if value is None else f'{value:,.0f} instructions'}", file=sys.stderr, flush=True)
    return found


# -- report ------------------------------------------------------------------------------------

RATIO_TARGETS = {"200-json": 1.5, "404-body": 2.0, "404-empty": 6.0}  # fix overhead / pass-through overhead
LINT_FRACTION = 10  # fix overhead below LintMiddleware's / 10, every scenario


def _ratio(overhead: float | None, reference: float | None) -> float | None:
    if overhead is None or reference is None or reference <= 0:
        return None
    return overhead / reference


def build_rows(medians: dict[tuple[str, str], dict[str, float]],
               counted: dict[tuple[str, str, str], float]) -> list[dict[str, Any]]:
    rows = []
    for (interface, scenario), by_layer in medians.items():
        bare = by_layer["bare"]
        passthrough = by_layer["pass-through"] - bare
        ins_bare = counted.get((interface, scenario, "bare"))
        ins_pass = counted.get((interface, scenario, "pass-through"))
        ins_pass_overhead = ins_pass - ins_bare if ins_pass is not None and ins_bare is not None else None
        for layer, value in by_layer.items():
            overhead = value - bare
            ins = counted.get((interface, scenario, layer))
            ins_overhead = ins - ins_bare if ins is not None and ins_bare is not None else None
            rows.append({
                "interface": interface, "scenario": scenario, "layer": layer,
                "us_per_request": value * 1e6, "overhead_us": overhead * 1e6,
                "ratio_to_pass_through": _ratio(overhead, passthrough if passthrough > bare * 0.02 else None),
                "instructions": ins, "instructions_overhead": ins_overhead,
                "instructions_ratio_to_pass_through": _ratio(ins_overhead, ins_pass_overhead),
            })
    return rows


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def print_table(rows: list[dict[str, Any]]) -> None:
    print("| interface | scenario | layer | µs/request | overhead µs | x pass-through | instructions/request "
          "| overhead instructions | x pass-through (instructions) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['interface']} | {row['scenario']} | {row['layer']} | {row['us_per_request']:.1f} | "
              f"{row['overhead_us']:.1f} | {_cell(row['ratio_to_pass_through'], '.1f')} | "
              f"{_cell(row['instructions'], ',.0f')} | {_cell(row['instructions_overhead'], ',.0f')} | "
              f"{_cell(row['instructions_ratio_to_pass_through'], '.1f')} |")


def verdicts(rows: list[dict[str, Any]]) -> list[str]:
    """Which targets hold, judged on instruction counts when measured, else on the timing medians."""
    def row(interface: str, scenario: str, layer: str) -> dict[str, Any] | None:
        return next((r for r in rows if (r["interface"], r["scenario"], r["layer"]) == (interface, scenario, layer)),
                    None)

    lines = []
    for interface in ("asgi", "wsgi"):
        for scenario in SCENARIOS:
            fix = row(interface, scenario, "statusguard fix")
            if fix is None:
                continue
            if scenario in NEW_HEADS:
                lines.append(f"{interface} {scenario}: no target (a head known by its shape only, for scale)")
                continue
            use_ins = fix["instructions_overhead"] is not None
            unit = "instructions" if use_ins else "time"
            overhead = fix["instructions_overhead"] if use_ins else fix["overhead_us"]
            ratio = fix["instructions_ratio_to_pass_through"] if use_ins else fix["ratio_to_pass_through"]
            found = []
            limit = RATIO_TARGETS.get(scenario)
            if limit is not None:
                if ratio is None:
                    found.append(f"≤ {limit}x pass-through: not measurable")
                else:
                    found.append(f"≤ {limit}x pass-through: {'holds' if ratio <= limit else 'MISSED'} ({ratio:.1f}x)")
            # The WSGI LintMiddleware is the yardstick for both interfaces (there is no ASGI one).
            lint = row("wsgi", scenario, "werkzeug LintMiddleware")
            if lint is not None:
                lint_overhead = lint["instructions_overhead"] if use_ins else lint["overhead_us"]
                if lint_overhead is not None and overhead is not None:
                    ok = overhead < lint_overhead / LINT_FRACTION
                    found.append(f"< 1/{LINT_FRACTION} of LintMiddleware's overhead: {'holds' if ok else 'MISSED'} "
                                 f"({overhead / lint_overhead:.2f} of it)")
            extra = row(interface, scenario, "fix +1000 other-status rules")
            if extra is not None and scenario in ("200-json", "404-body", "404-empty"):
                if use_ins and extra["instructions"] is not None:
                    moved = extra["instructions"] - fix["instructions"]
                    ok = moved <= max(200.0, 0.01 * fix["instructions"])  # within 1%: GC and cache noise
                    found.append(f"other-status rules cost nothing: {'holds' if ok else 'MISSED'} "
                                 f"({moved:+,.0f} instructions)")
                else:
                    moved_us = extra["us_per_request"] - fix["us_per_request"]
                    found.append(f"other-status rules: {moved_us:+.2f} µs (timing noise; use --instructions)")
            if found:
                lines.append(f"{interface} {scenario} [{unit}]: " + "; ".join(found))
    return lines


def describe_machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return (f"{datetime.date.today().isoformat()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds per scenario (default 9)")
    parser.add_argument("--sample-ms", type=float, default=60.0, help="length of one sample (default 60 ms)")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 20 ms samples")
    parser.add_argument("--instructions", action="store_true", help="also count instructions under callgrind")
    parser.add_argument("--instructions-count", type=int, default=200, metavar="N",
                        help="requests per callgrind run: N and 2N (default 200)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel callgrind runs")
    parser.add_argument("--interface", choices=["asgi", "wsgi"], action="append", help="only these (repeatable)")
    parser.add_argument("--scenario", choices=list(SCENARIOS), action="append", help="only these (repeatable)")
    parser.add_argument("--layer", action="append", metavar="NAME",
                        help="only these layers (repeatable; bare and pass-through always run)")
    parser.add_argument("--markdown", action="store_true", help="(the table is always Markdown; kept for scripts)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--_worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import logging

    logging.getLogger("statusguard").addHandler(logging.NullHandler())
    logging.getLogger("statusguard").propagate = False
    if args._worker:
        interface, scenario, layer, count = args._worker
        _worker(interface, scenario, layer, int(count))
        return 0
    if args.quick:
        args.rounds, args.sample_ms = 3, 20.0
    interfaces = args.interface or ["asgi", "wsgi"]
    scenarios = args.scenario or list(SCENARIOS)
    print(f"statusguard {statusguard.__version__} from {os.path.dirname(statusguard.__file__)}", file=sys.stderr)
    print(f"start: {describe_machine()}", file=sys.stderr)
    started = time.monotonic()
    medians: dict[tuple[str, str], dict[str, float]] = {}
    for interface in interfaces:
        for scenario in scenarios:
            print(f"timing {interface} {scenario}...", file=sys.stderr, flush=True)
            only = None if not args.layer else {"bare", "pass-through", *args.layer}
            medians[(interface, scenario)] = measure(interface, scenario, args.rounds, args.sample_ms / 1000, only)
    counted: dict[tuple[str, str, str], float] = {}
    if args.instructions:
        if shutil.which("valgrind") is None:
            print("valgrind not found: no instruction counts", file=sys.stderr)
        else:
            jobs = [(interface, scenario, layer) for (interface, scenario), by_layer in medians.items()
                    for layer in by_layer]
            print(f"counting instructions: {len(jobs)} layer/scenario pairs, 2 callgrind runs each...", file=sys.stderr)
            counted = count_instructions(jobs, args.instructions_count, args.jobs)
    rows = build_rows(medians, counted)
    print(f"end: {describe_machine()} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    print()
    print_table(rows)
    print()
    for line in verdicts(rows):
        print(line)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"machine": describe_machine(), "rows": rows}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
