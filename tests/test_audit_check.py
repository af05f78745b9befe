"""`statusguard check` on recorded traffic: raw `curl -i` output in its many shapes, and HAR files."""

from __future__ import annotations

import base64
import gzip
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from statusguard.cli import main
from statusguard.cli.rawhttp import parse_har, parse_raw_response


def check(capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes, *argv: str) -> tuple[int, Any, str]:
    path = tmp_path / "input"
    path.write_bytes(data)
    code = main(["check", str(path), "--format", "json", *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def rules(result: dict[str, Any]) -> set[str]:
    return {v["rule"] for v in result["violations"]}


# -- raw ---------------------------------------------------------------------------------------


def test_crlf_and_lf_give_the_same_answer_and_keep_the_body_byte_for_byte(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    body = b"line one\r\nline two\n"  # 19 bytes, with a CRLF inside the body itself
    head = ["HTTP/1.1 200 OK", "Content-Type: text/plain", f"Content-Length: {len(body)}"]
    crlf = "\r\n".join(head).encode() + b"\r\n\r\n" + body
    lf = "\n".join(head).encode() + b"\n\n" + body
    mixed = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\nContent-Length: 19\r\n\n" + body
    for data in (crlf, lf, mixed):
        assert parse_raw_response(data).body == body
        code, results, _ = check(capsys, tmp_path, data)
        assert code == 0
        assert results[0]["violations"] == []  # in particular no content-length-accurate


def test_several_interim_responses_are_skipped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </app.js>; rel=preload; as=script\r\n\r\n"
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n"
    )
    code, results, _ = check(capsys, tmp_path, data)
    assert results[0]["status"] == 404
    assert results[0]["skipped"] == ["HTTP/1.1 100 Continue", "HTTP/1.1 103 Early Hints", "HTTP/1.1 103 Early Hints"]
    assert rules(results[0]) == {"4xx-explain"}
    assert code == 0  # a SHOULD


@pytest.mark.parametrize(
    "preamble",
    [
        pytest.param(b"HTTP/1.1 200 Connection established\r\n\r\n", id="curl"),
        pytest.param(b"HTTP/1.0 200 Connection Established\r\nProxy-agent: squid\r\n\r\n", id="proxy headers"),
        pytest.param(b"HTTP/1.1 200 Connection established\n\nHTTP/1.1 100 Continue\n\n", id="and interim, LF"),
    ],
)
def test_proxy_connect_preamble_is_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, preamble: bytes
) -> None:
    data = preamble + b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope"
    code, results, _ = check(capsys, tmp_path, data)
    assert results[0]["status"] == 401
    assert rules(results[0]) == {"401-www-authenticate"}
    assert code == 1


def test_a_lone_connection_established_is_the_response(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, results, _ = check(capsys, tmp_path, b"HTTP/1.1 200 Connection established\r\n\r\n")
    assert results[0]["status"] == 200
    assert code == 0


def test_http2_status_line_and_connection_specific_fields(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = b"HTTP/2 200 \r\ncontent-type: text/plain\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok"
    code, results, _ = check(capsys, tmp_path, data)
    assert results[0]["http_version"] == "2"
    assert "connection-specific-h2" in rules(results[0])
    assert code == 1
    # An h2c upgrade: the 101 is passed over, the HTTP/2 response is checked.
    upgraded = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n" + data
    _, results, _ = check(capsys, tmp_path, upgraded)
    assert results[0]["http_version"] == "2"
    assert results[0]["skipped"] == ["HTTP/1.1 101 Switching Protocols"]


def test_http2_pseudo_headers_as_a_debugger_prints_them(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = (b":method: HEAD\n:path: /x\n:authority: a.example\n\n"
            b":status: 200\ncontent-type: text/plain\ncontent-length: 5\n\nhello")
    recorded = parse_raw_response(data)
    assert (recorded.method, recorded.status, recorded.http_version) == ("HEAD", 200, "2")
    assert all(not name.startswith(":") for name, _ in recorded.headers + recorded.request_headers)
    code, results, _ = check(capsys, tmp_path, data)
    assert "head-no-content" in rules(results[0])  # the method came from :method
    assert "field-name-syntax" not in rules(results[0])
    assert code == 1


def test_the_request_head_gives_method_and_headers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = (b"HEAD /report HTTP/1.1\r\nHost: a.example\r\nAuthorization: Bearer x\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
    code, results, _ = check(capsys, tmp_path, data)
    assert results[0]["method"] == "HEAD"
    assert results[0]["url"] == "//a.example/report"
    assert "head-no-content" in rules(results[0])
    assert code == 1
    # --method still wins over the input.
    code, results, _ = check(capsys, tmp_path, data, "--method", "GET")
    assert results[0]["violations"] == []
    assert code == 0


def test_curl_verbose_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = (
        b"*   Trying 127.0.0.1:8000...\r\n"
        b"* Connected to localhost (127.0.0.1) port 8000\r\n"
        b"> DELETE /items HTTP/1.1\r\n> Host: localhost:8000\r\n> User-Agent: curl/8.5.0\r\n>\r\n"
        b"< HTTP/1.1 405 Method Not Allowed\r\n< content-type: text/plain\r\n< content-length: 18\r\n<\r\n"
        b"Method Not Allowed"
        b"* Connection #0 to host localhost left intact\r\n"
    )
    code, results, _ = check(capsys, tmp_path, data)
    assert results[0]["method"] == "DELETE"
    assert rules(results[0]) == {"405-allow"}
    assert code == 1


def test_a_decoded_body_is_not_measured_against_content_length(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = b'{"items": [1, 2, 3]}'
    compressed = gzip.compress(text)
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n" % len(compressed))
    # curl --compressed prints the decoded text under the original Content-Length: not a mismatch.
    _, results, _ = check(capsys, tmp_path, head + text)
    assert results[0]["body_decoded"] is True
    assert "content-length-accurate" not in rules(results[0])
    # Without --compressed curl prints the gzip bytes: measured as usual, and accurate.
    _, results, _ = check(capsys, tmp_path, head + compressed)
    assert results[0]["body_decoded"] is False
    assert results[0]["violations"] == []
    # A raw body that really is shorter than Content-Length is reported.
    _, results, _ = check(capsys, tmp_path, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                              b"Content-Length: 10\r\n\r\nshort")
    assert "content-length-accurate" in rules(results[0])


def test_raw_from_stdin_and_text_output(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code = main(["check", "--fail-on", "SHOULD"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert out.startswith("GET -> 503\n")
    assert "skipped before it: HTTP/1.1 100 Continue" in out
    assert "5xx-explain" in out
    assert max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "expected an HTTP response", id="empty"),
        pytest.param(b"hello world", "expected an HTTP response", id="not http"),
        pytest.param(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "not a header line", id="bad header"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\n", "not followed by a response", id="request only"),
        pytest.param(b":status: abc\n\n", "three-digit :status", id="bad pseudo status"),
    ],
)
def test_malformed_raw_input_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes, message: str
) -> None:
    code, _, err = check(capsys, tmp_path, data)
    assert code == 2
    assert message in err


# -- HAR ---------------------------------------------------------------------------------------


def har(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"},
                               "entries": list(entries)}}).encode()


def entry(method: str, status: int, headers: list[tuple[str, str]], content: dict[str, Any] | None,
          version: str = "HTTP/1.1", request_headers: list[tuple[str, str]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    response: dict[str, Any] = {"status": status, "statusText": "", "httpVersion": version,
                                "headers": [{"name": n, "value": v} for n, v in headers]}
    if content is not None:
        response["content"] = content
    return {"request": {"method": method, "url": "https://a.example/x", "httpVersion": version,
                        "headers": [{"name": n, "value": v} for n, v in request_headers]},
            "response": response}


def test_har_base64_content(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    body = b"\x89PNG\r\n\x1a\n binary"
    content = {"size": len(body), "mimeType": "image/png", "text": base64.b64encode(body).decode(),
               "encoding": "base64"}
    headers = [("Content-Type", "image/png"), ("Content-Length", str(len(body)))]
    data = har(entry("HEAD", 200, headers, content), entry("GET", 200, headers, content))
    assert parse_har(data)[1].body == body
    code, results, _ = check(capsys, tmp_path, data, "--har")
    assert "head-no-content" in rules(results[0])
    assert results[1]["violations"] == []
    assert code == 1


def test_har_missing_content_is_not_observed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = har(
        entry("GET", 503, [("Content-Type", "text/plain")], None),  # no content object at all
        entry("GET", 503, [("Content-Type", "text/plain")], {"size": 120, "mimeType": "text/plain"}),  # not kept
        entry("GET", 503, [("Content-Type", "text/plain")], {"size": 0, "mimeType": "text/plain"}),  # empty
        {"request": {"method": "GET", "url": "https://a.example/blocked", "headers": []},
         "response": {"status": 0, "headers": [], "content": {}}},  # never answered: left out
    )
    recorded = parse_har(data)
    assert [r.body for r in recorded] == [None, None, b""]
    code, results, _ = check(capsys, tmp_path, data, "--har", "--fail-on", "SHOULD")
    assert [rules(r) for r in results] == [set(), set(), {"5xx-explain"}]  # only the known-empty body
    assert code == 1


def test_har_http2_pseudo_headers_and_versions(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = har(
        entry("GET", 200, [(":status", "200"), ("content-type", "text/plain"), ("connection", "keep-alive")],
              {"size": 2, "text": "ok"}, version="h2",
              request_headers=[(":method", "GET"), (":path", "/x"), (":authority", "a.example")]),
        entry("GET", 200, [(":status", "200"), ("content-type", "text/plain")], {"size": 2, "text": "ok"},
              version="http/2.0"),
        entry("GET", 200, [("content-type", "text/plain")], {"size": 2, "text": "ok"}, version="h3"),
        entry("GET", 200, [("content-type", "text/plain")], {"size": 2, "text": "ok"}, version=""),
    )
    recorded = parse_har(data)
    assert [r.http_version for r in recorded] == ["2", "2", "3", "1.1"]
    assert all(not n.startswith(":") for r in recorded for n, _ in r.headers + r.request_headers)
    code, results, _ = check(capsys, tmp_path, data, "--har")
    assert rules(results[0]) == {"connection-specific-h2"}  # pseudo-headers are not fields
    assert [r["violations"] for r in results[1:]] == [[], [], []]
    assert code == 1


def test_har_decoded_content_is_not_measured(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Browsers record the decoded text; Content-Length is the size of the gzip on the wire.
    data = har(entry("GET", 200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                                  ("Content-Length", "31")], {"size": 120, "text": "[" + "1, " * 39 + "1]"}))
    code, results, _ = check(capsys, tmp_path, data, "--har")
    assert "content-length-accurate" not in rules(results[0])
    assert code == 0


def test_har_request_method_and_headers_are_used(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = har(entry("POST", 405, [("Content-Type", "text/plain")], {"size": 2, "text": "no"}),
               entry("GET", 206, [("Content-Type", "text/plain"), ("Content-Range", "bytes 0-1/10")],
                     {"size": 2, "text": "ab"}, request_headers=[("Range", "bytes=0-1")]))
    code, results, _ = check(capsys, tmp_path, data, "--har")
    assert results[0]["method"] == "POST"
    assert "405-allow" in rules(results[0])
    assert "206-needs-get-range" not in rules(results[1])  # the request's Range header was taken into account
    assert code == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"{}", "expected a HAR file", id="no log"),
        pytest.param(b"[1, 2]", "expected a HAR file", id="not an object"),
        pytest.param(b'{"log": {"entries": {}}}', "not a list", id="entries not a list"),
        pytest.param(b'{"log": {"entries": [{"request": {}}]}}', "HAR entry #0", id="no response"),
        pytest.param(har(entry("GET", 200, [], {"text": "***", "encoding": "base64"})), "not valid base64",
                     id="bad base64"),
        pytest.param(har(entry("GET", 42, [], None)), "three-digit", id="bad status"),
    ],
)
def test_malformed_har_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes, message: str) -> None:
    code, _, err = check(capsys, tmp_path, data, "--har")
    assert code == 2
    assert message in err


def test_check_exit_statuses(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    clean = b"HTTP/1.1 204 No Content\r\n\r\n"
    should = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    must = b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nno"
    assert check(capsys, tmp_path, clean)[0] == 0
    assert check(capsys, tmp_path, should)[0] == 0
    assert check(capsys, tmp_path, should, "--fail-on", "SHOULD")[0] == 1
    assert check(capsys, tmp_path, must)[0] == 1
    assert check(capsys, tmp_path, must, "--fail-on", "never")[0] == 0
    assert check(capsys, tmp_path, must, "--request-header", "Authorization: Bearer x")[0] == 1
