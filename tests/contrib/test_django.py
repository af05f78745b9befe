"""statusguard.contrib.django: the middleware on real Django and DRF responses, sync and async."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from statusguard import ConfigurationError, StatusViolationError

from .conftest import Recorder

pytest.importorskip("django")
pytest.importorskip("rest_framework")

CHALLENGE = 'Bearer realm="api"'
PROBLEM_400 = {"type": "about:blank", "title": "Bad Request", "status": 400}

MakeClient = Callable[..., Any]


@pytest.fixture
def make_client(django_configured: None) -> Iterator[MakeClient]:
    """``make_client(async_=False, debug=False, **STATUSGUARD)``: a test client over those settings."""
    from asgiref.sync import async_to_sync
    from django.core.cache import cache
    from django.test import AsyncClient, Client, override_settings

    from . import django_settings

    with ExitStack() as stack:
        stack.enter_context(override_settings(**django_settings.overridable()))
        cache.clear()  # DRF's throttle history

        def make(*, async_: bool = False, debug: bool = False, **statusguard: Any) -> Any:
            stack.enter_context(override_settings(STATUSGUARD=statusguard, DEBUG=debug))
            if not async_:
                return Client()
            client = AsyncClient()

            class Sync:  # drive the AsyncClient from a sync test, the way Django's own tests do
                def __getattr__(self, method: str) -> Any:
                    return async_to_sync(getattr(client, method))

            return Sync()

        yield make


def violations_on(response: Any) -> list[str]:
    return [v.rule for v in response.wsgi_request.META["statusguard.violations"]]


# -- HttpResponseNotAllowed -----------------------------------------------------------------------


def test_not_allowed_is_reported_in_log_mode(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="log", on_violation=recorder).post("/legacy")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert sorted(recorder.rules) == ["4xx-explain", "allow-get-implies-head"]
    assert violations_on(response) == recorder.rules
    assert 'HttpResponseNotAllowed(["GET"], "use GET")' in recorder.get("4xx-explain").hint


def test_not_allowed_is_completed_in_fix_mode(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="fix", on_violation=recorder).post("/legacy")
    assert response.status_code == 405
    assert response["Allow"] == "GET"  # a plain view: nothing says it answers HEAD (it does not), so no HEAD
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body == {"type": "about:blank", "title": "Method Not Allowed", "status": 405}
    assert response["Content-Length"] == str(len(response.content))
    assert recorder.actions() == {"allow-get-implies-head": "unfixed", "4xx-explain": "fixed"}


def test_not_allowed_raises_in_strict_mode(make_client: MakeClient) -> None:
    with pytest.raises(StatusViolationError) as caught:
        make_client(mode="strict").post("/legacy")
    assert sorted(v.rule for v in caught.value.violations) == ["4xx-explain", "allow-get-implies-head"]
    assert caught.value.path == "/legacy"


def test_strict_is_the_default_under_debug(make_client: MakeClient) -> None:
    with pytest.raises(StatusViolationError):
        make_client(debug=True).post("/legacy")
    assert make_client().post("/legacy").status_code == 405  # DEBUG off: fix mode


# -- require_http_methods -------------------------------------------------------------------------


def test_require_http_methods_is_reported_in_log_mode(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="log", on_violation=recorder).delete("/form")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert sorted(recorder.rules) == ["4xx-explain", "allow-get-implies-head"]


def test_require_http_methods_fix_keeps_exactly_the_decorator_list(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="fix", on_violation=recorder).delete("/form")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"  # require_http_methods(["GET", "POST"]) refuses HEAD: not listed
    assert recorder.actions()["allow-get-implies-head"] == "unfixed"
    assert "the route does not answer HEAD either" in recorder.get("allow-get-implies-head").message


def test_require_http_methods_raises_in_strict_mode(make_client: MakeClient) -> None:
    with pytest.raises(StatusViolationError):
        make_client(mode="strict").delete("/form")


def test_require_get_refuses_head_and_the_hint_says_require_safe(make_client: MakeClient, recorder: Recorder) -> None:
    client = make_client(mode="log", on_violation=recorder)
    response = client.head("/only-get")
    assert response.status_code == 405
    assert "require_safe" in recorder.get("allow-get-implies-head").hint
    recorder.clear()
    assert client.head("/safe").status_code == 200
    assert "allow-get-implies-head" not in recorder.rules
    # Strict mode raises while the head is held (a HEAD's body is awaited): the hint is there too.
    with pytest.raises(StatusViolationError) as caught:
        make_client(mode="strict").head("/only-get")
    assert "require_safe" in caught.value.violations[0].hint


# -- class-based views ----------------------------------------------------------------------------


def test_class_based_view_405(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="log", on_violation=recorder).delete("/article")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"  # View.http_method_not_allowed: complete
    assert recorder.rules == ["4xx-explain"]  # but empty
    response = make_client(mode="fix").delete("/article")
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"  # left as Django wrote it
    assert response["Content-Type"] == "application/problem+json"


# -- empty HttpResponseBadRequest() ---------------------------------------------------------------


def test_empty_bad_request_is_reported_in_log_mode(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="log", on_violation=recorder).get("/bad")
    assert response.status_code == 400
    assert response.content == b""
    violation = recorder.get("4xx-explain")
    assert "HttpResponseBadRequest() and its siblings are empty" in violation.hint


def test_empty_bad_request_gets_a_problem_body_in_fix_mode(make_client: MakeClient) -> None:
    response = make_client(mode="fix").get("/bad")
    assert response.status_code == 400
    assert json.loads(response.content) == PROBLEM_400
    assert response["Content-Type"] == "application/problem+json"
    assert response["Content-Length"] == str(len(response.content))


def test_empty_bad_request_raises_in_strict_mode(make_client: MakeClient) -> None:
    with pytest.raises(StatusViolationError) as caught:
        make_client(mode="strict").get("/bad")
    assert [v.rule for v in caught.value.violations] == ["4xx-explain"]


def test_streaming_responses_are_fixed_in_place(make_client: MakeClient) -> None:
    response = make_client(mode="fix").get("/empty-stream")
    assert response.streaming
    assert json.loads(b"".join(response.streaming_content)) == PROBLEM_400
    assert response["Content-Length"] == str(len(json.dumps(PROBLEM_400, separators=(",", ":"))))
    response = make_client(async_=True, mode="fix").get("/empty-stream-async")
    assert response.is_async  # still an async stream: no "synchronous iterator" warning under ASGI

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    from asgiref.sync import async_to_sync

    assert json.loads(async_to_sync(read)()) == PROBLEM_400


# -- HEAD to a plain view -------------------------------------------------------------------------


def test_head_body_is_seen_before_the_test_client_drops_it(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="log", on_violation=recorder).head("/hello")
    assert response.status_code == 200
    assert response.server_content == b"hello"  # what the WSGI handler was given
    assert response.content == b""  # the test client's conditional_content_removal, after us
    violation = recorder.get("head-no-content")
    assert violation.message == "the 200 answer to HEAD carries 5 bytes of content"
    assert recorder.actions() == {"head-no-content": "logged"}


def test_head_body_is_dropped_by_the_fix(make_client: MakeClient, recorder: Recorder) -> None:
    for mode in ("fix", "strict"):  # quiet: fixed even in strict mode
        recorder.clear()
        response = make_client(mode=mode, on_violation=recorder).head("/hello")
        assert response.status_code == 200
        assert response.server_content == b""
        assert response["Content-Length"] == "5"  # the GET's length (CommonMiddleware's), kept
        assert recorder.actions() == {"head-no-content": "quiet"}


def test_head_under_asgi(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(async_=True, mode="fix", on_violation=recorder).head("/hello-async")
    assert response.status_code == 200
    assert response.server_content == b""
    assert recorder.actions() == {"head-no-content": "quiet"}
    assert recorder.seen[0][1].gateway == "asgi"


def test_async_require_http_methods(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(async_=True, mode="fix", on_violation=recorder).delete("/form-async")
    assert response.status_code == 405
    assert response["Allow"] == "GET, PUT"  # exactly the decorator's list
    with pytest.raises(StatusViolationError):
        make_client(async_=True, mode="strict").delete("/form-async")


# -- 401 ------------------------------------------------------------------------------------------


def test_plain_401_gets_the_configured_challenge(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="fix", www_authenticate=CHALLENGE, on_violation=recorder).get("/private")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == CHALLENGE
    assert response.content == b"log in first"
    assert 'response["WWW-Authenticate"]' in recorder.get("401-www-authenticate").hint


def test_two_challenges_share_one_field_line(make_client: MakeClient) -> None:
    response = make_client(mode="fix", www_authenticate=[CHALLENGE, 'Basic realm="api"']).get("/private")
    assert response["WWW-Authenticate"] == f'{CHALLENGE}, Basic realm="api"'


# -- DRF: 401 turned into 403 ---------------------------------------------------------------------


def test_drf_without_an_authenticator_answers_403_and_the_hint_says_why(
    make_client: MakeClient, recorder: Recorder
) -> None:
    # 401-vs-403 is opt-in (only the app knows whether credentials would help): turn it on.
    response = make_client(mode="log", rules={"401-vs-403": "log"}, on_violation=recorder).get("/profile")
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    violation = recorder.get("401-vs-403")
    assert "the view has no authentication class" in violation.hint
    assert "authenticate_header()" in violation.hint


def test_drf_session_authentication_downgrades_401_to_403(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="log", rules={"401-vs-403": "log"}, on_violation=recorder).get("/session-profile")
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert "DRF turned this 401 into a 403" in recorder.get("401-vs-403").hint


def test_drf_403_is_not_fixable_and_raises_when_asked(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="fix", rules={"401-vs-403": "log"}, on_violation=recorder).get("/session-profile")
    assert response.status_code == 403  # never rewritten: only the app knows
    assert recorder.actions() == {"401-vs-403": "logged"}
    with pytest.raises(StatusViolationError) as caught:
        make_client(mode="strict", rules={"401-vs-403": "raise"}).get("/session-profile")
    assert "DRF turned this 401 into a 403" in str(caught.value)


def test_drf_403_is_not_reported_by_default(make_client: MakeClient, recorder: Recorder) -> None:
    assert make_client(mode="strict", on_violation=recorder).get("/session-profile").status_code == 403
    assert recorder.seen == []


def test_drf_with_an_authenticator_answers_401_with_a_challenge(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="strict", on_violation=recorder).get("/basic-profile")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="api"'
    assert recorder.seen == []


# -- DRF throttling -------------------------------------------------------------------------------


def test_drf_throttle_429_is_reported_in_log_mode(make_client: MakeClient, recorder: Recorder) -> None:
    client = make_client(mode="log", on_violation=recorder)
    assert client.get("/search").status_code == 200
    response = client.get("/search")
    assert response.status_code == 429
    assert "Cache-Control" not in response
    assert recorder.rules == ["429-not-storable"]
    assert "DRF throttling" in recorder.get("429-not-storable").hint


def test_drf_throttle_429_gets_no_store_in_fix_mode(make_client: MakeClient) -> None:
    client = make_client(mode="fix")
    client.get("/search")
    response = client.get("/search")
    assert response.status_code == 429
    assert response["Cache-Control"] == "no-store"
    assert int(response["Retry-After"]) > 0  # DRF's own
    assert "throttled" in response.json()["detail"]


def test_drf_throttle_429_raises_in_strict_mode(make_client: MakeClient) -> None:
    client = make_client(mode="strict")
    client.get("/search")
    with pytest.raises(StatusViolationError) as caught:
        client.get("/search")
    assert [v.rule for v in caught.value.violations] == ["429-not-storable"]


# -- DRF method knowledge -------------------------------------------------------------------------


def test_drf_api_view_refuses_head_and_the_hint_says_so(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="log", on_violation=recorder).get("/ping")
    assert response.status_code == 200
    assert sorted(response["Allow"].split(", ")) == ["GET", "OPTIONS"]  # DRF puts Allow on every response
    assert '@api_view(["GET", "HEAD"])' in recorder.get("allow-get-implies-head").hint


def test_drf_viewset_405_is_already_right(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="strict", on_violation=recorder).post("/things/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert recorder.seen == []


# -- configuration --------------------------------------------------------------------------------


def test_mode_off_removes_the_middleware(make_client: MakeClient, recorder: Recorder) -> None:
    response = make_client(mode="off", on_violation=recorder).get("/bad")
    assert response.status_code == 400
    assert "statusguard.violations" not in response.wsgi_request.META
    assert recorder.seen == []


def test_the_environment_mode_beats_the_debug_default(make_client: MakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSGUARD_MODE", "log")
    assert make_client(debug=True).post("/legacy").status_code == 405


def test_on_violation_as_a_dotted_path(make_client: MakeClient) -> None:
    with pytest.raises(ConfigurationError, match="on_violation"):
        make_client(on_violation="statusguard.nowhere.hook").get("/hello")


def test_unknown_keys_fail_at_load(make_client: MakeClient) -> None:
    with pytest.raises(ConfigurationError, match="www_authenticat"):
        make_client(www_authenticat="Basic").get("/hello")


def test_logging(make_client: MakeClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="statusguard"):
        make_client(mode="log").get("/bad")
    records = [r for r in caplog.records if r.name == "statusguard"]
    assert [getattr(r, "rule", None) for r in records] == ["4xx-explain"]
    assert "GET /bad -> 400" in records[0].getMessage()


# -- view_methods: router knowledge from the resolved view ----------------------------------------


def test_view_methods(django_configured: None) -> None:
    from django.urls import resolve
    from django.views.decorators.csrf import csrf_exempt
    from django.views.decorators.http import require_http_methods, require_POST

    from statusguard.contrib.django import view_methods

    from . import django_urls

    def func(path: str) -> Any:
        return resolve(path).func

    assert view_methods(func("/hello")) is None  # a plain function view answers anything
    assert view_methods(func("/form")) == {"GET", "POST"}
    assert view_methods(func("/form-async")) == {"GET", "PUT"}
    assert view_methods(func("/only-get")) == {"GET"}  # require_GET refuses HEAD
    assert view_methods(func("/safe")) == {"GET", "HEAD"}
    assert view_methods(func("/article")) == {"GET", "POST", "HEAD", "OPTIONS"}
    assert view_methods(func("/profile")) == {"GET", "HEAD", "OPTIONS"}
    assert view_methods(func("/ping")) == {"GET", "OPTIONS"}  # @api_view: HEAD not in http_method_names
    assert view_methods(func("/things/")) == {"GET", "HEAD", "OPTIONS"}  # the viewset route's actions
    assert view_methods(func("/things/1/")) == {"GET", "HEAD", "OPTIONS"}

    # Stacked decorators narrow; other decorators in between are looked through.
    stacked = csrf_exempt(require_POST(require_http_methods(["GET", "POST"])(django_urls.hello)))
    assert view_methods(stacked) == {"POST"}
    # as_view(http_method_names=...) narrows a class-based view.
    assert view_methods(django_urls.Article.as_view(http_method_names=["get"])) == {"GET"}
    assert view_methods(django_urls.Article.as_view(http_method_names=["get", "head"])) == {"GET", "HEAD"}


def test_view_methods_skips_what_dispatch_can_never_match(django_configured: None) -> None:
    """require_http_methods compares its list with the upper-case request.method, and View.dispatch
    looks up request.method.lower() in http_method_names (and then a handler of that name): a name
    in the other case is never served."""
    from django.test import RequestFactory
    from django.views.decorators.http import require_http_methods

    from statusguard.contrib.django import view_methods

    from . import django_urls

    decorated = require_http_methods(["get", "POST"])(django_urls.hello)
    view = django_urls.Article.as_view(http_method_names=["GET", "post"])
    factory = RequestFactory()
    for answers in (decorated, view):
        assert answers(factory.get("/x")).status_code == 405
        assert answers(factory.post("/x")).status_code == 200
        assert view_methods(answers) == {"POST"}
