"""statusguard over real servers: requests/s under wrk, a 1 GiB stream's memory and throughput, and
instructions per request inside the server process.

    python bench/server.py                  # requests/s and the stream (about 5 minutes)
    python bench/server.py --instructions   # also the callgrind counts (about 4 minutes more)
    python bench/server.py --part rps       # only uvicorn and waitress under wrk
    python bench/server.py --part stream    # only the 1 GiB stream
    python bench/server.py --part instructions
    python bench/server.py --json out.json  # also write the figures as JSON

Requests/s: uvicorn (one worker, no access log) serving a minimal Starlette app, and waitress
(4 threads) serving a minimal WSGI app, each as the bare app, behind a pure pass-through, and
behind statusguard (fix mode), all three servers up at once on 127.0.0.1 and loaded with ``wrk``
in short interleaved rounds (A, B, C, then B, C, A...); the ratios are medians of the per-round
ratios to the bare app. The server's own CPU time per request is read from /proc as well. Needs
``wrk`` on PATH (``apt-get install wrk``).

Stream: 1 GiB in 64 KiB body messages (Content-Length declared, so statusguard counts every byte
and checks the total at the end) from a raw ASGI app over uvicorn, read by a client that discards
it. Each run starts a fresh server process so that its peak RSS (VmHWM in /proc/<pid>/status)
belongs to that run alone; pass-through, statusguard and bare are interleaved.

Instructions (``--instructions``): each server runs under ``valgrind --tool=callgrind``; its
instruction counter (``callgrind_control -e``) is read after a warm-up, after N and after 2N
sequential keep-alive requests (or 64 KiB chunks of a stream), and the difference of the two
intervals is divided by N. Unlike requests/s on a shared machine, these counts repeat to within a
fraction of a percent; bare / statusguard is the requests/s ratio of a CPU-bound server (kernel
work, such as copying a stream's bytes to the socket, is not counted: for the stream this ratio is
a pessimistic bound).

Everything listens on 127.0.0.1 only, every wait is bounded, each server process exits by itself
after --server-lifetime seconds even if this script dies, and this script stops the servers it
started when it ends.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

VARIANTS = ("bare", "pass-through", "statusguard")
ITEM = b'{"id":1,"name":"widget","tags":["a","b"]}'
STREAM_CHUNK = 64 * 1024
STREAM_TOTAL = 1 << 30  # 1 GiB


# -- the apps (built in the server process) -------------------------------------------------------


def asgi_app(variant: str) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def item(request: Request) -> Response:
        return Response(ITEM, media_type="application/json")

    starlette = Starlette(routes=[Route("/item", item)])
    chunk = b"x" * STREAM_CHUNK
    count = STREAM_TOTAL // STREAM_CHUNK

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/stream":
            # ?chunks=N streams N chunks instead of 1 GiB (the instruction counts use short streams)
            query = scope.get("query_string", b"")
            chunks = int(query.partition(b"chunks=")[2] or count) if query.startswith(b"chunks=") else count
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"application/octet-stream"),
                (b"content-length", str(chunks * STREAM_CHUNK).encode()),
            ]})
            for _ in range(chunks - 1):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": chunk, "more_body": False})
            return
        await starlette(scope, receive, send)

    return _wrap(app, variant, "asgi")


def wsgi_app(variant: str) -> Any:
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(ITEM)))]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") != "/item":
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
            return [b"not found"]
        start_response("200 OK", list(headers))
        return [ITEM]

    return _wrap(app, variant, "wsgi")


def _wrap(app: Any, variant: str, interface: str) -> Any:
    from run import ASGIPassThrough, WSGIPassThrough

    import statusguard

    if variant == "bare":
        return app
    if variant == "pass-through":
        return ASGIPassThrough(app) if interface == "asgi" else WSGIPassThrough(app)
    if variant == "statusguard":
        middleware = statusguard.ASGIMiddleware if interface == "asgi" else statusguard.WSGIMiddleware
        return middleware(app, mode="fix")
    raise SystemExit(f"unknown variant {variant!r}")


def serve(server: str, variant: str, port: int, lifetime: float) -> None:
    """Run one server in this process until killed, or until ``lifetime`` seconds have passed."""
    timer = threading.Timer(lifetime, lambda: os._exit(3))  # stops by itself, whatever happens to the parent
    timer.daemon = True
    timer.start()
    import logging

    logging.getLogger("statusguard").setLevel(logging.WARNING)
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(asgi_app(variant), host="127.0.0.1", port=port, workers=1, access_log=False,
                    log_level="warning", lifespan="off")
    elif server == "waitress":
        import waitress

        waitress.serve(wsgi_app(variant), host="127.0.0.1", port=port, threads=4, _quiet=True)
    else:
        raise SystemExit(f"unknown server {server!r}")


# -- process control ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, server: str, variant: str, lifetime: float) -> None:
        self.server, self.variant = server, variant
        self.port = _free_port()
        # The server's log goes to a file, never to a pipe nobody reads: waitress warns on every queued
        # task, and a full pipe would block the server in the middle of the measurement.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--_serve", server, variant, str(self.port), str(lifetime)],
            stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True,
        )
        self._wait_ready()

    def log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.server} ({self.variant}) exited: {self.log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.server} ({self.variant}) did not listen within {timeout} s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (all its threads)."""
        with open(f"/proc/{self.process.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_kib(self) -> int | None:
        try:
            with open(f"/proc/{self.process.pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # this one process, by its id
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@contextlib.contextmanager
def running(servers: list[tuple[str, str]], lifetime: float) -> Iterator[dict[tuple[str, str], Server]]:
    started: dict[tuple[str, str], Server] = {}
    try:
        for server, variant in servers:
            started[(server, variant)] = Server(server, variant, lifetime)
        yield started
    finally:
        for process in started.values():
            process.stop()


def _get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# -- requests/s under wrk ----------------------------------------------------------------------

_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_REQUESTS = re.compile(r"(\d+) requests in")


def wrk(url: str, seconds: float, connections: int) -> tuple[float, int]:
    """(requests/s, requests completed) of one wrk run."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=False)
    found = _RPS.search(result.stdout)
    count = _REQUESTS.search(result.stdout)
    if result.returncode != 0 or found is None or count is None or float(found.group(1)) <= 0:
        raise RuntimeError(f"wrk failed: {result.stdout[-500:]} {result.stderr[-500:]}")
    if "Non-2xx" in result.stdout or "Socket errors" in result.stdout:
        print(f"  warning: {url}: {' '.join(result.stdout.split())[-200:]}", file=sys.stderr)
    return float(found.group(1)), int(count.group(1))


def _loaded(process: Server, seconds: float, connections: int) -> tuple[float, float]:
    """One wrk round against ``process``: (requests/s, server CPU µs per request)."""
    before = process.cpu_seconds()
    rate, count = wrk(process.url + "/item", seconds, connections)
    return rate, (process.cpu_seconds() - before) / count * 1e6


def requests_per_second(rounds: int, seconds: float, connections: int, lifetime: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for server in ("uvicorn", "waitress"):
        print(f"{server}: {rounds} interleaved rounds of {seconds:g} s per variant...", file=sys.stderr, flush=True)
        with running([(server, variant) for variant in VARIANTS], lifetime) as servers:
            for variant, process in ((v, servers[(server, v)]) for v in VARIANTS):
                status, body = _get(process.port, "/item")
                if status != 200 or body != ITEM:
                    raise RuntimeError(f"{server} {variant}: GET /item -> {status} {body[:100]!r}")
                wrk(process.url + "/item", 1.0, connections)  # warm up
            samples: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
            cpu: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
            for index in range(rounds):
                order = VARIANTS[index % len(VARIANTS):] + VARIANTS[:index % len(VARIANTS)]
                for variant in order:
                    rate, cpu_us = _loaded(servers[(server, variant)], seconds, connections)
                    samples[variant].append(rate)
                    cpu[variant].append(cpu_us)
        ratios = {
            variant: statistics.median(a / b for a, b in zip(samples[variant], samples["bare"], strict=True))
            for variant in VARIANTS
        }
        results[server] = {
            variant: {
                "median_rps": statistics.median(values), "samples": values, "ratio_to_bare": ratios[variant],
                # The server's own CPU time per request: much less sensitive than requests/s to what else
                # runs on the machine; bare / variant estimates the requests/s ratio of a CPU-bound server.
                "cpu_us_per_request": statistics.median(cpu[variant]), "cpu_samples": cpu[variant],
            }
            for variant, values in samples.items()
        }
    return results


# -- instructions per request inside the server process ----------------------------------------


def _callgrind_total(pid: int) -> int:
    """The running callgrind's instruction counter, summed over the server's threads."""
    out = subprocess.run(["callgrind_control", "-e", str(pid)], capture_output=True, text=True, timeout=60,
                         check=False).stdout
    found = re.findall(r"Th\s+\d+\s+([\d,]+)", out)
    if not found:
        raise RuntimeError(f"callgrind_control -e {pid}: {out[-500:]}")
    return sum(int(value.replace(",", "")) for value in found)


def _sequential_requests(port: int, count: int) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for _ in range(count):
            connection.request("GET", "/item")
            response = connection.getresponse()
            if response.read() != ITEM:
                raise RuntimeError("unexpected body")
    finally:
        connection.close()


def _stream_chunks(port: int, count: int) -> None:
    received, _ = read_stream(port, timeout=600.0, chunks=count)
    if received != count * STREAM_CHUNK:
        raise RuntimeError(f"received {received} bytes, expected {count * STREAM_CHUNK}")


def server_instructions_one(server: str, variant: str, count: int, lifetime: float, what: str = "requests") -> float:
    """Instructions the server process spends per request (keep-alive, one request at a time), or
    per 64 KiB chunk of a stream (``what="chunks"``).

    The server runs under ``valgrind --tool=callgrind``; its counter is read after a warm-up, after
    N and after 2N more requests (chunks), and the difference of the two intervals is divided by N,
    which cancels what the server does regardless of the work (its event loop's timers, a stream's
    own start)."""
    work = _sequential_requests if what == "requests" else _stream_chunks
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        process = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={os.path.join(tmp, 'out.%p')}", sys.executable,
             os.path.abspath(__file__), "--_serve", server, variant, str(port), str(lifetime)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{server} ({variant}) under valgrind exited")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{server} ({variant}) under valgrind did not listen")
                time.sleep(0.5)
            work(port, 50)
            first = _callgrind_total(process.pid)
            work(port, count)
            second = _callgrind_total(process.pid)
            work(port, 2 * count)
            third = _callgrind_total(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    return ((third - second) - (second - first)) / count


def server_instructions(count: int, lifetime: float, jobs: int) -> dict[str, dict[str, float]]:
    """{"uvicorn": {variant: per request}, "waitress": {...}, "uvicorn stream": {variant: per 64 KiB chunk}}"""
    import concurrent.futures

    jobs_list = [(server, variant, "requests") for server in ("uvicorn", "waitress") for variant in VARIANTS]
    jobs_list += [("uvicorn", variant, "chunks") for variant in VARIANTS]
    results: dict[str, dict[str, float]] = {"uvicorn": {}, "waitress": {}, "uvicorn stream": {}}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(server_instructions_one, server, variant, count, lifetime, what): (server, variant, what)
                   for server, variant, what in jobs_list}
        for future in concurrent.futures.as_completed(futures):
            server, variant, what = futures[future]
            key = server if what == "requests" else f"{server} stream"
            results[key][variant] = future.result()
            unit = "request" if what == "requests" else "64 KiB chunk"
            print(f"  {key} {variant}: {results[key][variant]:,.0f} instructions per {unit}",
                  file=sys.stderr, flush=True)
    return results


# -- the 1 GiB stream --------------------------------------------------------------------------


def read_stream(port: int, timeout: float, chunks: int | None = None) -> tuple[int, float]:
    """GET /stream, discard the body; (body bytes, seconds from request to last byte)."""
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    target = b"/stream" if chunks is None else b"/stream?chunks=%d" % chunks
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        start = time.perf_counter()
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            got = sock.recv(65536)
            if not got:
                raise RuntimeError("the server closed before the head")
            head += got
        head, _, rest = head.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"unexpected head: {head[:200]!r}")
        received = len(rest)
        while True:
            got = sock.recv_into(view)
            if not got:
                break
            received += got
        return received, time.perf_counter() - start


def stream(rounds: int, lifetime: float) -> dict[str, Any]:
    variants = ("pass-through", "statusguard", "bare")
    samples: dict[str, dict[str, list[float]]] = {
        v: {"peak_rss_mib": [], "mib_per_s": [], "cpu_s_per_gib": []} for v in variants
    }
    for index in range(rounds):
        order = variants[index % len(variants):] + variants[:index % len(variants)]
        for variant in order:
            with running([("uvicorn", variant)], lifetime) as servers:
                process = servers[("uvicorn", variant)]
                cpu_before = process.cpu_seconds()
                received, seconds = read_stream(process.port, timeout=120.0)
                if received != STREAM_TOTAL:
                    raise RuntimeError(f"{variant}: received {received} bytes, expected {STREAM_TOTAL}")
                cpu = process.cpu_seconds() - cpu_before
                peak = process.peak_rss_kib()
            samples[variant]["peak_rss_mib"].append((peak or 0) / 1024)
            samples[variant]["mib_per_s"].append(received / (1 << 20) / seconds)
            samples[variant]["cpu_s_per_gib"].append(cpu)
            print(f"  stream round {index + 1} {variant}: {received / (1 << 20) / seconds:,.0f} MiB/s, "
                  f"peak RSS {(peak or 0) / 1024:.1f} MiB, server CPU {cpu:.2f} s", file=sys.stderr, flush=True)
    result: dict[str, Any] = {}
    for variant in variants:
        result[variant] = {
            "peak_rss_mib": statistics.median(samples[variant]["peak_rss_mib"]),
            "mib_per_s": statistics.median(samples[variant]["mib_per_s"]),
            "cpu_s_per_gib": statistics.median(samples[variant]["cpu_s_per_gib"]),
            "samples": samples[variant],
        }
    return result


# -- report ------------------------------------------------------------------------------------


def describe_machine() -> str:
    load = os.getloadavg()
    return (f"{datetime.date.today().isoformat()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def report(rps: dict[str, Any] | None, streamed: dict[str, Any] | None,
           counted: dict[str, dict[str, float]] | None = None) -> list[str]:
    lines = []
    if counted:
        print("| server | app | instructions in the server process | overhead vs bare | "
              "bare / this (CPU-bound throughput ratio) |")
        print("|---|---|---:|---:|---:|")
        for server, by_variant in counted.items():
            bare = by_variant["bare"]
            unit = "per 64 KiB chunk" if server.endswith("stream") else "per request"
            for variant in VARIANTS:
                value = by_variant[variant]
                print(f"| {server} | {variant} | {value:,.0f} {unit} | {value - bare:+,.0f} | {bare / value:.3f} |")
        print()
        for server in ("uvicorn", "waitress"):
            by_variant = counted[server]
            ratio = by_variant["bare"] / by_variant["statusguard"]
            target = "target" if server == "uvicorn" else "for reference"
            lines.append(f"{server}: by instructions per request, statusguard would serve {ratio:.3f}x the bare app's "
                         f"requests/s when CPU-bound ({target} ≥ 0.97x: {'holds' if ratio >= 0.97 else 'MISSED'})")
        by_variant = counted["uvicorn stream"]
        ratio = by_variant["pass-through"] / by_variant["statusguard"]
        lines.append(f"stream: by instructions per chunk, statusguard would stream {ratio:.3f}x the pass-through's "
                     f"throughput when CPU-bound (target ≥ 0.97x: {'holds' if ratio >= 0.97 else 'MISSED'})")
    if rps:
        print("| server | app | requests/s (median) | x bare (median of rounds) | server CPU µs/request (median) "
              "| bare CPU / this CPU | requests/s per round |")
        print("|---|---|---:|---:|---:|---:|---|")
        for server, by_variant in rps.items():
            bare_cpu = by_variant["bare"]["cpu_us_per_request"]
            for variant, data in by_variant.items():
                rounds = ", ".join(f"{value:,.0f}" for value in data["samples"])
                print(f"| {server} | {variant} | {data['median_rps']:,.0f} | {data['ratio_to_bare']:.3f} | "
                      f"{data['cpu_us_per_request']:.0f} | {bare_cpu / data['cpu_us_per_request']:.3f} | {rounds} |")
        print()
        for server, by_variant in rps.items():
            ratio = by_variant["statusguard"]["ratio_to_bare"]
            cpu_ratio = by_variant["bare"]["cpu_us_per_request"] / by_variant["statusguard"]["cpu_us_per_request"]
            target = "target" if server == "uvicorn" else "for reference"
            lines.append(f"{server}: statusguard at {ratio:.3f}x the bare app's requests/s, {cpu_ratio:.3f}x by server "
                         f"CPU per request ({target} ≥ 0.97x: {'holds' if ratio >= 0.97 else 'MISSED'} by requests/s, "
                         f"{'holds' if cpu_ratio >= 0.97 else 'MISSED'} by CPU)")
    if streamed:
        print("| 1 GiB stream over uvicorn | peak RSS MiB (median) | Δ vs pass-through MiB | MiB/s (median) "
              "| x pass-through | server CPU s/GiB (median) | pass-through CPU / this CPU |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        base = streamed["pass-through"]
        for variant, data in streamed.items():
            print(f"| {variant} | {data['peak_rss_mib']:.1f} | {data['peak_rss_mib'] - base['peak_rss_mib']:+.1f} | "
                  f"{data['mib_per_s']:,.0f} | {data['mib_per_s'] / base['mib_per_s']:.3f} | "
                  f"{data['cpu_s_per_gib']:.2f} | {base['cpu_s_per_gib'] / data['cpu_s_per_gib']:.3f} |")
        print()
        guard = streamed["statusguard"]
        delta = guard["peak_rss_mib"] - base["peak_rss_mib"]
        ratio = guard["mib_per_s"] / base["mib_per_s"]
        cpu_ratio = base["cpu_s_per_gib"] / guard["cpu_s_per_gib"]
        lines.append(f"stream: peak RSS {delta:+.1f} MiB vs the pass-through (target within 10 MB: "
                     f"{'holds' if abs(delta) * 1.048576 <= 10 else 'MISSED'}); throughput {ratio:.3f}x, "
                     f"{cpu_ratio:.3f}x by server CPU (target ≥ 0.97x: {'holds' if ratio >= 0.97 else 'MISSED'} "
                     f"by throughput, {'holds' if cpu_ratio >= 0.97 else 'MISSED'} by CPU)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["rps", "stream", "instructions", "all"], default="all",
                        help="instructions: only the callgrind counts (implies --instructions)")
    parser.add_argument("--rounds", type=int, default=7, help="wrk rounds per variant (default 7)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one wrk round (default 4 s)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--stream-rounds", type=int, default=5, help="1 GiB streams per variant (default 5)")
    parser.add_argument("--server-lifetime", type=float, default=900.0,
                        help="each server process exits by itself after this many seconds (default 900)")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions per request inside each server process under callgrind")
    parser.add_argument("--instructions-count", type=int, default=300, metavar="N",
                        help="requests per interval under callgrind: N and 2N (default 300)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel callgrind servers")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--_serve", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._serve:
        server, variant, port, lifetime = args._serve
        serve(server, variant, int(port), float(lifetime))
        return 0
    if args.part in ("rps", "all") and shutil.which("wrk") is None:
        print("wrk is not on PATH (apt-get install wrk)", file=sys.stderr)
        return 2
    print(f"start: {describe_machine()}", file=sys.stderr)
    started = time.monotonic()
    rps = requests_per_second(args.rounds, args.seconds, args.connections, args.server_lifetime) \
        if args.part in ("rps", "all") else None
    streamed = stream(args.stream_rounds, args.server_lifetime) if args.part in ("stream", "all") else None
    counted = None
    if args.instructions or args.part == "instructions":
        if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
            print("valgrind/callgrind_control not found: no instruction counts", file=sys.stderr)
        else:
            print("counting instructions per request in each server under callgrind...", file=sys.stderr)
            counted = server_instructions(args.instructions_count, args.server_lifetime, args.jobs)
    print(f"end: {describe_machine()} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    print()
    for line in report(rps, streamed, counted):
        print(line)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"machine": describe_machine(), "rps": rps, "stream": streamed, "instructions": counted},
                      handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
