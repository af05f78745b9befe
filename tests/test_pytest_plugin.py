"""The pytest plugin (``pytest --statusguard``), tested on small projects run by pytester.

Runs that switch the plugin on go through ``runpytest_subprocess``: the plugin patches the test
clients for its session, which an in-process run would do to this process too. Runs that stop at a
usage error (nothing patched yet) run in process, which is faster.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap

import pytest

pytest_plugins = ["pytester"]

# Each project: files (path -> source) and the rule its bad endpoint breaks. Every project has one
# test that gets a correct response and one that gets a bad one, and passes when nothing checks it.
STARLETTE = {
    "starlette_proj/test_starlette.py": """
        from fastapi import FastAPI
        from fastapi.responses import PlainTextResponse
        from starlette.testclient import TestClient

        app = FastAPI()

        @app.get("/ok")
        def ok():
            return PlainTextResponse("hi")

        @app.get("/bad")
        def bad():
            return PlainTextResponse("no", status_code=405)

        def test_ok_starlette():
            with TestClient(app) as client:
                assert client.get("/ok").text == "hi"

        def test_bad_starlette():
            with TestClient(app) as client:
                assert client.get("/bad").status_code == 405
    """,
}
HTTPX_ASGI = {
    "asgi_proj/test_httpx_asgi.py": """
        import asyncio

        import httpx

        async def app(scope, receive, send):
            status = 401 if scope["path"] == "/bad" else 200
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"hi"})

        def get(path):
            async def main():
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                    return (await client.get(path)).status_code
            return asyncio.run(main())

        def test_ok_httpx_asgi():
            assert get("/ok") == 200

        def test_bad_httpx_asgi():
            assert get("/bad") == 401
    """,
}
HTTPX_WSGI = {
    "wsgi_proj/test_httpx_wsgi.py": """
        import httpx

        def app(environ, start_response):
            bad = environ["PATH_INFO"] == "/bad"
            start_response("405 Method Not Allowed" if bad else "200 OK",
                           [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"hi"]

        def get(path):
            with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://test") as client:
                return client.get(path).status_code

        def test_ok_httpx_wsgi():
            assert get("/ok") == 200

        def test_bad_httpx_wsgi():
            assert get("/bad") == 405
    """,
}
FLASK = {
    "flask_proj/test_flask.py": """
        from flask import Flask

        app = Flask(__name__)

        @app.get("/ok")
        def ok():
            return "hi"

        @app.post("/items")
        def create():
            return "made", 201

        def test_ok_flask():
            assert app.test_client().get("/ok").data == b"hi"

        def test_bad_flask():
            assert app.test_client().post("/items").status_code == 201
    """,
}
DJANGO_CONFTEST = """
    import django
    from django.conf import settings

    def pytest_configure():
        if not settings.configured:
            settings.configure(
                SECRET_KEY="test", ALLOWED_HOSTS=["*"], ROOT_URLCONF="sg_urls", MIDDLEWARE=[], DATABASES={},
                INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
                REST_FRAMEWORK={"UNAUTHENTICATED_USER": None, "DEFAULT_AUTHENTICATION_CLASSES": []},
            )
            django.setup()
"""
DJANGO_URLS = """
    from django.http import HttpResponse
    from django.urls import path
    from rest_framework.decorators import api_view
    from rest_framework.response import Response

    def ok(request):
        return HttpResponse("hi")

    def bad(request):
        return HttpResponse("no", status=405)

    @api_view(["POST"])
    def create(request):
        return Response({"id": 1}, status=201)

    urlpatterns = [path("ok", ok), path("bad", bad), path("api/items", create)]
"""
DJANGO = {
    "django_proj/conftest.py": DJANGO_CONFTEST,
    "django_proj/sg_urls.py": DJANGO_URLS,
    "django_proj/test_django.py": """
        from django.test import Client

        def test_ok_django():
            response = Client().head("/ok")  # the test client strips the body afterwards: no violation
            assert response.status_code == 200 and response.content == b""

        def test_bad_django():
            assert Client().get("/bad").status_code == 405
    """,
}
DRF = {
    "drf_proj/conftest.py": DJANGO_CONFTEST,
    "drf_proj/sg_urls.py": DJANGO_URLS,
    "drf_proj/test_drf.py": """
        from rest_framework.test import APIClient

        def test_ok_drf():
            assert APIClient().get("/ok").status_code == 200

        def test_bad_drf():
            assert APIClient().post("/api/items", {"a": 1}, format="json").status_code == 201
    """,
}
CLIENTS = {
    "starlette": (STARLETTE, "405-allow", "MUST"),
    "httpx-asgi": (HTTPX_ASGI, "401-www-authenticate", "MUST"),
    "httpx-wsgi": (HTTPX_WSGI, "405-allow", "MUST"),
    "flask": (FLASK, "201-location-on-post", "SHOULD"),
    "django": (DJANGO, "405-allow", "MUST"),
    "drf": (DRF, "201-location-on-post", "SHOULD"),
}

# A project without any framework beyond httpx (cheap to start), for the options and the fixture.
WSGI_APP = """
    import httpx

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        status = {"/bad": "405 Method Not Allowed", "/unauthorized": "401 Unauthorized"}.get(path, "200 OK")
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"hi"]

    def get(path, method="GET"):
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://test") as client:
            return client.request(method, path).status_code
"""


def write(pytester: pytest.Pytester, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # Without hypothesis's plugin (it takes longer to import than the rest of a run).
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args)


def assert_silent(result: pytest.RunResult) -> None:
    """No header line and no summary: the plugin did not switch on."""
    output = result.stdout.str()
    assert "statusguard:" not in output
    assert "= statusguard =" not in output


def simple_project(pytester: pytest.Pytester, tests: str, ini: str = "") -> None:
    files = {"sg_app.py": WSGI_APP, "test_simple.py": tests}
    if ini:
        files["pytest.ini"] = ini
    write(pytester, files)


# -- each client --------------------------------------------------------------------------------------
# One run per mode over all six projects (a subprocess costs about a second; six times three would be
# slow), each project's part of the output checked on its own.


def write_clients(pytester: pytest.Pytester) -> None:
    for files, _, _ in CLIENTS.values():
        write(pytester, files)


def teardown_errors(result: pytest.RunResult) -> dict[str, str]:
    """The text of each "ERROR at teardown of NAME" section, by test name."""
    sections: dict[str, str] = {}
    name = None
    for line in result.stdout.lines:
        match = re.match(r"_+ ERROR at teardown of (\S+) _+$", line)
        if match:
            name = match.group(1)
            sections[name] = ""
        elif re.match(r"=+ .* =+$", line):
            name = None
        elif name is not None:
            sections[name] += line + "\n"
    return sections


def test_the_projects_pass_without_the_plugin(pytester: pytest.Pytester) -> None:
    write_clients(pytester)
    result = run(pytester)
    result.assert_outcomes(passed=2 * len(CLIENTS))
    assert_silent(result)


def test_strict_mode_fails_the_test_that_broke_a_rule(pytester: pytest.Pytester) -> None:
    write_clients(pytester)
    directories = sorted({name.split("/")[0] for files, _, _ in CLIENTS.values() for name in files})
    result = run(pytester, "--statusguard", *directories)  # a bare --statusguard before a path: strict
    # Each bad test passes its own assertions and then errors at teardown; the good ones pass.
    result.assert_outcomes(passed=2 * len(CLIENTS), errors=len(CLIENTS))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["statusguard: strict mode (from --statusguard); checking responses of*"])
    errors = teardown_errors(result)
    assert sorted(errors) == sorted(f"test_bad_{client.replace('-', '_')}" for client in CLIENTS)
    for client, (_, rule, level) in CLIENTS.items():
        text = errors[f"test_bad_{client.replace('-', '_')}"]
        lines = text.splitlines()
        assert lines[0] == "statusguard: 1 status-code violation in the responses of this test (strict mode):", text
        assert any(line.startswith(f"    [{rule}] {level} (RFC 9110") for line in lines), (client, text)
        assert any(line.startswith("        fix: ") for line in lines), (client, text)
        assert f"`with statusguard.expect('{rule}'):`" in text, (client, text)
        assert f"`@pytest.mark.statusguard(ignore=['{rule}'])`" in text, (client, text)
        assert "`--statusguard=log`" in text, (client, text)
        assert "`statusguard = log` in the ini file" in text, (client, text)


def test_log_mode_reports_without_failing(pytester: pytest.Pytester) -> None:
    write_clients(pytester)
    result = run(pytester, "--statusguard=log")
    result.assert_outcomes(passed=2 * len(CLIENTS))
    # Each project: two responses checked (the Django HEAD one before the test client strips its body).
    result.stdout.fnmatch_lines(
        ["*= statusguard =*", "log mode: 12 responses checked, 6 violations in 6 tests (6 reported)"]
    )
    summary = result.stdout.str().split("= statusguard =")[1]
    expected = {}
    for _, rule, level in CLIENTS.values():
        expected[rule] = (level, expected.get(rule, (level, 0))[1] + 1)
    for rule, (level, count) in expected.items():
        assert re.search(rf"^  {re.escape(rule)} +{level} +{count}$", summary, re.MULTILINE), (rule, summary)


def test_the_report_names_request_response_and_rule_and_a_failing_test_gets_a_section(
    pytester: pytest.Pytester,
) -> None:
    simple_project(
        pytester,
        """
        from sg_app import get

        def test_bad():
            get("/unauthorized", method="DELETE")

        def test_fails_anyway():
            get("/bad")
            assert False, "its own failure"
        """,
    )
    result = run(pytester, "--statusguard")
    result.assert_outcomes(passed=1, errors=1, failed=1)  # no teardown error on top of a failure
    assert list(teardown_errors(result)) == ["test_bad"]
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_bad*",
            "  DELETE /unauthorized -> 401 Unauthorized",
            "    response headers: Content-Type: text/plain; Content-Length: 2",
            "    [[]401-www-authenticate] MUST (RFC 9110 §15.5.2*): 401 without WWW-Authenticate*",
            "        fix: Send a challenge*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_fails_anyway _*",
            "*its own failure*",
            "*- statusguard -*",
            "statusguard saw 1 status-code violation in the responses of this test:",
            "  GET /bad -> 405 Method Not Allowed",
        ]
    )


def test_an_app_that_runs_statusguard_is_not_checked_twice(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        {
            "test_guarded.py": """
            from fastapi import FastAPI
            from fastapi.responses import PlainTextResponse
            from flask import Flask
            from starlette.testclient import TestClient
            from statusguard import ASGIMiddleware, WSGIMiddleware

            api = FastAPI()
            api.add_middleware(ASGIMiddleware, mode="log")

            @api.get("/bad")
            def bad():
                return PlainTextResponse("no", status_code=405)

            web = Flask(__name__)
            web.wsgi_app = WSGIMiddleware(web.wsgi_app, mode="log")

            @web.post("/items")
            def create():
                return "made", 201

            def test_starlette(statusguard):
                TestClient(api).get("/bad")
                assert statusguard.rules == ["405-allow"]  # once: the app's middleware, not a second wrapper

            def test_flask(statusguard):
                web.test_client().post("/items")
                assert statusguard.rules == ["201-location-on-post"]
            """
        },
    )
    result = run(pytester, "--statusguard")
    result.assert_outcomes(passed=2, errors=2)  # what the app's own middleware logged still fails the test
    result.stdout.fnmatch_lines(["strict mode: 0 responses checked, 2 violations in 2 tests (2 failed)"])


# -- options ------------------------------------------------------------------------------------------

FROM_CLI = "--statusguard"
FROM_INI = "'statusguard' in pytest.ini"
STRICT_OUTCOMES = {"passed": 2, "errors": 1}  # the bad test passes, then errors at teardown
BAD_AND_GOOD = """
    from sg_app import get

    def test_good():
        assert get("/ok") == 200

    def test_bad():
        assert get("/bad") == 405
"""


@pytest.mark.parametrize(
    ("ini", "args", "outcomes", "header"),
    [
        ("", (), {"passed": 2}, None),
        ("statusguard = strict", (), STRICT_OUTCOMES, f"statusguard: strict mode (from {FROM_INI})*"),
        ("statusguard = log", (), {"passed": 2}, f"statusguard: log mode (from {FROM_INI})*"),
        ("statusguard = strict", ("--statusguard=log",), {"passed": 2}, f"statusguard: log mode (from {FROM_CLI})*"),
        ("statusguard = strict", ("--statusguard=off",), {"passed": 2}, None),
        ("statusguard = log", ("--statusguard",), STRICT_OUTCOMES, f"statusguard: strict mode (from {FROM_CLI})*"),
        ("statusguard = strict\nstatusguard_ignore = 401-* 405-*", (), {"passed": 2}, "statusguard: strict mode*"),
    ],
    ids=[
        "default-off", "ini-strict", "ini-log", "cli-log-beats-ini", "cli-off-beats-ini", "cli-strict-beats-ini",
        "ini-ignore",
    ],
)
def test_the_command_line_beats_the_ini_file_beats_off(
    pytester: pytest.Pytester, ini: str, args: tuple[str, ...], outcomes: dict[str, int], header: str | None
) -> None:
    simple_project(pytester, BAD_AND_GOOD, ini=f"[pytest]\n{ini}\n" if ini else "")
    # The plugin patches nothing when it is off, so those runs can stay in process (faster).
    result = run(pytester, *args) if header is not None else pytester.runpytest(*args)
    result.assert_outcomes(**outcomes)
    if header is None:
        assert_silent(result)
    else:
        result.stdout.fnmatch_lines([header, "*= statusguard =*"])


@pytest.mark.parametrize(
    ("ini", "args", "shown"),
    [
        ("", ("--statusguard=loud",), f"'loud' (from {FROM_CLI}) is not a mode; valid modes: strict, log, off*"),
        ("statusguard = maybe", (), f"'maybe' (from {FROM_INI}) is not a mode; valid modes: strict, log, off*"),
        ("statusguard_ignore = 405-alow", ("--statusguard=log",), "*'405-alow' is not a statusguard rule id*"),
    ],
)
def test_a_bad_value_is_a_usage_error(pytester: pytest.Pytester, ini: str, args: tuple[str, ...], shown: str) -> None:
    pytester.makefile(".ini", pytest=f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_nothing="def test_nothing(): pass")
    result = pytester.runpytest(*args)  # in process: the usage error comes before anything is patched
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: statusguard: {shown}"])


def test_without_the_option_nothing_is_imported_or_patched(pytester: pytest.Pytester) -> None:
    write(
        pytester,
        {
            "test_inert.py": """
            import sys

            FRAMEWORKS = {"httpx", "starlette", "django", "flask", "werkzeug", "fastapi"}
            IMPORTED_BEFORE = FRAMEWORKS & set(sys.modules)

            import httpx
            import werkzeug.test

            def test_inert(pytestconfig):
                assert IMPORTED_BEFORE == set()
                assert not [name for name in sys.modules if name.startswith("statusguard.pytest_plugin.")]
                assert not pytestconfig.pluginmanager.has_plugin("statusguard-session")
                assert httpx.ASGITransport.handle_async_request.__module__ == "httpx._transports.asgi"
                assert not hasattr(httpx.ASGITransport.handle_async_request, "_statusguard_pytest")
                assert not hasattr(httpx.WSGITransport.handle_request, "_statusguard_pytest")
                assert not hasattr(werkzeug.test.run_wsgi_app, "_statusguard_pytest")
                assert not [f for f in sys.meta_path if type(f).__module__.startswith("statusguard")]

            def test_the_fixture_is_there_and_empty(statusguard):
                assert not statusguard.enabled and statusguard.mode == "off" and list(statusguard) == []
                with statusguard.expect("405-allow"):  # nothing is checked, so nothing is asserted
                    pass
            """
        },
    )
    run(pytester).assert_outcomes(passed=2)


# -- the fixture and the marker -----------------------------------------------------------------------


def test_expect_and_the_marker(pytester: pytest.Pytester) -> None:
    simple_project(
        pytester,
        """
        import pytest
        from sg_app import get

        def test_expected(statusguard):
            with statusguard.expect("405-allow") as found:
                get("/bad")
            assert [record.rule for record in found] == ["405-allow"]
            assert statusguard.rules == ["405-allow"] and statusguard[0].status == 405
            assert statusguard.violations[0].level == "MUST"

        def test_expected_glob(statusguard):
            with statusguard.expect("405-*", "401-www-authenticate"):
                get("/bad")
                get("/unauthorized")

        def test_expectation_not_met(statusguard):
            with statusguard.expect("405-allow"):
                get("/ok")

        def test_expect_outside_the_block_still_fails(statusguard):
            with statusguard.expect("405-allow"):
                get("/bad")
            get("/unauthorized")

        def test_expect_unknown_rule(statusguard):
            with pytest.raises(ValueError, match="did you mean '405-allow'"):
                with statusguard.expect("405-alow"):
                    pass

        @pytest.mark.statusguard(ignore=["405-allow"])
        def test_ignored(statusguard):
            get("/bad")
            assert len(statusguard) == 0

        @pytest.mark.statusguard(ignore="401-*", mode="log")
        def test_ignored_glob_only(statusguard):
            get("/unauthorized")
            get("/bad")
            assert statusguard.rules == ["405-allow"]

        @pytest.mark.statusguard(mode="log")
        def test_log(statusguard):
            get("/bad")
            assert statusguard.mode == "log" and statusguard.rules == ["405-allow"]

        @pytest.mark.statusguard(mode="off")
        def test_off(statusguard):
            get("/bad")
            assert not statusguard.enabled and len(statusguard) == 0

        @pytest.mark.statusguard(mode="log")
        class TestClass:
            @pytest.mark.statusguard(mode="strict")
            def test_closest_marker_wins(self):
                get("/bad")
        """,
    )
    result = run(pytester, "--statusguard")
    result.assert_outcomes(passed=9, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_expectation_not_met _*",
            "statusguard.expect(): no violation of 405-allow in the block (violations seen in the block: none)",
        ]
    )
    errors = teardown_errors(result)
    assert sorted(errors) == ["TestClass.test_closest_marker_wins", "test_expect_outside_the_block_still_fails"]
    assert "[401-www-authenticate]" in errors["test_expect_outside_the_block_still_fails"]
    assert "[405-allow]" not in errors["test_expect_outside_the_block_still_fails"]
    result.stdout.fnmatch_lines(
        ["strict mode: 12 responses checked, 8 violations in 6 tests (4 expected, 2 failed, 2 reported)"]
    )


@pytest.mark.parametrize(
    ("marker", "shown"),
    [
        ("ignroe=['405-allow']", "*unexpected keyword argument 'ignroe'*"),
        ("'405-allow'", "*takes 0 positional arguments*"),
        ("mode='loud'", "*mode='loud' is not a statusguard mode; valid modes: strict, log, off*"),
        ("ignore=['405-alow']", "*did you mean '405-allow'*"),
    ],
)
def test_a_bad_marker_is_a_usage_error(pytester: pytest.Pytester, marker: str, shown: str) -> None:
    simple_project(pytester, f"import pytest\n\n@pytest.mark.statusguard({marker})\ndef test_x():\n    pass\n")
    # In process (fast): the session stops at collection, and what it patched is undone.
    result = pytester.runpytest("--statusguard")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: test_simple.py::test_x: @pytest.mark.statusguard: " + shown])
    from statusguard.runtime.report import Reporter

    assert not hasattr(Reporter.report, "_statusguard_pytest")
    assert not [f for f in sys.meta_path if type(f).__module__.startswith("statusguard")]


# -- the JSON report ----------------------------------------------------------------------------------


UNDONE_CONFTEST = """
    import sys

    def pytest_unconfigure(config):  # after the plugin's session: is anything of it left?
        import httpx
        import werkzeug.test
        from statusguard.runtime.report import Reporter

        left = [
            name for name, obj in [
                ("ASGITransport", httpx.ASGITransport.handle_async_request),
                ("WSGITransport", httpx.WSGITransport.handle_request),
                ("run_wsgi_app", werkzeug.test.run_wsgi_app),
                ("Reporter.report", Reporter.report),
            ] if hasattr(obj, "_statusguard_pytest")
        ]
        left += [type(f).__name__ for f in sys.meta_path if type(f).__module__.startswith("statusguard")]
        (config.rootpath / "left.txt").write_text(repr(left))
"""


def test_the_json_report_and_the_patches_undone(pytester: pytest.Pytester) -> None:
    write(pytester, {"conftest.py": UNDONE_CONFTEST})
    simple_project(
        pytester,
        """
        import httpx
        from sg_app import get

        def test_two():
            assert hasattr(httpx.WSGITransport.handle_request, "_statusguard_pytest")  # patched on import
            get("/bad")
            get("/unauthorized", method="POST")

        def test_good():
            get("/ok")

        def test_again():
            get("/bad")
        """,
    )
    result = run(pytester, "--statusguard=log", "--statusguard-report=reports/statusguard.json")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["JSON report: */reports/statusguard.json"])
    report = json.loads((pytester.path / "reports" / "statusguard.json").read_text(encoding="utf-8"))
    assert report["mode"] == "log"
    assert report["responses_checked"] == 4
    assert report["total"] == 3
    assert report["counts"] == {"405-allow": 2, "401-www-authenticate": 1}
    assert [test["nodeid"] for test in report["tests"]] == ["test_simple.py::test_two", "test_simple.py::test_again"]
    first = report["tests"][0]["violations"][0]
    assert first == {
        "nodeid": "test_simple.py::test_two",
        "rule": "405-allow",
        "level": "MUST",
        "status": 405,
        "method": "GET",
        "path": "/bad",
        "message": first["message"],
        "reference": first["reference"],
        "action": "logged",
        "outcome": "reported",
    }
    assert "Allow" in first["message"]
    assert first["reference"].startswith("RFC 9110")
    second = report["tests"][0]["violations"][1]
    assert (second["rule"], second["method"], second["path"], second["status"]) == (
        "401-www-authenticate", "POST", "/unauthorized", 401,
    )
    assert (pytester.path / "left.txt").read_text() == "[]"  # every patch was undone at the end
