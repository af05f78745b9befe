"""Reading recorded traffic for ``statusguard check``: a raw response as ``curl -i`` prints it, or a HAR file.

Charter: parsing only, total: malformed input raises ``ValueError`` with a message saying what
was expected, never anything else. The result is the facts ``check`` takes.

Raw input is what ``curl -i`` (or ``curl -iv 2>&1``) prints, with LF or CRLF line ends (a mix
too): interim 1xx responses, a proxy's ``200 Connection established`` and a ``101`` before an
upgraded response are skipped, the final response is checked; its body is kept byte for byte.
When the input starts with the request (``GET /path HTTP/1.1`` and its headers, as an HTTP
debugger exports an exchange, or curl's ``>`` lines), its method and headers are used. A HAR file
gives every exchange with its request; HTTP/2 pseudo-headers (``:status``, ``:method``...) are
facts of the exchange, not header fields.

A body a client has already decoded (curl ``--compressed``, every HAR) no longer matches the
``Content-Length`` the server sent: ``Recorded.decoded`` says so, and ``check`` is then not asked
whether the length is accurate.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Recorded", "parse_har", "parse_raw_response"]

_STATUS_LINE = re.compile(r"HTTP/(\d(?:\.\d)?) (\d{3})(?: (.*))?")
_REQUEST_LINE = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP/(\d(?:\.\d)?)")
_CURL_INFO = (b"* ", b"{ ", b"} ")
_CURL_TRAILER = re.compile(rb"\* (?:Connection #\d+ to host \S+ left intact|Closing connection[^\n]*)\r?\n?\Z")


@dataclass(slots=True)
class Recorded:
    status: int
    headers: list[tuple[str, str]]
    body: bytes | None
    http_version: str = "1.1"
    method: str = "GET"
    url: str = ""
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    reason: str = ""
    decoded: bool = False  # the body is what the client decoded, not the bytes on the wire
    method_known: bool = False  # the input said which method was sent
    skipped: list[str] = field(default_factory=list)  # status lines of interim/proxy responses passed over


# ---------------------------------------------------------------------------------------------
# Raw (curl -i)


def _split_head(data: bytes) -> tuple[bytes, bytes, bool]:
    """(head, rest, complete): the head ends at the first empty line, CRLF or LF."""
    positions = [(data.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n", b"\n\r\n") if data.find(sep) >= 0]
    if not positions:
        return data, b"", False
    position, sep = min(positions)
    return data[:position], data[position + len(sep):], True


def _lines(head: bytes) -> list[str]:
    return [line.rstrip("\r") for line in head.decode("latin-1").split("\n")]


def _header_lines(lines: list[str], where: str) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for line in lines:
        if not line.strip():
            continue
        if line[0] in " \t" and headers:  # obs-fold: a continuation of the previous field
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        if line.startswith(":"):  # an HTTP/2 pseudo-header as a debugger prints it: ":status: 200"
            name, colon, value = line[1:].partition(":")
            if not colon:
                raise ValueError(f"not a header line in the {where}: {line[:80]!r}")
            headers.append((":" + name.strip(), value.strip(" \t")))
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"not a header line in the {where}: {line[:80]!r} (expected 'Name: value')")
        headers.append((name, value.strip(" \t")))
    return headers


def _pseudo(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((value for n, value in headers if n.lower() == name), None)


def _without_pseudo(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(n, v) for n, v in headers if not n.startswith(":")]


def _from_curl_verbose(data: bytes) -> bytes | None:
    """``curl -v``'s "> request" / "< response" lines rewritten as a request head, then the response."""
    lines = data.splitlines(keepends=True)
    if not any(line.startswith(b"< HTTP/") for line in lines):
        return None
    request: list[bytes] = []
    response: list[bytes] = []
    body: list[bytes] = []
    in_body = False
    for line in lines:
        if line.startswith(b"> "):
            if response:
                request, response, body, in_body = [], [], [], False  # a new exchange on the connection
            request.append(line[2:])
        elif line.startswith(b"<"):
            stripped = line[2:] if line.startswith(b"< ") else line[1:]
            response.append(stripped)
            in_body = not stripped.strip()  # "<" alone (or "< \r\n") ends a head
        elif line.startswith(_CURL_INFO) or line.startswith(b">"):
            continue
        elif in_body:
            body.append(line)
    if not response:
        return None
    head = b"".join(request).rstrip(b"\r\n")
    out = head + b"\r\n\r\n" if head else b""
    # curl writes its closing note to stderr right after the body, often on the body's last line.
    content = _CURL_TRAILER.sub(b"", b"".join(body))
    return out + b"".join(response) + content


def parse_raw_response(data: bytes) -> Recorded:
    """The final response in ``curl -i`` output, with the request facts the input carries."""
    verbose = _from_curl_verbose(data) if b"\n< " in data or data.startswith(b"< ") else None
    if verbose is not None:
        data = verbose
    data = data.lstrip(b"\r\n")
    method = "GET"
    method_known = False
    url = ""
    request_headers: list[tuple[str, str]] = []
    first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1")
    request_match = _REQUEST_LINE.fullmatch(first)
    if request_match is not None or (first.startswith(":") and not first.lower().startswith(":status")):
        head, data, complete = _split_head(data)
        lines = _lines(head)
        if request_match is not None:
            method, url = request_match.group(1), request_match.group(2)
            request_headers = _header_lines(lines[1:], "request")
        else:
            request_headers = _header_lines(lines, "request")
            method = _pseudo(request_headers, ":method") or "GET"
            url = _pseudo(request_headers, ":path") or ""
        method_known = True
        request_headers = _without_pseudo(request_headers)
        host = next((v for n, v in request_headers if n.lower() == "host"), None)
        if host and url.startswith("/"):
            url = f"//{host}{url}"
        data = data.lstrip(b"\r\n")
        if not complete:
            raise ValueError("the request head is not followed by a response (expected an empty line, then "
                             "a status line like 'HTTP/1.1 200 OK')")
    skipped: list[str] = []
    while True:
        head, rest, complete = _split_head(data)
        lines = _lines(head)
        status_line = lines[0].strip()
        match = _STATUS_LINE.fullmatch(status_line)
        if match is None and status_line.startswith(":"):
            headers = _header_lines(lines, "response")
            status_text = _pseudo(headers, ":status") or ""
            if not (len(status_text) == 3 and status_text.isdigit()):
                raise ValueError(f"an HTTP/2 response needs a three-digit :status, not {status_text[:20]!r}")
            status, version, reason = int(status_text), "2", ""
            headers = _without_pseudo(headers)
        elif match is None:
            raise ValueError("expected an HTTP response starting with a status line like 'HTTP/1.1 200 OK' "
                             f"(curl -i), not {status_line[:80]!r}")
        else:
            status, version, reason = int(match.group(2)), match.group(1), (match.group(3) or "").strip()
            headers = _header_lines(lines[1:], "response")
        following = rest.lstrip(b"\r\n")
        another = following.startswith(b"HTTP/") and _STATUS_LINE.fullmatch(
            following.split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1").strip()) is not None
        interim = 100 <= status < 200
        tunnel = status // 100 == 2 and "connection established" in reason.lower()
        if complete and another and (interim or tunnel):
            skipped.append(status_line)
            data = following
            continue
        if not complete:
            rest = b""
        break
    body = rest
    recorded = Recorded(
        status, headers, body, http_version=version, method=method, url=url, request_headers=request_headers,
        reason=reason, method_known=method_known, skipped=skipped,
    )
    recorded.decoded = _looks_decoded(headers, body)
    return recorded


def _looks_decoded(headers: list[tuple[str, str]], body: bytes | None) -> bool:
    """Did the client decode the body (``curl --compressed``)? Then it is not the content on the wire."""
    codings = [c.strip().lower() for n, v in headers if n.lower() == "content-encoding" for c in v.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings or not body:
        return False
    outer = codings[-1]
    if outer in ("gzip", "x-gzip"):
        return not body.startswith(b"\x1f\x8b")
    if outer == "zstd":
        return not body.startswith(b"\x28\xb5\x2f\xfd")
    if outer == "deflate":
        return not (len(body) >= 2 and body[0] & 0x0F == 8 and int.from_bytes(body[:2], "big") % 31 == 0)
    try:
        body.decode("utf-8")  # br and the rest have no magic number: text means decoded
    except UnicodeDecodeError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# HAR


def _har_version(value: object) -> str:
    text = str(value or "").strip().lower().removeprefix("http/")
    if text in ("", "unknown"):
        return "1.1"
    if text in ("2", "2.0", "h2", "h2c"):
        return "2"
    if text in ("3", "3.0", "h3") or text.startswith("h3-"):
        return "3"
    return text if re.fullmatch(r"\d(?:\.\d)?", text) else "1.1"


def _har_headers(value: object, index: int, where: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"HAR entry #{index}: {where}.headers is not a list")
    out = []
    for header in value:
        if not isinstance(header, dict) or "name" not in header or "value" not in header:
            raise ValueError(f"HAR entry #{index}: each of {where}.headers needs a name and a value")
        out.append((str(header["name"]), str(header["value"])))
    return out


def _har_body(content: dict[str, Any], index: int) -> bytes | None:
    text = content.get("text")
    if text is None:
        # No content recorded (not captured, or a HEAD/204/304): only a declared size of 0 says "empty".
        return b"" if content.get("size") == 0 else None
    if not isinstance(text, str):
        raise ValueError(f"HAR entry #{index}: response.content.text is not a string")
    if str(content.get("encoding", "")).lower() == "base64":
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"HAR entry #{index}: response.content.text is not valid base64") from None
    return text.encode("utf-8", "surrogatepass")


def parse_har(data: bytes) -> list[Recorded]:
    """Every answered exchange of a HAR 1.2 file, with the request's method and headers."""
    try:
        document = json.loads(data)
        entries = document["log"]["entries"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ValueError("expected a HAR file: a JSON object with log.entries") from None
    if not isinstance(entries, list):
        raise ValueError("expected a HAR file: log.entries is not a list")
    recorded = []
    for index, entry in enumerate(entries):
        try:
            request, response = entry["request"], entry["response"]
            status = int(response["status"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"HAR entry #{index} lacks request/response status and headers") from None
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise ValueError(f"HAR entry #{index}: request and response must be objects")
        headers = _har_headers(response.get("headers"), index, "response")
        request_headers = _har_headers(request.get("headers"), index, "request")
        if status == 0:
            continue  # a request that never got a response (blocked, aborted)
        if not 100 <= status <= 999:
            raise ValueError(f"HAR entry #{index}: status {status} is not a three-digit HTTP status")
        content = response.get("content") or {}
        if not isinstance(content, dict):
            raise ValueError(f"HAR entry #{index}: response.content is not an object")
        body = _har_body(content, index)
        method = str(request.get("method") or _pseudo(request_headers, ":method") or "GET").upper()
        url = str(request.get("url") or _pseudo(request_headers, ":path") or "")
        codings = [v for n, v in headers if n.lower() == "content-encoding" and v.strip().lower() != "identity"]
        recorded.append(Recorded(
            status, _without_pseudo(headers), body, http_version=_har_version(response.get("httpVersion")),
            method=method, url=url, request_headers=_without_pseudo(request_headers),
            reason=str(response.get("statusText") or ""),
            decoded=bool(codings) and body is not None,  # browsers record the decoded content
            method_known=True,
        ))
    return recorded
