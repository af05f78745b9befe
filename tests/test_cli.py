"""The command line: what `statusguard audit`, `check`, `rules` and `explain` report, and their exit codes."""

from __future__ import annotations

import io
import json
import sys
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from statusguard import RULES
from statusguard.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def probes(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every probe of a JSON audit report, each with its route template under "route"."""
    return [probe | {"route": route["route"]} for route in report["routes"] for probe in route["probes"]]


# -- audit of the bundled demo -----------------------------------------------------------------


def test_demo_audit_finds_each_planted_mistake_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit")
    assert code == 0
    # Each of these is a mistake demo.py makes on purpose, on the route named.
    for route, rule in [
        ("/admin", "401-www-authenticate"),
        ("/search", "429-not-storable"),
        ("/search", "retry-after-syntax"),
        ("/report.pdf", "416-content-range"),
        ("/maintenance", "5xx-explain"),
        ("/old-page", "redirect-location"),
        ("/", "head-no-content"),
        ("/items", "405-allow"),
    ]:
        section = out.split(f"\n{route} (", 1)
        assert len(section) == 2, f"no section for {route}"
        assert rule in section[1].split("\n\n", 1)[0], f"{rule} not reported under {route}"
    assert "\n    fixed   " in out
    assert '+ WWW-Authenticate: Bearer realm="demo"' in out  # the demo's configured challenge
    assert "How to fix:" in out
    assert "/admin (serves GET, HEAD): requires authentication (401 without credentials)" in out


def test_demo_audit_with_fail_on_must_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "audit", "--fail-on", "MUST")
    assert code == 1


def test_demo_audit_sends_unsafe_methods_only_with_unsafe(capsys: pytest.CaptureFixture[str]) -> None:
    _, safe, _ = run(capsys, "audit", "--format", "json")
    methods = {(r["method"], r["route"]) for r in probes(json.loads(safe))}
    assert ("DELETE", "/items/{id}") not in methods  # the route serves DELETE: never probed by default
    assert ("POST", "/items") not in methods
    assert ("DELETE", "/items") in methods  # a method the route does not serve: the router refuses it
    _, unsafe, _ = run(capsys, "audit", "--format", "json", "--unsafe")
    results = probes(json.loads(unsafe))
    delete = [r for r in results if r["method"] == "DELETE" and r["route"] == "/items/{id}"]
    assert delete
    assert "204-no-content" in {v["rule"] for v in delete[0]["violations"]}


def test_json_report_lists_violations_and_fixes(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "audit", "--format", "json")
    report = json.loads(out)
    admin_route = next(r for r in report["routes"] if r["route"] == "/admin")
    assert admin_route["methods"] == ["GET", "HEAD"]
    assert admin_route["requires_authentication"] is True
    assert admin_route["auth_status"] == 401
    admin = next(r for r in admin_route["probes"] if r["kind"] == "get")
    assert admin["probe"] == "GET without credentials"
    assert admin["request_headers"] == []  # no Authorization, no Cookie: no probe carries credentials
    assert report["credentials"] == "none"
    assert admin["status"] == 401
    assert [v["rule"] for v in admin["violations"]] == ["401-www-authenticate"]
    assert admin["violations"][0]["level"] == "MUST"
    assert admin["violations"][0]["hint"] == RULES["401-www-authenticate"].hint
    assert admin["violations"][0]["reference"] == RULES["401-www-authenticate"].reference
    assert "401-www-authenticate" in admin["after_fix"]["fixed"]
    assert ["WWW-Authenticate", 'Bearer realm="demo"'] in admin["after_fix"]["headers"]
    assert '+ WWW-Authenticate: Bearer realm="demo"' in admin["after_fix"]["diff"]
    assert report["summary"]["violations"] == sum(len(r["violations"]) for r in probes(report))
    assert report["summary"]["requests"] == len(probes(report))
    open_route = next(r for r in report["routes"] if r["route"] == "/")
    assert open_route["requires_authentication"] is False


def test_sarif_report_is_well_formed(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "audit", "--format", "sarif")
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    run0 = sarif["runs"][0]
    rule_ids = [rule["id"] for rule in run0["tool"]["driver"]["rules"]]
    assert "401-www-authenticate" in rule_ids
    for result in run0["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
    levels = {r["ruleId"]: r["level"] for r in run0["results"]}
    assert levels["401-www-authenticate"] == "error"  # MUST
    assert levels["5xx-explain"] == "warning"  # SHOULD


def test_junit_report_fails_testcases_at_or_above_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "audit", "--format", "junit", "--fail-on", "SHOULD")
    suite = ET.fromstring(out)
    failures = suite.findall(".//failure")
    assert int(suite.get("failures", "0")) == len(failures) > 0
    messages = " ".join(f.get("message", "") for f in failures)
    assert "[5xx-explain]" in messages  # SHOULD counts at --fail-on SHOULD


def test_audit_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run(capsys, "audit", "--format", "json", "-o", str(target))
    assert code == 0
    assert out == ""
    assert json.loads(target.read_text())["tool"]["name"] == "statusguard"


# -- audit of user apps ------------------------------------------------------------------------


@pytest.fixture
def app_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("sg_cli_app")]:
        del sys.modules[name]


def test_default_audit_never_sends_an_unsafe_method_to_a_handler_that_accepts_it(
    app_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (app_module / "sg_cli_app_flask.py").write_text(textwrap.dedent("""
        from flask import Flask, abort
        CALLS = []
        app = Flask(__name__)

        @app.route("/things", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def things():
            from flask import request
            CALLS.append(request.method)
            return {"ok": True}

        @app.get("/private")
        def private():
            abort(401)
    """))
    code, out, _ = run(capsys, "audit", "sg_cli_app_flask:app", "--format", "json")
    import sg_cli_app_flask  # type: ignore[import-not-found]

    assert set(sg_cli_app_flask.CALLS) <= {"GET", "HEAD"}
    assert "GET" in sg_cli_app_flask.CALLS
    report = json.loads(out)
    private = [r for r in probes(report) if r["route"] == "/private" and r["method"] == "GET"]
    assert "401-www-authenticate" in {v["rule"] for r in private for v in r["violations"]}
    assert code == 1  # a MUST violation in a user app fails by default


def test_audit_of_an_asgi_app_with_path_parameters(app_module: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (app_module / "sg_cli_app_star.py").write_text(textwrap.dedent("""
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route, Mount
        SEEN = []

        async def item(request):
            SEEN.append(request.path_params["item_id"])
            return JSONResponse({"id": request.path_params["item_id"]})

        async def gone(request):
            return Response(status_code=404)

        app = Starlette(routes=[
            Route("/items/{item_id:int}", item),
            Mount("/api", routes=[Route("/gone", gone)]),
        ])
    """))
    code, out, _ = run(capsys, "audit", "sg_cli_app_star:app", "--param", "item_id=42", "--format", "json")
    import sg_cli_app_star  # type: ignore[import-not-found]

    assert 42 in sg_cli_app_star.SEEN
    report = json.loads(out)
    assert any(r["path"] == "/items/42" for r in probes(report))
    gone = [r for r in probes(report) if r["path"] == "/api/gone" and r["kind"] == "get"]
    assert gone
    assert [v["rule"] for v in gone[0]["violations"]] == ["4xx-explain"]
    assert code == 0  # 4xx-explain is a SHOULD


def test_audit_of_a_running_server(capsys: pytest.CaptureFixture[str]) -> None:
    from statusguard import demo

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = make_server("127.0.0.1", 0, demo.app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        code, out, _ = run(capsys, "audit", f"http://127.0.0.1:{port}", "--format", "json")
    finally:
        server.shutdown()
        server.server_close()
    report = json.loads(out)
    root = [r for r in probes(report) if r["kind"] == "get"]
    assert root[0]["status"] == 200
    assert report["kind"] == "url"
    # Only "/" is known for a URL target: its 405 to OPTIONS without Allow is a MUST on the wire.
    rules = {v["rule"] for r in probes(report) for v in r["violations"]}
    assert "405-allow" in rules
    assert code == 1
    # Methods are unknown for a URL: no unsafe method and no "unserved" guess is sent.
    assert {r["method"] for r in probes(report)} == {"GET", "HEAD", "OPTIONS"}


def test_audit_of_a_running_server_path_and_an_unreachable_one(capsys: pytest.CaptureFixture[str]) -> None:
    from statusguard import demo

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = make_server("127.0.0.1", 0, demo.app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        code, out, _ = run(capsys, "audit", f"http://127.0.0.1:{port}/admin", "--format", "json")
    finally:
        server.shutdown()
        server.server_close()
    report = json.loads(out)
    assert [route["route"] for route in report["routes"]] == ["/admin"]
    assert report["routes"][0]["requires_authentication"] is True
    assert code == 1
    # The port is closed now: nothing answers there.
    code, out, err = run(capsys, "audit", f"http://127.0.0.1:{port}/")
    assert code == 2
    assert "cannot audit the target" in err
    assert out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["audit", "no_such_module_for_sg:app"], "cannot load the target", id="missing module"),
        pytest.param(["audit", "just-a-name"], "module:attribute", id="not module:attr"),
        pytest.param(["audit", "--param", "novalue"], "NAME=VALUE", id="bad param"),
        pytest.param(["audit", "--timeout", "0"], "seconds", id="bad timeout"),
        pytest.param(["audit", "--timeout", "soon"], "seconds", id="timeout not a number"),
        pytest.param(["audit", "--format", "xml"], "invalid choice", id="bad format"),
        pytest.param(["audit", "http://"], "no host", id="URL without host"),
        pytest.param(["audit", "statusguard:__version__"], "not a WSGI or ASGI app", id="not an app"),
        pytest.param(["audit", "statusguard.demo:no_such_app"], "no attribute", id="missing attribute"),
        pytest.param(["frobnicate"], "invalid choice", id="unknown command"),
        pytest.param([], "required", id="no command"),
        pytest.param(["check", "--har", "/no/such/file.har"], "No such file", id="check missing file"),
        pytest.param(["check", "--request-header", "nocolon", "/dev/null"], "Name: value", id="check bad header"),
    ],
)
def test_audit_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


# -- check: recorded traffic -------------------------------------------------------------------

RAW_401 = (
    b"HTTP/1.1 100 Continue\r\n\r\n"
    b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope"
)


def test_check_raw_response_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(RAW_401)))
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert "401-www-authenticate" in out
    assert "one-final-response" not in out  # the interim 100 is skipped, the final 401 is checked


def test_check_raw_response_file_with_request_facts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "head.txt"
    path.write_bytes(b"HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 5\n\nhello")
    code, out, _ = run(capsys, "check", str(path), "--method", "HEAD")
    assert "head-no-content" in out
    assert code == 1
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0
    assert "No violations" in out


def test_check_har_uses_each_request(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    har = {"log": {"version": "1.2", "entries": [
        {"request": {"method": "POST", "url": "https://a.example/x", "headers": []},
         "response": {"status": 405, "httpVersion": "HTTP/1.1",
                      "headers": [{"name": "Content-Type", "value": "text/plain"}],
                      "content": {"size": 2, "text": "no"}}},
        {"request": {"method": "GET", "url": "https://a.example/y", "headers": []},
         "response": {"status": 429, "httpVersion": "HTTP/1.1",
                      "headers": [{"name": "Cache-Control", "value": "no-store"},
                                  {"name": "Content-Type", "value": "text/plain"}],
                      "content": {"size": 4, "text": "slow"}}},
    ]}}
    path = tmp_path / "session.har"
    path.write_text(json.dumps(har))
    code, out, _ = run(capsys, "check", "--har", str(path), "--format", "json")
    results = json.loads(out)
    assert [r["status"] for r in results] == [405, 429]
    assert [v["rule"] for v in results[0]["violations"]] == ["405-allow"]
    assert results[1]["violations"] == []
    assert code == 1


@pytest.mark.parametrize(
    ("data", "har"),
    [pytest.param(b"not http at all", False, id="raw"), pytest.param(b"{}", True, id="har")],
)
def test_check_rejects_malformed_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes, har: bool
) -> None:
    path = tmp_path / "input"
    path.write_bytes(data)
    code, _, err = run(capsys, "check", str(path), *(["--har"] if har else []))
    assert code == 2
    assert "expected" in err


# -- the catalogue -----------------------------------------------------------------------------


def test_rules_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0
    listed = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert listed == set(RULES)


def test_rules_json_round_trips(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "rules", "--json")
    data = json.loads(out)
    assert {rule["id"] for rule in data["rules"]} == set(RULES)
    assert "head-same-headers" in data["not_checkable"]


def test_explain_prints_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "405-allow")
    assert code == 0
    assert "405-allow" in out
    assert RULES["405-allow"].reference in out


def test_explain_unknown_rule_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "explain", "405-alow")
    assert code == 2
    assert "405-allow" in err


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("statusguard ")
    for argv in (["--help"], ["audit", "--help"], ["check", "--help"], ["rules", "--help"], ["explain", "--help"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0, argv
        assert "usage:" in out


def test_explain_a_not_checkable_rule_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "head-same-headers")
    assert code == 0
    assert "not checkable" in out


def test_python_dash_m_runs_the_same_cli() -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "statusguard", "rules", "--json"], capture_output=True,
                            timeout=60, check=False)
    assert result.returncode == 0
    assert len(json.loads(result.stdout)["rules"]) == len(RULES)
