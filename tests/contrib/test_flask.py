"""statusguard.contrib.flask: the extension, its configuration, url_map knowledge and Flask hints."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from statusguard import ConfigurationError, StatusViolationError

from .conftest import Recorder

flask = pytest.importorskip("flask")
from flask import Flask, abort, send_file  # noqa: E402

from statusguard.contrib.flask import StatusGuard, allowed_methods  # noqa: E402

CHALLENGE = 'Bearer realm="api"'


def make_app(*, config: dict[str, Any] | None = None, testing: bool = False, **options: Any) -> Flask:
    app = Flask(__name__)
    app.testing = testing
    app.config.update(config or {})

    @app.get("/private")
    def private() -> str:
        abort(401)

    @app.route("/admin", methods=["GET", "POST"])
    def admin() -> str:
        if flask.request.method == "POST":
            abort(405)  # the view refuses POST after all: Flask's idiom, with no valid_methods
        return "admin"

    @app.get("/page")
    def page() -> str:
        return "page"

    @app.get("/range")
    def range_refused() -> str:
        abort(416)

    StatusGuard(app, **options)
    return app


def file_app(path: Path, **options: Any) -> Flask:
    app = Flask(__name__)

    @app.get("/file")
    def file() -> Any:
        return send_file(path)

    StatusGuard(app, **options)
    return app


# -- abort(401) ---------------------------------------------------------------------------------


def test_abort_401_is_reported_in_log_mode_with_a_flask_hint(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(mode="log", on_violation=recorder)
    with caplog.at_level(logging.INFO, logger="statusguard"):
        response = app.test_client().get("/private")
    assert response.status_code == 401
    assert "WWW-Authenticate" not in response.headers  # log mode changes nothing
    violation = recorder.get("401-www-authenticate")
    assert recorder.actions()["401-www-authenticate"] == "logged"
    assert "abort(401, www_authenticate=" in violation.hint
    assert violation.hint.startswith("Send a challenge")  # the catalogue's hint, then Flask's words
    assert [r.rule for r in caplog.records if hasattr(r, "rule")] == ["401-www-authenticate"]  # type: ignore[attr-defined]


def test_abort_401_gets_the_configured_challenge_in_fix_mode(recorder: Recorder) -> None:
    app = make_app(config={"STATUSGUARD_MODE": "fix", "STATUSGUARD_WWW_AUTHENTICATE": CHALLENGE}, on_violation=recorder)
    response = app.test_client().get("/private")
    assert response.status_code == 401
    assert response.headers.getlist("WWW-Authenticate") == [CHALLENGE]
    assert b"Unauthorized" in response.data  # Werkzeug's explanation page is kept
    assert recorder.actions() == {"401-www-authenticate": "fixed"}


def test_abort_401_raises_in_strict_mode_which_is_the_default_under_testing() -> None:
    app = make_app(testing=True)
    with pytest.raises(StatusViolationError) as caught:
        app.test_client().get("/private")
    assert [v.rule for v in caught.value.violations] == ["401-www-authenticate"]
    assert caught.value.method == "GET"
    assert caught.value.path == "/private"
    assert "abort(401, www_authenticate=" in str(caught.value)


# -- abort(405) and the url_map -----------------------------------------------------------------


def test_abort_405_is_reported_in_log_mode(recorder: Recorder) -> None:
    app = make_app(mode="log", on_violation=recorder)
    response = app.test_client().post("/admin")
    assert response.status_code == 405
    assert "Allow" not in response.headers
    violation = recorder.get("405-allow")
    assert "(the router serves GET, HEAD, OPTIONS, POST)" in violation.message
    assert "abort(405, valid_methods=" in violation.hint


def test_abort_405_gets_allow_from_the_url_map_in_fix_mode(recorder: Recorder) -> None:
    app = make_app(mode="fix", on_violation=recorder)
    response = app.test_client().post("/admin")
    assert response.status_code == 405
    # Every method the url_map serves at /admin, except the refused one (RFC 9110 §15.5.6).
    assert response.headers.getlist("Allow") == ["GET, HEAD, OPTIONS"]
    assert recorder.actions() == {"405-allow": "fixed"}


def test_abort_405_raises_in_strict_mode() -> None:
    app = make_app(mode="strict")
    with pytest.raises(StatusViolationError) as caught:
        app.test_client().post("/admin")
    assert [v.rule for v in caught.value.violations] == ["405-allow"]
    assert "valid_methods" in caught.value.violations[0].hint


def test_the_routers_own_405_is_already_right(recorder: Recorder) -> None:
    app = make_app(mode="strict", on_violation=recorder)
    response = app.test_client().post("/page")  # a GET-only route
    assert response.status_code == 405
    # Werkzeug's own Allow, from the url_map (in set order): complete, so nothing to report.
    assert sorted(response.headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS"]
    assert recorder.seen == []


def test_allowed_methods_reads_the_url_map() -> None:
    app = make_app(mode="off")
    from werkzeug.test import EnvironBuilder

    methods = allowed_methods(app)
    assert set(methods(EnvironBuilder(path="/admin", method="DELETE").get_environ()) or ()) == {
        "GET", "HEAD", "OPTIONS", "POST",
    }
    assert set(methods(EnvironBuilder(path="/page").get_environ()) or ()) == {"GET", "HEAD", "OPTIONS"}
    assert methods(EnvironBuilder(path="/nowhere").get_environ()) is None  # no rule: no knowledge


# -- flask-limiter ------------------------------------------------------------------------------


def limited_app(**options: Any) -> Flask:
    pytest.importorskip("flask_limiter")
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    app = Flask(__name__)
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://")

    @app.get("/search")
    @limiter.limit("1/minute")
    def search() -> str:
        return "results"

    StatusGuard(app, **options)
    return app


def test_flask_limiter_429_is_reported_in_log_mode(recorder: Recorder) -> None:
    client = limited_app(mode="log", on_violation=recorder).test_client()
    assert client.get("/search").status_code == 200
    response = client.get("/search")
    assert response.status_code == 429
    assert "Cache-Control" not in response.headers
    violation = recorder.get("429-not-storable")
    assert violation.level == "MUST"
    assert "flask-limiter" in violation.hint
    assert "RATELIMIT_HEADERS_ENABLED" in violation.hint


def test_flask_limiter_429_gets_no_store_in_fix_mode(recorder: Recorder) -> None:
    client = limited_app(mode="fix", on_violation=recorder).test_client()
    client.get("/search")
    response = client.get("/search")
    assert response.status_code == 429
    assert response.headers.getlist("Cache-Control") == ["no-store"]
    # flask-limiter's own, kept: the seconds left in its one-minute window (59 when a second ticked over)
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit()
    assert 1 <= int(retry_after) <= 60
    assert recorder.actions() == {"429-not-storable": "fixed"}


def test_flask_limiter_429_raises_in_strict_mode() -> None:
    client = limited_app(mode="strict").test_client()
    client.get("/search")
    with pytest.raises(StatusViolationError) as caught:
        client.get("/search")
    assert [v.rule for v in caught.value.violations] == ["429-not-storable"]


# -- 416 ----------------------------------------------------------------------------------------


def test_send_file_answers_an_unsatisfiable_range_correctly(sample_file: Path, recorder: Recorder) -> None:
    app = file_app(sample_file, mode="strict", on_violation=recorder)
    response = app.test_client().get("/file", headers={"Range": "bytes=100-200"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */11"
    assert recorder.seen == []


def test_abort_416_without_a_length_is_reported_with_the_flask_remedy(recorder: Recorder) -> None:
    app = make_app(mode="fix", on_violation=recorder)
    response = app.test_client().get("/range", headers={"Range": "bytes=100-200"})
    assert response.status_code == 416
    assert "Content-Range" not in response.headers  # the length is unknown: never guessed
    assert recorder.actions() == {"416-content-range": "unfixed"}
    assert "abort(416, length=" in recorder.get("416-content-range").hint


def test_abort_416_raises_in_strict_mode() -> None:
    app = make_app(mode="strict")
    with pytest.raises(StatusViolationError):
        app.test_client().get("/range", headers={"Range": "bytes=100-200"})


# -- configuration ------------------------------------------------------------------------------


def test_the_default_mode_follows_testing_and_debug_per_request() -> None:
    app = make_app()
    assert StatusGuard.middleware(app).policy.mode == "fix"
    assert app.test_client().get("/private").status_code == 401  # fix mode: reported, not raised
    app.testing = True  # the Flask docs' fixture idiom: set after the app was built
    assert StatusGuard.middleware(app).policy.mode == "strict"
    with pytest.raises(StatusViolationError):
        app.test_client().get("/private")
    app.testing = False
    app.debug = True
    assert StatusGuard.middleware(app).policy.mode == "strict"


def test_the_environment_mode_beats_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSGUARD_MODE", "log")
    app = make_app(testing=True)
    assert StatusGuard.middleware(app).policy.mode == "log"
    assert app.test_client().get("/private").status_code == 401


def test_keyword_options_beat_the_config(recorder: Recorder) -> None:
    app = make_app(
        config={"STATUSGUARD_MODE": "strict", "STATUSGUARD_WWW_AUTHENTICATE": "Basic"},
        mode="fix", www_authenticate=CHALLENGE, on_violation=recorder,
    )
    response = app.test_client().get("/private")
    assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_config_rules_are_applied() -> None:
    app = make_app(config={"STATUSGUARD_MODE": "strict", "STATUSGUARD_RULES": {"401-www-authenticate": "off"}})
    assert app.test_client().get("/private").status_code == 401


def test_init_app_pattern() -> None:
    guard = StatusGuard(mode="fix", www_authenticate=CHALLENGE)
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        abort(401)

    guard.init_app(app)
    assert app.test_client().get("/").headers["WWW-Authenticate"] == CHALLENGE
    with pytest.raises(ConfigurationError, match="already installed"):
        guard.init_app(app)


@pytest.mark.parametrize(
    ("options", "config", "message"),
    [
        ({"www_authenticat": "Basic"}, {}, "unknown option"),
        ({}, {"STATUSGUARD_MODE": "loud"}, "not a statusguard mode"),
        ({}, {"STATUSGUARD_WWW_AUTHENTICATE": "not a challenge!"}, "not a valid challenge"),
        ({}, {"STATUSGUARD_RULES": {"405-alow": "raise"}}, "did you mean"),
    ],
)
def test_bad_configuration_fails_at_init(options: dict[str, Any], config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make_app(config=config, **options)
