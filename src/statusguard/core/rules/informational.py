"""1.3 1xx (RFC 9110 §15.2)"""

from __future__ import annotations

from ..headers import (
    split_list,
)
from ..model import Exchange
from ..rule import Reads
from ._base import _1XX, _deprecated_code, _ex, _rule, open_section
from ._repairs import drop_body

open_section(__name__, '1.3 1xx (RFC 9110 §15.2)')

_rule(
    "1xx-not-to-http10", "MUST", _1XX,
    "No interim (1xx) response to an HTTP/1.0 request.",
    "RFC 9110 §15.2, §7.8, §10.1.1",
    "Send early hints or 100 Continue only to HTTP/1.1 and later clients.",
    lambda x: f"{x.status} sent to an HTTP/1.0 request, which cannot receive interim responses"
    if x.http_version == "1.0" else None,
    needs="S,V",
    why="An HTTP/1.0 client takes the 1xx as the final response.",
    bad=(_ex(103, (("Link", "</a.css>; rel=preload"),), http_version="1.0"),),
    good=(_ex(103, (("Link", "</a.css>; rel=preload"),), http_version="1.1"),),
    reads=Reads(http_version=True),
)


def _check_1xx_headers_only(x: Exchange) -> str | None:
    found = [name for name in ("content-length", "transfer-encoding") if x.has(name)]
    if x.has_body:
        found.append("content")
    if not found:
        return None
    return f"the interim {x.status} carries {', '.join(found)}"


_rule(
    "1xx-headers-only", "MUST", _1XX,
    "Interim responses end after the header section: no content, Content-Length or Transfer-Encoding.",
    "RFC 9110 §15.2, §8.6; RFC 9112 §6.1",
    "Send 1xx responses with headers only.",
    _check_1xx_headers_only,
    needs="S,B",
    why="A 1xx never has content; any bytes after it are read as the start of the final response.",
    fix=lambda d, x, o: any([drop_body(d, x, o), d.remove("content-length"), d.remove("transfer-encoding")]),
    fix_summary="strip the body and the framing fields",
    bad=(_ex(103, (("Content-Length", "0"),), b""),),
    good=(_ex(103, (("Link", "</a.css>; rel=preload"),), b""),),
    reads=Reads(fields={"content-length", "transfer-encoding"}, body="presence"),
)


def _check_101_upgrade(x: Exchange) -> str | None:
    problems = []
    if not x.has("upgrade"):
        problems.append("no Upgrade header naming the new protocol")
    connection = [member.lower() for member in split_list(x.get("connection") or "") or []]
    if "upgrade" not in connection:
        problems.append("Connection does not list 'upgrade'")
    return "101 with " + " and ".join(problems) if problems else None


_rule(
    "101-upgrade-field", "MUST", {101},
    "101 names the new protocol(s) in Upgrade and lists 'upgrade' in Connection.",
    "RFC 9110 §15.2.2, §7.8",
    "Switch protocols through your server's WebSocket/upgrade support, not by hand.",
    _check_101_upgrade,
    why="The client cannot know what it is now talking to.",
    bad=(_ex(101, ()),),
    good=(_ex(101, (("Upgrade", "websocket"), ("Connection", "Upgrade")), req=(("Upgrade", "websocket"),)),),
    reads=Reads(fields={"connection", "upgrade"}),
)


def _check_101_offered(x: Exchange) -> str | None:
    # RFC 9110 §7.8: switch only to a protocol the client listed; RFC 9113 §8.6: no 101 in HTTP/2.
    chosen = {m.split("/")[0].strip().lower() for m in split_list(x.get("upgrade") or "") or [] if m}
    if chosen:
        offered = {m.split("/")[0].strip().lower() for m in split_list(x.request_get("upgrade") or "") or [] if m}
        if not offered:
            return "101 although the request offered no Upgrade"
        unoffered = sorted(chosen - offered)
        if unoffered:
            return f"101 switches to {', '.join(unoffered)}, which the request's Upgrade did not offer"
    if x.http_version.startswith(("2", "3")):
        return f"101 on HTTP/{x.http_version}, which has no protocol switching"
    return None


_rule(
    "101-offered-protocol-only", "MUST", {101},
    "Switch only to a protocol the request's Upgrade listed, and never on HTTP/2.",
    "RFC 9110 §7.8; RFC 9113 §8.6",
    "Check the request's Upgrade header before answering 101.",
    _check_101_offered,
    needs="S,Q(Upgrade),V",
    why="The client cannot speak a protocol it did not ask for.",
    bad=(_ex(101, (("Upgrade", "h2c"), ("Connection", "upgrade")), req=(("Upgrade", "websocket"),)),),
    good=(_ex(101, (("Upgrade", "websocket"), ("Connection", "upgrade")), req=(("Upgrade", "websocket"),)),),
    reads=Reads(fields={"upgrade"}, http_version=True, request_fields={"upgrade"}),
)

_rule(
    "101-not-from-app", "MUST", {101},
    "Apps cannot switch protocols: WSGI has no way to, ASGI only through the websocket scope.",
    "PEP 3333; ASGI HTTP and WebSocket specs",
    "Use the server's WebSocket support (ASGI websocket scope); never answer 101 from an HTTP handler.",
    # Known only to the adapters: a 101 in a capture, or given to check(), is the server's switch.
    lambda x: "an HTTP handler answered 101, but only the server can switch protocols" if x.final else None,
    why="The server keeps parsing HTTP after the app's 101, so the connection breaks.",
    bad=(_ex(101, (("Upgrade", "websocket"), ("Connection", "upgrade")), req=(("Upgrade", "websocket"),),
             final=True),),
    good=(_ex(200, (("Content-Type", "text/plain"),), b"ok", final=True),
          _ex(101, (("Upgrade", "websocket"), ("Connection", "upgrade")), req=(("Upgrade", "websocket"),),
              note="the server's own switch to a WebSocket (a capture)")),
    reads=Reads(final=True),
)




_deprecated_code(
    "102-obsolete", "102 Processing is obsolete: RFC 4918 dropped it.", "RFC 2518 §10.1; RFC 4918",
    "Use 202 Accepted with a status monitor for long operations.",
    "Defined only by RFC 2518; clients may not expect it, and a final response must still follow.",
)

