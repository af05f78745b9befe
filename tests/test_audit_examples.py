"""`statusguard audit` on the example apps of each framework (examples/), route by route.

The expectations are derived from what each example route does under its framework's documented
defaults, not copied from a run:

- Werkzeug answers HEAD and OPTIONS for every GET rule itself (HEAD through the GET view, with no
  body; OPTIONS with Allow), and its router's 405 carries Allow. ``abort(401)`` sends no challenge.
- Starlette's ``Route`` without methods serves GET and HEAD; with one route per method on a path,
  its router's 405 lists only the first matching route's methods. Its responses send their body
  even to HEAD (the server drops it). ``FileResponse`` answers an unsatisfiable Range with an
  empty 416 carrying ``Content-Range: bytes */size``.
- FastAPI's ``@app.get`` serves GET only (not HEAD); an ``HTTPException`` renders ``{"detail": ...}``
  with only the headers given to it.
- Django's function views answer every method; ``require_GET`` refuses HEAD with
  ``HttpResponseNotAllowed(["GET"])`` (empty body); the WSGI handler does not drop HEAD bodies.

No probe carries credentials; the installed statusguard middleware is switched off during the
audit (the app's own responses are judged), and "after the fix" uses the app's own configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statusguard.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SRC = Path(__file__).resolve().parent.parent / "src"
EXAMPLE_MODULES = ("flask_app", "fastapi_app", "starlette_app")

Expected = dict[str, set[str]]  # probe kind (get, head, options, unserved, range) -> rule ids


@pytest.fixture
def examples_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """examples/ importable, each example imported afresh (flask-limiter keeps its counts in the module)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.delenv("STATUSGUARD_MODE", raising=False)
    for name in EXAMPLE_MODULES:
        sys.modules.pop(name, None)
    yield
    for name in EXAMPLE_MODULES:
        sys.modules.pop(name, None)


def audit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["audit", *argv, "--format", "json"])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def route(report: dict[str, Any], template: str) -> dict[str, Any]:
    found = [r for r in report["routes"] if r["route"] == template]
    assert found, f"{template} not discovered; routes: {[r['route'] for r in report['routes']]}"
    return found[0]


def found_rules(entry: dict[str, Any]) -> dict[str, set[str]]:
    """probe kind (or method, for --unsafe probes) -> the rule ids reported for it."""
    out: dict[str, set[str]] = {}
    for probe in entry["probes"]:
        key = probe["method"] if probe["kind"] == "unsafe" else probe["kind"]
        assert key not in out, f"two {key} probes on {entry['route']}"
        out[key] = {v["rule"] for v in probe["violations"]}
        assert "error" not in probe, probe.get("error")
    return out


def statuses(entry: dict[str, Any]) -> dict[str, int]:
    return {p["method"] if p["kind"] == "unsafe" else p["kind"]: p["status"] for p in entry["probes"]}


def after_fix_headers(entry: dict[str, Any], kind: str) -> list[list[str]]:
    probe = next(p for p in entry["probes"] if p["kind"] == kind)
    return [[name.lower(), value] for name, value in probe["after_fix"]["headers"]]


# -- Flask -------------------------------------------------------------------------------------


def test_flask_example(examples_path: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = audit(capsys, "flask_app:app")
    assert report["framework"] == "flask"
    assert {r["route"] for r in report["routes"]} == {"/me", "/articles/<int:article_id>", "/search"}

    me = route(report, "/me")
    assert set(me["methods"]) == {"GET", "HEAD", "OPTIONS"}  # Werkzeug adds HEAD and OPTIONS to a GET rule
    assert found_rules(me) == {
        "get": {"401-www-authenticate"},  # abort(401): no challenge
        "head": {"401-www-authenticate"},  # the same view; Werkzeug sends no body to HEAD
        "options": set(),  # Flask's automatic OPTIONS answer, with Allow
        "unserved": set(),  # the router's 405, with Allow
        "range": {"401-www-authenticate"},
    }
    assert me["requires_authentication"] is True
    # After the fix: the challenge configured in app.config["STATUSGUARD_WWW_AUTHENTICATE"].
    assert ["www-authenticate", 'Bearer realm="example"'] in after_fix_headers(me, "get")
    assert any("Flask: abort(401" in v["hint"] for p in me["probes"] for v in p["violations"])

    article = route(report, "/articles/<int:article_id>")
    assert article["path"] == "/articles/1"  # an int converter gets an int sample
    assert set(article["methods"]) == {"GET", "HEAD", "OPTIONS", "DELETE"}
    assert found_rules(article) == {"get": set(), "head": set(), "options": set(), "unserved": set(), "range": set()}
    assert statuses(article)["unserved"] == 405  # PUT: not served, refused by the router

    search = route(report, "/search")
    found = found_rules(search)
    # flask-limiter, 1/minute: the first request passes, the next ones get its 429, which carries
    # Retry-After (RATELIMIT_HEADERS_ENABLED) but nothing that keeps caches from storing it.
    assert statuses(search)["get"] == 200
    assert found["get"] == set()
    assert statuses(search)["range"] == 429
    assert found["range"] == {"429-not-storable"}
    assert set().union(*found.values()) == {"429-not-storable"}
    assert code == 1  # MUST violations


def test_flask_example_unsafe_finds_the_handlers_own_405(
    examples_path: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = audit(capsys, "flask_app:app", "--unsafe")
    article = route(report, "/articles/<int:article_id>")
    # DELETE reaches the handler only with --unsafe: abort(405) without valid_methods has no Allow.
    assert found_rules(article)["DELETE"] == {"405-allow"}
    assert statuses(article)["DELETE"] == 405


def test_keep_middleware_audits_the_app_as_deployed(examples_path: None, capsys: pytest.CaptureFixture[str]) -> None:
    # The example installs StatusGuard(app) in the default mode (fix): kept on, it adds the challenge.
    _, report = audit(capsys, "flask_app:app", "--keep-middleware")
    me = route(report, "/me")
    assert found_rules(me)["get"] == set()
    probe = next(p for p in me["probes"] if p["kind"] == "get")
    assert ["WWW-Authenticate", 'Bearer realm="example"'] in probe["headers"]
    assert "STATUSGUARD_MODE" not in os.environ  # switching it off for an audit leaves no trace


# -- FastAPI -----------------------------------------------------------------------------------


def test_fastapi_example(examples_path: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = audit(capsys, "fastapi_app:app")
    assert report["framework"] == "fastapi"
    templates = {r["route"] for r in report["routes"]}
    assert {"/me", "/items", "/items/{item_id}", "/reports/{report_id}", "/export"} <= templates
    assert {"/openapi.json", "/docs"} <= templates  # FastAPI's own routes are routes too

    # @app.get serves GET only: HEAD gets the router's 405 with "Allow: GET" (and the JSON body).
    get_only_405 = {"allow-get-implies-head"}
    me = route(report, "/me")
    assert found_rules(me) == {
        "get": {"401-www-authenticate"},  # HTTPException(401) without headers=
        "head": get_only_405 | {"head-no-content"},
        "options": get_only_405,
        "unserved": get_only_405,
        "range": {"401-www-authenticate"},
    }
    assert me["requires_authentication"] is True
    assert ["www-authenticate", 'Bearer realm="example"'] in after_fix_headers(me, "get")

    # @app.get and @app.post on one path: the router's 405 lists the first route's methods only.
    items = route(report, "/items")
    assert set(items["methods"]) == {"GET", "POST"}  # APIRoute: @app.get refuses HEAD
    incoherent = get_only_405 | {"405-allow-coherent"}
    assert found_rules(items) == {
        "get": set(), "head": incoherent | {"head-no-content"}, "options": incoherent, "unserved": incoherent,
        "range": set(),
    }
    options = next(p for p in items["probes"] if p["kind"] == "options")
    assert ["allow", "GET, POST"] in [[n.lower(), v] for n, v in options["after_fix"]["headers"]]

    # @app.delete only; item_id: int gets an int sample. No GET: no Range probe, DELETE never sent.
    item = route(report, "/items/{item_id}")
    assert item["path"] == "/items/1"
    assert item["methods"] == ["DELETE"]
    assert found_rules(item) == {"get": set(), "head": {"head-no-content"}, "options": set(), "unserved": set()}
    assert statuses(item)["get"] == 405

    reports = route(report, "/reports/{report_id}")
    assert reports["path"] == "/reports/1"
    assert set(reports["methods"]) == {"GET", "PUT"}
    assert found_rules(reports) == {
        "get": set(), "head": get_only_405 | {"head-no-content"}, "options": get_only_405,
        "unserved": get_only_405, "range": set(),
    }

    export = route(report, "/export")
    assert found_rules(export) == {
        "get": {"429-not-storable"},  # HTTPException(429): cacheable
        "head": get_only_405 | {"head-no-content"}, "options": get_only_405, "unserved": get_only_405,
        "range": {"429-not-storable"},
    }
    docs = route(report, "/docs")
    assert statuses(docs)["get"] == 200
    assert found_rules(docs)["head"] == {"head-no-content"}  # a Starlette Route: HEAD served, body sent
    assert code == 1


def test_fastapi_example_unsafe(examples_path: None, capsys: pytest.CaptureFixture[str]) -> None:
    _, report = audit(capsys, "fastapi_app:app", "--unsafe")
    # JSONResponse(status_code=204, content=None) renders "null": content on a 204.
    assert "204-no-content" in found_rules(route(report, "/items/{item_id}"))["DELETE"]
    # HTTPException(405) from the handler itself: no Allow at all.
    assert found_rules(route(report, "/reports/{report_id}"))["PUT"] == {"405-allow"}
    assert statuses(route(report, "/items"))["POST"] == 201


# -- Starlette ---------------------------------------------------------------------------------


def test_starlette_example(examples_path: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = audit(capsys, "starlette_app:app")
    assert report["framework"] == "starlette"
    assert {r["route"] for r in report["routes"]} == {"/notes", "/source", "/admin"}

    notes = route(report, "/notes")
    assert set(notes["methods"]) == {"GET", "HEAD", "POST"}  # the union of the two routes at the path
    assert found_rules(notes) == {
        "get": set(),
        "head": {"head-no-content"},  # JSONResponse sends its body to HEAD too
        "options": {"405-allow-coherent"},  # Allow: GET, HEAD from the first route; POST left out
        "unserved": {"405-allow-coherent"},
        "range": set(),
    }

    source = route(report, "/source")
    assert found_rules(source) == {
        "get": set(), "head": set(),  # FileResponse sends headers only to HEAD
        "options": set(), "unserved": set(),
        "range": {"4xx-explain"},  # an empty 416 (with the right Content-Range)
    }
    assert statuses(source)["range"] == 416

    admin = route(report, "/admin")
    assert found_rules(admin) == {
        "get": {"401-www-authenticate"},  # HTTPException(401): "Unauthorized", no challenge
        "head": {"401-www-authenticate", "head-no-content"},
        "options": set(), "unserved": set(),
        "range": {"401-www-authenticate"},
    }
    assert admin["requires_authentication"] is True
    assert ["www-authenticate", 'Basic realm="admin"'] in after_fix_headers(admin, "get")
    assert code == 1


# -- Django (in a subprocess: Django's settings are process-wide) ------------------------------


def run_cli(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("STATUSGUARD_MODE", "DJANGO_SETTINGS_MODULE")}
    environment["PYTHONPATH"] = os.pathsep.join([str(SRC), environment.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "statusguard", *argv], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120, check=False)


def test_django_example(tmp_path: Path) -> None:
    result = run_cli("audit", "--django-settings", "example.settings", "--format", "json",
                     cwd=EXAMPLES / "django_project")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["framework"] == "django"
    assert {r["route"] for r in report["routes"]} == {"/profile", "/archive", "/feed", "/search"}
    assert "Unauthorized: /profile" not in result.stderr  # django.request's log lines stay out of the way

    profile = route(report, "/profile")
    assert profile["methods"] is None  # a plain function view answers any method: no unserved probe
    assert found_rules(profile) == {
        "get": {"401-www-authenticate"},  # HttpResponse(status=401) without a challenge
        "head": {"401-www-authenticate", "head-no-content"},  # the WSGI handler leaves HEAD bodies in
        "options": {"401-www-authenticate"},
        "range": {"401-www-authenticate"},
    }
    assert profile["requires_authentication"] is True
    assert ["www-authenticate", 'Bearer realm="example"'] in after_fix_headers(profile, "get")

    archive = route(report, "/archive")
    assert found_rules(archive) == {
        "get": set(),
        "head": {"allow-get-implies-head"},  # HttpResponseNotAllowed(["GET"]): no HEAD in Allow
        "options": {"allow-get-implies-head", "4xx-explain"},  # ...and an empty body
        "range": set(),
    }

    feed = route(report, "/feed")
    assert feed["methods"] == ["GET"]  # require_GET, read from the view by statusguard.contrib.django
    assert found_rules(feed) == {
        "get": set(),
        "head": {"allow-get-implies-head"},
        "options": {"allow-get-implies-head", "4xx-explain"},
        "unserved": {"allow-get-implies-head", "4xx-explain"},
        "range": set(),
    }
    assert any("require_safe" in v["hint"] for p in feed["probes"] for v in p["violations"])  # Django's words

    search = route(report, "/search")
    assert found_rules(search) == {
        "get": {"4xx-explain"},  # an empty HttpResponseBadRequest()
        "head": set(),  # no body is expected on HEAD
        "options": {"4xx-explain"},
        "range": {"4xx-explain"},
    }


def test_django_asgi_and_wsgi_entry_points_are_discovered_too() -> None:
    for entry_point, kind in (("example.wsgi:application", "wsgi"), ("example.asgi:application", "asgi")):
        result = run_cli("audit", entry_point, "--format", "json", cwd=EXAMPLES / "django_project")
        assert result.returncode == 1, result.stderr
        report = json.loads(result.stdout)
        assert (report["kind"], report["framework"]) == (kind, "django")
        assert {r["route"]: r["methods"] for r in report["routes"]} == {
            "/profile": None, "/archive": None, "/feed": ["GET"], "/search": None,
        }
        assert "401-www-authenticate" in found_rules(route(report, "/profile"))["get"]


def test_django_example_text_report_fits_100_columns() -> None:
    result = run_cli("audit", "--django-settings", "example.settings", cwd=EXAMPLES / "django_project")
    assert result.returncode == 1
    assert "/feed (serves GET)" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
