"""Reading recorded traffic for ``statusguard check``: a raw response as ``curl -i`` prints it, or a HAR file.

Charter: parsing only, total: malformed input raises ``ValueError`` with a message saying what
was expected, never anything else. The result is the facts ``check`` takes.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field

__all__ = ["Recorded", "parse_har", "parse_raw_response"]

_STATUS_LINE = re.compile(r"HTTP/(\d(?:\.\d)?) (\d{3})(?: (.*))?")


@dataclass(slots=True)
class Recorded:
    status: int
    headers: list[tuple[str, str]]
    body: bytes | None
    http_version: str = "1.1"
    method: str = "GET"
    url: str = ""
    request_headers: list[tuple[str, str]] = field(default_factory=list)


def parse_raw_response(data: bytes) -> Recorded:
    """The last response in ``curl -i`` output (interim 1xx and proxy CONNECT answers are skipped)."""
    text = data.replace(b"\r\n", b"\n")
    blocks = []
    rest = text
    while rest.startswith(b"HTTP/"):
        head, sep, rest = rest.partition(b"\n\n")
        blocks.append(head)
        if not sep:
            rest = b""
            break
        first = head.split(b"\n", 1)[0].decode("latin-1")
        match = _STATUS_LINE.fullmatch(first.strip())
        interim = match is not None and (match.group(2).startswith("1") and match.group(2) != "101")
        connect = match is not None and "connection established" in (match.group(3) or "").lower()
        if not (interim or connect) or not rest.startswith(b"HTTP/"):
            break
    if not blocks:
        raise ValueError("expected an HTTP response starting with a status line like 'HTTP/1.1 200 OK' (curl -i)")
    lines = blocks[-1].decode("latin-1").split("\n")
    match = _STATUS_LINE.fullmatch(lines[0].strip())
    if match is None:
        raise ValueError(f"not an HTTP status line: {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"not a header line: {line[:80]!r}")
        headers.append((name, value.strip(" \t")))
    return Recorded(int(match.group(2)), headers, rest, http_version=match.group(1))


def parse_har(data: bytes) -> list[Recorded]:
    """Every exchange of a HAR 1.2 file, with the request's method and headers."""
    try:
        document = json.loads(data)
        entries = document["log"]["entries"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("expected a HAR file: a JSON object with log.entries") from None
    recorded = []
    for index, entry in enumerate(entries):
        try:
            request, response = entry["request"], entry["response"]
            status = int(response["status"])
            headers = [(h["name"], h["value"]) for h in response.get("headers", [])]
            request_headers = [(h["name"], h["value"]) for h in request.get("headers", [])]
            content = response.get("content", {}) or {}
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"HAR entry #{index} lacks request/response status and headers") from None
        if status == 0:
            continue  # a request that never got a response (blocked, aborted)
        body: bytes | None
        text = content.get("text")
        if text is None:
            # No content recorded: only a declared size of 0 tells us the body was empty.
            body = b"" if content.get("size") == 0 else None
        elif content.get("encoding") == "base64":
            body = base64.b64decode(text)
        else:
            body = text.encode("utf-8")
        version = str(response.get("httpVersion", "HTTP/1.1")).upper().removeprefix("HTTP/") or "1.1"
        if version in ("2.0", "H2"):
            version = "2"
        recorded.append(Recorded(
            status, [h for h in headers if not h[0].startswith(":")], body, http_version=version,
            method=str(request.get("method", "GET")).upper(), url=str(request.get("url", "")),
            request_headers=[h for h in request_headers if not h[0].startswith(":")],
        ))
    return recorded
