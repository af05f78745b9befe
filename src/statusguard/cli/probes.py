"""What ``statusguard audit`` sends: the routes found, the probes planned for each, and the
requests (a WSGI environ, an ASGI scope) a probe becomes.

Probes are safe by construction. Each route gets GET, HEAD and OPTIONS, one method it does not
serve (a method the router refuses: the handler never runs), and on GET routes an unsatisfiable
``Range``; no probe carries credentials (no ``Authorization``, no ``Cookie``), so a route behind
authentication answers its refusal, which is checked and reported as such. A handler that
accepts POST, PUT, PATCH or DELETE never receives one unless the user passes ``--unsafe``; where
the router cannot say what a route serves, no unsafe method is sent at all.
"""

from __future__ import annotations

import io
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .. import __version__
from ..core.fixer import FixResult
from ..core.model import Violation

__all__ = [
    "UNSAFE_METHODS", "UNSATISFIABLE_RANGE", "Probe", "ProbeResult", "Route", "asgi_scope", "plan_probes",
    "wsgi_environ",
]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNSATISFIABLE_RANGE = "bytes=999999999-"
_UNSERVED_ORDER = ("DELETE", "PUT", "PATCH", "POST")


@dataclass(frozen=True, slots=True)
class Route:
    template: str  # as the framework writes it: /items/{id}, /items/<int:id>
    path: str  # the template with sample values filled in
    methods: frozenset[str] | None  # what the router serves at ``path``; None: it cannot say
    hints: str = ""  # whose words the hints speak: flask, starlette, fastapi, django, drf ("": generic)


@dataclass(frozen=True, slots=True)
class Probe:
    route: Route
    method: str
    headers: tuple[tuple[str, str], ...]
    label: str  # what the probe is for, for people
    kind: str  # get, head, options, unserved, range, unsafe

    @property
    def path(self) -> str:
        return self.route.path


@dataclass(slots=True)
class ProbeResult:
    probe: Probe
    status: int = 0
    status_text: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    body_size: int = 0  # bytes the app sent (also beyond MAX_BODY, up to where the probe stopped reading)
    violations: list[Violation] = field(default_factory=list)
    fixed: FixResult | None = None
    error: str | None = None  # the app raised, timed out or could not be reached


class _Routed(Protocol):
    @property
    def routes(self) -> Sequence[Route]: ...


def plan_probes(target: _Routed, *, unsafe: bool = False) -> list[Probe]:
    """Per route: GET (without credentials), HEAD, OPTIONS, a method it does not serve, and an
    unsatisfiable Range on GET routes. Unsafe methods a route serves only with ``unsafe``."""
    probes: list[Probe] = []
    for route in target.routes:
        served = route.methods
        probes.append(Probe(route, "GET", (), "GET without credentials", "get"))
        probes.append(Probe(route, "HEAD", (), "HEAD", "head"))
        probes.append(Probe(route, "OPTIONS", (), "OPTIONS", "options"))
        if served is not None:
            unserved = next((m for m in (*_UNSERVED_ORDER, "TRACE") if m not in served), None)
            if unserved is not None:
                probes.append(Probe(route, unserved, (), "a method the route does not serve", "unserved"))
        if served is None or "GET" in served:
            probes.append(Probe(route, "GET", (("Range", UNSATISFIABLE_RANGE),), "unsatisfiable Range", "range"))
        if unsafe and served is not None:
            probes.extend(Probe(route, m, (), f"{m} (--unsafe)", "unsafe")
                          for m in _UNSERVED_ORDER[::-1] if m in served)
    return probes


def wsgi_environ(method: str, path: str, headers: Sequence[tuple[str, str]], host: str) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote(raw_path, encoding="latin-1"),
        "QUERY_STRING": query, "SERVER_NAME": host, "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": host, "HTTP_USER_AGENT": f"statusguard-audit/{__version__}",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(), "wsgi.multithread": True, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if method in UNSAFE_METHODS:
        environ["CONTENT_LENGTH"] = "0"
    for name, value in headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def asgi_scope(method: str, path: str, headers: Sequence[tuple[str, str]], host: str) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": urllib.parse.unquote(raw_path),
        "raw_path": raw_path.encode("latin-1", "replace"), "query_string": query.encode("latin-1", "replace"),
        "root_path": "", "client": ("127.0.0.1", 50000), "server": (host, 80),
        "headers": [(b"host", host.encode("latin-1", "replace")),
                    (b"user-agent", f"statusguard-audit/{__version__}".encode())]
        + [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers],
        "state": {},
    }
