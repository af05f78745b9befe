"""The audit's report formats: readable text within 100 columns, JSON grouped by route with a hint per
violation, SARIF 2.1.0 with its required properties, well-formed JUnit XML whatever the app sends,
and a progress indicator only on a terminal."""

from __future__ import annotations

import io
import json
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statusguard import RULES
from statusguard.cli import commands as cli
from statusguard.cli import main

HOSTILE_MODULE = "sg_formats_hostile"
HOSTILE_APP = r'''
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

WEIRD = '/a<b>&"c"\x07' + "x" * 150


async def hostile(request):
    # A 401 without a challenge, header values full of markup and control characters, a long body.
    return Response(
        "<html>&amp; \x00 \x1b[31m" + "y" * 500, status_code=401,
        headers={"X-Weird": '<script>alert("&")</script> \x1b[2J', "Content-Type": "text/html"},
    )


async def crash(request):
    raise ValueError('bad \x00 <tag> & "quote" \x1b[31m')


app = Starlette(routes=[Route(WEIRD, hostile), Route("/crash", crash)])
'''


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / f"{HOSTILE_MODULE}.py").write_text(HOSTILE_APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield f"{HOSTILE_MODULE}:app"
    sys.modules.pop(HOSTILE_MODULE, None)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- text --------------------------------------------------------------------------------------


def test_demo_text_report_is_grouped_and_fits_100_columns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert all(line.isprintable() for line in lines)
    # One section per route with findings, one "How to fix" list at the end, after every section.
    headings = [line for line in lines if line.startswith("/")]
    assert len(headings) == len(set(headings)) == 8
    assert out.count("How to fix:") == 1
    assert out.index("How to fix:") > out.index(headings[-1])
    # Probes with the same outcome share an entry; one line per violation under it.
    assert "  OPTIONS, DELETE (not served) -> 405 Method Not Allowed" in lines
    admin = out.split("\n/admin (", 1)[1].split("\n\n", 1)[0].splitlines()
    assert admin[1] == "  GET, GET with Range -> 401 Unauthorized"
    assert admin[2].split() == ["MUST", "401-www-authenticate:", "401", "without", "WWW-Authenticate"]
    assert admin[3] == '    fixed   + WWW-Authenticate: Bearer realm="demo"'
    # Each rule of the "How to fix" list appears once, with its level and reference.
    fix_list = out.split("How to fix:\n", 1)[1]
    assert fix_list.count("\n  405-allow (MUST, ") == 1
    assert RULES["405-allow"].hint.split(",")[0] in fix_list


def test_hostile_app_text_report_stays_on_one_line_per_item(hostile: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", hostile)
    assert code == 1
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert all(line.isprintable() for line in lines)  # no escape sequence reaches the terminal
    assert "\x1b" not in out
    assert "\\x07" in out  # the route's control character, escaped
    assert "ValueError" in out


# -- JSON --------------------------------------------------------------------------------------


def test_json_groups_by_route_with_a_hint_per_violation(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sg_formats_flask.py").write_text(textwrap.dedent("""
        from flask import Flask, abort
        app = Flask(__name__)

        @app.get("/private")
        def private():
            abort(401)

        @app.get("/items/<uuid:item_id>")
        def item(item_id):
            return {"id": str(item_id)}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        _, out, _ = run(capsys, "audit", "sg_formats_flask:app", "--format", "json")
    finally:
        sys.modules.pop("sg_formats_flask", None)
    report = json.loads(out)
    assert report["tool"]["name"] == "statusguard"
    assert report["framework"] == "flask"
    routes = {r["route"]: r for r in report["routes"]}
    assert set(routes) == {"/private", "/items/<uuid:item_id>"}
    assert routes["/items/<uuid:item_id>"]["path"] == "/items/00000000-0000-0000-0000-000000000000"
    assert routes["/private"]["requires_authentication"] is True
    for route in routes.values():
        assert route["violations"] == sum(len(p["violations"]) for p in route["probes"])
        for probe in route["probes"]:
            assert set(probe) >= {"method", "path", "probe", "kind", "status", "headers", "violations"}
            for violation in probe["violations"]:
                assert violation["hint"].startswith(RULES[violation["rule"]].hint)
                assert set(violation) >= {"rule", "level", "severity", "status", "message", "reference", "hint"}
    hints = [v["hint"] for p in routes["/private"]["probes"] for v in p["violations"]]
    assert hints
    assert all("Flask: abort(401" in hint for hint in hints)  # the framework's own remedy, appended
    assert report["summary"]["failing"] >= 1
    assert report["summary"]["fail_on"] == "MUST"


# -- SARIF 2.1.0 -------------------------------------------------------------------------------

SARIF_LEVELS = {"error", "warning", "note", "none"}


def assert_valid_sarif(sarif: dict[str, Any]) -> None:
    """The SARIF 2.1.0 schema's requirements for what statusguard writes (sarifLog, run, tool,
    toolComponent, reportingDescriptor, result, message, location, invocation, notification)."""
    assert sarif["version"] == "2.1.0"
    assert isinstance(sarif["runs"], list)
    for run_ in sarif["runs"]:
        driver = run_["tool"]["driver"]
        assert isinstance(driver["name"], str)
        assert driver["name"]
        rules = driver.get("rules", [])
        ids = [rule["id"] for rule in rules]
        assert len(ids) == len(set(ids))
        for rule in rules:
            assert isinstance(rule["id"], str)
            for key in ("shortDescription", "fullDescription", "help"):
                if key in rule:
                    assert isinstance(rule[key]["text"], str)
                    assert rule[key]["text"]
            if "defaultConfiguration" in rule:
                assert rule["defaultConfiguration"]["level"] in SARIF_LEVELS
        for invocation in run_.get("invocations", []):
            assert isinstance(invocation["executionSuccessful"], bool)
            for notification in invocation.get("toolExecutionNotifications", []):
                assert notification["message"]["text"]
                assert notification.get("level", "warning") in SARIF_LEVELS
        for result in run_["results"]:
            assert isinstance(result["message"]["text"], str)
            assert result["message"]["text"]
            assert isinstance(result["ruleId"], str)
            assert result["level"] in SARIF_LEVELS
            if "ruleIndex" in result:
                assert 0 <= result["ruleIndex"] < len(rules)
                assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            for location in result.get("locations", []):
                for logical in location.get("logicalLocations", []):
                    assert isinstance(logical["name"], str)


def test_sarif_is_structurally_valid(capsys: pytest.CaptureFixture[str], hostile: str) -> None:
    _, out, _ = run(capsys, "audit", "--format", "sarif")
    sarif = json.loads(out)
    assert_valid_sarif(sarif)
    levels = {r["ruleId"]: r["level"] for r in sarif["runs"][0]["results"]}
    assert levels["401-www-authenticate"] == "error"  # MUST
    assert levels["5xx-explain"] == "warning"  # SHOULD
    code, out, _ = run(capsys, "audit", hostile, "--format", "sarif")
    sarif = json.loads(out)
    assert_valid_sarif(sarif)
    errors = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "probe-error"]
    assert errors  # the crashing route is a result too
    assert "ValueError" in errors[0]["message"]["text"]
    assert code == 1


# -- JUnit XML ---------------------------------------------------------------------------------


def test_junit_is_well_formed_with_untrusted_text(capsys: pytest.CaptureFixture[str], hostile: str) -> None:
    code, out, _ = run(capsys, "audit", hostile, "--format", "junit")
    assert code == 1
    suites = ET.fromstring(out.encode("utf-8"))  # raises on any ill-formed byte
    assert suites.tag == "testsuites"
    suite = suites.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases)
    assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
    assert int(suite.get("errors", "-1")) == sum(1 for c in cases if c.find("error") is not None) > 0
    weird = [c for c in cases if c.get("classname", "").startswith('/a<b>&"c"')]
    assert weird  # the route's <, & and " survive, escaped
    assert "\\x07" in weird[0].get("classname", "")  # the control character, as a visible escape
    errors = [c.find("error") for c in cases if c.find("error") is not None]
    message = errors[0].get("message", "") if errors[0] is not None else ""
    assert '<tag> & "quote"' in message
    assert "\\x00" in message
    failures = [c.find("failure") for c in cases if c.find("failure") is not None]
    assert any("[401-www-authenticate]" in (f.get("message", "") if f is not None else "") for f in failures)


def test_junit_counts_only_failures_at_or_above_the_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "audit", "--format", "junit", "--fail-on", "SHOULD")
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None
    failures = suite.findall(".//failure")
    assert int(suite.get("failures", "0")) == len(failures) > 0
    assert "[5xx-explain]" in " ".join(f.get("message", "") for f in failures)
    _, out, _ = run(capsys, "audit", "--format", "junit", "--fail-on", "never")
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None
    assert suite.findall(".//failure") == []
    assert suite.findall(".//system-out")  # still shown, as output


# -- progress ----------------------------------------------------------------------------------


class FakeStream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                     tty: bool) -> None:
    stderr = FakeStream(tty)
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(cli._Progress, "delay", 0.0)  # show it even for an audit this quick
    code = main(["audit", "--format", "json"])
    assert code == 0
    json.loads(capsys.readouterr().out)  # stdout holds the report only
    written = stderr.getvalue()
    if tty:
        assert "statusguard: probing 1/40..." in written
        assert "probing 40/40..." in written
        assert written.endswith("\r")  # the line is cleared before the report
    else:
        assert written == ""


def test_progress_waits_for_a_long_audit(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stderr = FakeStream(True)
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(cli._Progress, "delay", 3600.0)
    assert main(["audit", "--format", "json"]) == 0
    capsys.readouterr()
    assert stderr.getvalue() == ""  # a quick audit prints no progress at all
