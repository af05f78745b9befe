"""statusguard.contrib.starlette on FastAPI: HTTPException idioms, split routes, included routers, slowapi."""

from __future__ import annotations

from typing import Any

import pytest

from statusguard import StatusViolationError

from .conftest import Recorder, asgi_call, starlette_test_client

pytest.importorskip("fastapi")
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from statusguard.contrib.starlette import StatusGuardMiddleware, allowed_methods

TestClient = starlette_test_client()

CHALLENGE = 'Bearer realm="api"'
PROXY_CHALLENGE = 'Basic realm="proxy"'
DETAIL_405 = b'{"detail":"Method Not Allowed"}'


def make_app(**options: Any) -> FastAPI:
    app = FastAPI()
    app.add_middleware(StatusGuardMiddleware, **options)

    @app.get("/me")
    def me() -> dict[str, str]:
        raise HTTPException(status_code=401, detail="Not authenticated")

    @app.api_route("/legacy", methods=["GET", "POST"])
    def legacy(request: Request) -> dict[str, str]:
        if request.method == "POST":
            raise HTTPException(status_code=405, detail="Read-only now")
        return {"legacy": "yes"}

    @app.get("/upstream")
    def upstream() -> dict[str, str]:
        raise HTTPException(status_code=407, detail="Proxy authentication required")

    @app.get("/old-protocol")
    def old_protocol() -> dict[str, str]:
        raise HTTPException(status_code=426, detail="Upgrade required")

    @app.get("/busy")
    def busy() -> dict[str, str]:
        raise HTTPException(status_code=429, detail="Slow down")

    # One route per method on one path: FastAPI's own 405 lists only the first route's methods.
    @app.get("/items")
    def list_items() -> list[int]:
        return [1, 2]

    @app.post("/items")
    def create_item() -> int:
        return 3

    @app.delete("/items/{item_id}")
    def delete_item(item_id: int) -> JSONResponse:
        return JSONResponse(None, status_code=204)

    router = APIRouter(prefix="/v2")

    @router.get("/things")
    def list_things() -> list[int]:
        return []

    @router.put("/things")
    def put_things() -> list[int]:
        return []

    app.include_router(router)
    return app


# -- HTTPException(401) ---------------------------------------------------------------------------


def test_401_is_reported_in_log_mode(recorder: Recorder) -> None:
    response = TestClient(make_app(mode="log", on_violation=recorder)).get("/me")
    assert response.status_code == 401
    assert "www-authenticate" not in response.headers
    violation = recorder.get("401-www-authenticate")
    assert recorder.actions() == {"401-www-authenticate": "logged"}
    assert 'HTTPException(401, headers={"WWW-Authenticate"' in violation.hint


def test_401_gets_the_configured_challenge_in_fix_mode() -> None:
    response = TestClient(make_app(mode="fix", www_authenticate=CHALLENGE)).get("/me")
    assert response.status_code == 401
    assert response.headers.get_list("www-authenticate") == [CHALLENGE]
    assert response.json() == {"detail": "Not authenticated"}


def test_401_raises_in_strict_mode() -> None:
    with pytest.raises(StatusViolationError) as caught:
        TestClient(make_app(mode="strict")).get("/me")
    assert [v.rule for v in caught.value.violations] == ["401-www-authenticate"]
    assert "fastapi.security" in str(caught.value)


# -- HTTPException(405) ---------------------------------------------------------------------------


def test_405_is_reported_in_log_mode(recorder: Recorder) -> None:
    response = TestClient(make_app(mode="log", on_violation=recorder)).post("/legacy")
    assert response.status_code == 405
    assert "allow" not in response.headers
    assert "(the router serves GET, POST)" in recorder.get("405-allow").message  # api_route: no HEAD


def test_405_gets_allow_from_the_routes_in_fix_mode(recorder: Recorder) -> None:
    response = TestClient(make_app(mode="fix", on_violation=recorder)).post("/legacy")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"  # the route refuses HEAD: it is not advertised
    assert response.json() == {"detail": "Read-only now"}
    assert recorder.actions() == {"405-allow": "fixed"}


def test_405_raises_in_strict_mode() -> None:
    with pytest.raises(StatusViolationError) as caught:
        TestClient(make_app(mode="strict")).post("/legacy")
    assert [v.rule for v in caught.value.violations] == ["405-allow"]
    assert 'HTTPException(405, headers={"Allow"' in caught.value.violations[0].hint


# -- HTTPException(407) and (426): hop-by-hop fields only ASGI can send ---------------------------


def test_407_and_426_are_reported_in_log_mode(recorder: Recorder) -> None:
    client = TestClient(make_app(mode="log", on_violation=recorder))
    assert client.get("/upstream").status_code == 407
    assert client.get("/old-protocol").status_code == 426
    assert recorder.rules == ["407-proxy-authenticate", "426-upgrade-field"]
    assert 'headers={"Proxy-Authenticate"' in recorder.get("407-proxy-authenticate").hint
    assert 'headers={"Upgrade"' in recorder.get("426-upgrade-field").hint


def test_407_and_426_are_completed_in_fix_mode() -> None:
    client = TestClient(make_app(mode="fix", proxy_authenticate=PROXY_CHALLENGE, upgrade="TLS/1.3"))
    response = client.get("/upstream")
    assert response.status_code == 407
    assert response.headers["proxy-authenticate"] == PROXY_CHALLENGE
    response = client.get("/old-protocol")
    assert response.status_code == 426
    assert response.headers["upgrade"] == "TLS/1.3"
    assert response.headers["connection"] == "upgrade"


def test_407_and_426_raise_in_strict_mode() -> None:
    client = TestClient(make_app(mode="strict"))
    for path, rule in (("/upstream", "407-proxy-authenticate"), ("/old-protocol", "426-upgrade-field")):
        with pytest.raises(StatusViolationError) as caught:
            client.get(path)
        assert [v.rule for v in caught.value.violations] == [rule]


# -- HTTPException(429) ---------------------------------------------------------------------------


def test_429_is_reported_in_log_mode(recorder: Recorder) -> None:
    response = TestClient(make_app(mode="log", on_violation=recorder)).get("/busy")
    assert response.status_code == 429
    assert recorder.rules == ["429-not-storable"]
    assert '"Cache-Control": "no-store"' in recorder.get("429-not-storable").hint


def test_429_gets_no_store_in_fix_mode() -> None:
    response = TestClient(make_app(mode="fix", retry_after=30)).get("/busy")
    assert response.status_code == 429
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["retry-after"] == "30"  # configured: added on 429 (a MAY, RFC 6585 §4)
    assert response.json() == {"detail": "Slow down"}


def test_429_raises_in_strict_mode() -> None:
    with pytest.raises(StatusViolationError) as caught:
        TestClient(make_app(mode="strict")).get("/busy")
    assert [v.rule for v in caught.value.violations] == ["429-not-storable"]


def test_slowapi_429(recorder: Recorder) -> None:
    pytest.importorskip("slowapi")
    from slowapi import Limiter, _rate_limit_exceeded_handler
    from slowapi.errors import RateLimitExceeded
    from slowapi.util import get_remote_address

    limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
    app = FastAPI()
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]
    app.add_middleware(StatusGuardMiddleware, mode="fix", on_violation=recorder)

    @app.get("/search")
    @limiter.limit("1/minute")
    def search(request: Request, response: Response) -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)
    assert client.get("/search").status_code == 200
    response = client.get("/search")
    assert response.status_code == 429
    assert response.headers["cache-control"] == "no-store"
    # slowapi's, with headers_enabled=True: the seconds left in its one-minute window (59 when a second ticked over)
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit()
    assert 1 <= int(retry_after) <= 60
    assert recorder.actions() == {"429-not-storable": "fixed"}
    assert "slowapi" in recorder.get("429-not-storable").hint


# -- one route per method; included routers ------------------------------------------------------


def test_split_routes_are_reported_in_log_mode(recorder: Recorder) -> None:
    response = TestClient(make_app(mode="log", on_violation=recorder)).delete("/items")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"  # FastAPI's: the first route's methods only
    assert sorted(recorder.rules) == ["405-allow-coherent", "allow-get-implies-head"]
    assert "omits POST" in recorder.get("405-allow-coherent").message


def test_split_routes_allow_lists_every_method_in_fix_mode(recorder: Recorder) -> None:
    response = TestClient(make_app(mode="fix", on_violation=recorder)).delete("/items")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"  # every route's methods; no HEAD: @app.get refuses it
    assert response.content == DETAIL_405
    assert recorder.actions() == {"allow-get-implies-head": "unfixed", "405-allow-coherent": "fixed"}


def test_split_routes_raise_in_strict_mode() -> None:
    with pytest.raises(StatusViolationError) as caught:
        TestClient(make_app(mode="strict")).delete("/items")
    # allow-get-implies-head is a SHOULD (raised); 405-allow-coherent is ADVISORY (logged).
    assert [v.rule for v in caught.value.violations] == ["allow-get-implies-head"]


def test_included_router(recorder: Recorder) -> None:
    response = TestClient(make_app(mode="fix", on_violation=recorder)).delete("/v2/things")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT"


def test_allowed_methods_factory() -> None:
    app = make_app(mode="off")
    scope = {"type": "http", "method": "DELETE", "path": "/items", "root_path": "", "headers": []}
    assert set(allowed_methods(app)(scope) or ()) == {"GET", "POST"}  # APIRoute adds no HEAD to GET
    scope["path"] = "/v2/things"
    assert set(allowed_methods(app)(scope) or ()) == {"GET", "PUT"}
    scope["path"] = "/items/7"
    assert set(allowed_methods(app)(scope) or ()) == {"DELETE"}


# -- HEAD to a GET route --------------------------------------------------------------------------


def test_head_to_a_get_route(recorder: Recorder) -> None:
    before = asgi_call(make_app(mode="off"), "HEAD", "/items")
    # FastAPI's @app.get does not serve HEAD: a 405 whose body goes out too.
    assert (before.status, before.header("allow"), before.body) == (405, ["GET"], DETAIL_405)
    after = asgi_call(make_app(mode="fix", on_violation=recorder), "HEAD", "/items")
    assert after.status == 405
    assert after.body == b""  # head-no-content, fixed quietly
    assert after.header("content-length") == [str(len(DETAIL_405))]
    assert recorder.actions()["head-no-content"] == "quiet"
    violation = recorder.get("allow-get-implies-head")
    assert "@app.api_route(path, methods=[\"GET\", \"HEAD\"])" in violation.hint
    with pytest.raises(StatusViolationError) as caught:
        TestClient(make_app(mode="strict")).head("/items")
    assert [v.rule for v in caught.value.violations] == ["allow-get-implies-head"]


# -- JSONResponse(status_code=204) ----------------------------------------------------------------


def test_204_with_a_json_body(recorder: Recorder) -> None:
    before = asgi_call(make_app(mode="off"), "DELETE", "/items/7")
    assert (before.status, before.body) == (204, b"null")  # 4 bytes the client will read as the next response
    log = asgi_call(make_app(mode="log", on_violation=recorder), "DELETE", "/items/7")
    assert log.body == b"null"
    assert recorder.rules == ["204-no-content"]
    assert "Response(status_code=204)" in recorder.get("204-no-content").hint
    recorder.clear()
    after = asgi_call(make_app(mode="fix", on_violation=recorder), "DELETE", "/items/7")
    assert (after.status, after.body, after.header("content-length")) == (204, b"", [])
    assert after.headers == [("content-type", "application/json")]
    assert recorder.actions() == {"204-no-content": "fixed"}
    with pytest.raises(StatusViolationError) as caught:
        TestClient(make_app(mode="strict")).delete("/items/7")
    assert [v.rule for v in caught.value.violations] == ["204-no-content"]
