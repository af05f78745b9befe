"""Every rule reads exactly what it declares (``reads=`` / ``fix_reads=``), and the engine trusts nothing else.

The engine derives from the declarations which heads wait for a body chunk, when the router is
asked, and which header values a remembered verdict depends on. So a declaration that misses a
fact is a silent bug in production (the rule never gets the fact, or a remembered verdict is replayed
for a response it does not fit), and one that names a fact the rule never reads costs every
response for nothing. These tests run each rule on recording facts (tests/recording.py) over the
catalogue's examples and over generated responses:

- nothing a check or a fix reads is undeclared;
- every declared fact is read somewhere: remove any one fact from any declaration and a test fails;
- the dispatch filters of a rule (methods, fields, interfaces, media types) are facts it declares;
- the length phase keeps the promise the memo relies on.

Then the two traps of the first release, as regression tests: a rule added in a test that reads
the router's allowed methods on a 200, or the value of Content-Length, behaves the same in
``check()``, in both middlewares and across repeated requests.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from recording import Fact, example_exchange, facts_read, random_exchange, undeclared

from statusguard import ASGIMiddleware, WSGIMiddleware, check
from statusguard.core import policy as policy_module
from statusguard.core.checker import build_exchange
from statusguard.core.model import Exchange
from statusguard.core.options import FixOptions
from statusguard.core.rule import Reads, Rule
from statusguard.core.rules import RULE_LIST, RULES

OPTIONS = (
    FixOptions.build(),
    FixOptions.build(
        www_authenticate='Bearer realm="api"', proxy_authenticate='Basic realm="proxy"', retry_after=120,
        upgrade="TLS/1.3", blocked_by="https://isp.example/", login_url="https://login.example/",
        status_map={418: 400}, cache_control={404: "no-store"},
    ),
)
EXAMPLES: list[Exchange] = [
    example_exchange(example) for rule in RULE_LIST for example in (*rule.examples_bad, *rule.examples_good)
]


def _pool(rule: Rule, size: int, seed: int) -> Iterator[Exchange]:
    """The catalogue's examples, then generated exchanges, half of them with the rule's statuses."""
    rng = random.Random(f"{rule.id}-{seed}")
    statuses = sorted(rule.statuses) if rule.statuses and min(rule.statuses) >= 100 else None
    yield from EXAMPLES
    for n in range(size):
        yield random_exchange(rng, statuses if n % 2 == 0 else None)


def _read(rule: Rule, pool: Iterator[Exchange]) -> tuple[set[Fact], set[Fact]]:
    checked: set[Fact] = set()
    fixed: set[Fact] = set()
    for x in pool:
        for options in OPTIONS:
            by_check, by_fix = facts_read(rule, x, options)
            checked |= by_check
            fixed |= by_fix
    return checked, fixed


@pytest.mark.parametrize("rule", RULE_LIST, ids=lambda rule: rule.id)
def test_a_rule_reads_nothing_it_did_not_declare(rule: Rule) -> None:
    checked, fixed = _read(rule, _pool(rule, 400, seed=0))
    assert undeclared(rule.reads, checked) == [], f"{rule.id}'s check reads facts missing from reads="
    assert undeclared(rule.reads.union([rule.fix_reads]), fixed) == [], (
        f"{rule.id}'s fix reads facts missing from reads= and fix_reads="
    )


@given(seed=st.integers(min_value=0, max_value=2**32))
def test_no_rule_reads_an_undeclared_fact_on_generated_responses(seed: int) -> None:
    rng = random.Random(seed)
    x = random_exchange(rng)
    for rule in RULE_LIST:
        for options in OPTIONS:
            by_check, by_fix = facts_read(rule, x, options)
            assert undeclared(rule.reads, by_check) == [], rule.id
            assert undeclared(rule.reads.union([rule.fix_reads]), by_fix) == [], rule.id


def _declared_facts(reads: Reads) -> list[tuple[str, Reads]]:
    """Each fact of a declaration, with the declaration that lacks just that fact."""
    out = [(f"field {name}", dataclasses.replace(reads, fields=reads.fields - {name})) for name in reads.fields]
    out += [(f"field {name}", dataclasses.replace(reads, syntax=reads.syntax - {name})) for name in reads.syntax]
    out += [
        (f"request field {name}", dataclasses.replace(reads, request_fields=reads.request_fields - {name}))
        for name in reads.request_fields
    ]
    if reads.body != "none":
        weaker = {"presence": "none", "length": "none", "content": "length"}[reads.body]
        out.append((f"body {reads.body}", dataclasses.replace(reads, body=weaker)))
    for flag in ("field_names", "method", "router", "known_methods", "interface", "http_version", "status_line",
                 "final"):
        if getattr(reads, flag):
            out.append((flag, dataclasses.replace(reads, **{flag: False})))
    return out


def _filter_facts(rule: Rule) -> set[Fact]:
    """What the dispatcher reads on the rule's behalf to decide whether the rule concerns a response."""
    facts: set[Fact] = set()
    if rule.methods is not None:
        facts.add(("method", ""))
    if rule.gateways is not None:
        facts.add(("interface", ""))
    if rule.content_types is not None:
        facts.add(("field", "content-type"))
    if rule.fields is not None:
        facts.add(("field_names", ""))
    return facts


@pytest.mark.parametrize("rule", RULE_LIST, ids=lambda rule: rule.id)
def test_removing_any_declared_fact_makes_the_recording_fail(rule: Rule) -> None:
    """The declarations are exact, not generous: each fact is read by the rule (or by its dispatch
    filter) on some response, so the test above fails when any one fact is removed."""
    checked, fixed = _read(rule, _pool(rule, 400, seed=1))
    checked |= _filter_facts(rule) | {("field", name) for name in rule.fields or ()}
    for fact, weaker in _declared_facts(rule.reads):
        assert undeclared(weaker, checked | fixed) != [], f"{rule.id} declares {fact} but never reads it"
    for fact, weaker in _declared_facts(rule.fix_reads):
        assert undeclared(rule.reads.union([weaker]), fixed) != [], f"{rule.id}'s fix declares {fact}, never reads it"


@pytest.mark.parametrize("rule", RULE_LIST, ids=lambda rule: rule.id)
def test_dispatch_filters_are_declared_facts(rule: Rule) -> None:
    assert undeclared(rule.reads, _filter_facts(rule) - {("field_names", "")}) == []
    if rule.fields is not None:
        assert rule.reads.field_names or rule.fields <= rule.reads.fields | rule.reads.syntax, rule.id


@pytest.mark.parametrize("rule", [r for r in RULE_LIST if r.phase == "length"], ids=lambda rule: rule.id)
def test_the_length_phase_passes_when_the_declared_length_went_out(rule: Rule) -> None:
    """The memo's promise (runtime/memo.py): a head whose Content-Length is plain digits, followed by
    exactly that many bytes, is never reported by the length phase, whatever the value."""
    rng = random.Random(rule.id)
    for _ in range(300):
        length = rng.choice([1, 2, 17, 4096, 10**12])
        x = random_exchange(rng)
        headers = [(name, value) for name, value in x.headers if name.lower() != "content-length"]
        exact = Exchange(
            x.status, [*headers, ("Content-Length", str(length))], body_length=length, method=x.method,
            request_headers=x._request_source, http_version=x._http_version, gateway=x.gateway,  # unknown stays unknown
            final=x._final, request_known=x.knows("request_fields"),
        )
        assert rule.check(exact) is None or not rule.reads.reads_field("content-length"), (
            f"{rule.id} fires on a response that sent exactly its Content-Length"
        )


_WELL_FORMED = {"content-length": ["1", "2", "17", "4096", "1000000000000"]}


@pytest.mark.parametrize("rule", [r for r in RULE_LIST if r.reads.syntax], ids=lambda rule: rule.id)
def test_a_syntax_only_reader_is_silent_on_every_well_formed_value(rule: Rule) -> None:
    """``Reads.syntax`` promises that the rule reads those values only to tell whether they are
    well-formed: so a remembered verdict for one well-formed value holds for all (runtime/memo.py)."""
    rng = random.Random(rule.id)
    for name in rule.reads.syntax:
        for _ in range(200):
            x = random_exchange(rng)
            headers = [(key, value) for key, value in x.headers if key.lower() != name]
            if name == "*":  # every field: a header list of well-formed lines only
                clean = build_exchange(x.status, headers, x.body, method=x.method, gateway=x.gateway)
                if clean.header_problems:
                    continue
                assert rule.check(clean) is None, (rule.id, clean.headers)
                continue
            for value in _WELL_FORMED[name]:
                assert rule.check(build_exchange(x.status, [*headers, (name, value)], None, method=x.method)) is None


def test_every_rule_declares_its_reads_explicitly() -> None:
    """``reads=`` is required by the catalogue's ``_rule``; a rule of the status alone says ``Reads()``."""
    assert all(isinstance(rule.reads, Reads) for rule in RULE_LIST)
    assert {rule.phase for rule in RULE_LIST} == {"head", "body", "length"}
    assert RULES["content-length-accurate"].phase == "length"
    assert RULES["4xx-explain"].phase == "body"


# -- the two traps ------------------------------------------------------------------------------


@pytest.fixture
def add_rule(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Add a rule to the catalogue for one test, as a contributor adding a rule would."""

    def add(rule: Rule) -> Rule:
        monkeypatch.setitem(RULES, rule.id, rule)  # type: ignore[arg-type]
        monkeypatch.setattr(policy_module, "RULE_LIST", (*policy_module.RULE_LIST, rule))
        return rule

    return add


def _router_rule() -> Rule:
    return Rule(
        id="test-200-router", level="SHOULD", summary="s", reference="r", hint="h", statuses=frozenset({200}),
        reads=Reads(router=True),
        check=lambda x: "the router also serves POST" if x.allowed_methods and "POST" in x.allowed_methods else None,
    )


def _length_rule() -> Rule:
    def check(x: Exchange) -> str | None:
        value = x.get("content-length")
        return f"Content-Length {value} is over 100" if value and value.isdigit() and int(value) > 100 else None

    return Rule(
        id="test-200-big-length", level="SHOULD", summary="s", reference="r", hint="h", statuses=frozenset({200}),
        reads=Reads(fields={"content-length"}), check=check,
    )


def _wsgi_app(lengths: list[int]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = b"x" * lengths.pop(0)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def _asgi_app(lengths: list[int]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b"x" * lengths.pop(0)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


def _serve_wsgi(middleware: WSGIMiddleware, times: int) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=middleware), base_url="http://test") as client:
        for _ in range(times):
            client.get("/items")


async def _serve_asgi(middleware: ASGIMiddleware, times: int) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=middleware), base_url="http://test") as client:
        for _ in range(times):
            await client.get("/items")


def test_a_rule_that_reads_the_router_on_a_200_gets_it_everywhere(add_rule: Any) -> None:
    rule = add_rule(_router_rule())
    found = check(200, [("Content-Type", "text/plain")], b"ok", allowed_methods=["GET", "POST"], rules={rule.id: "log"})
    assert [v.rule for v in found] == [rule.id]

    seen: list[str] = []
    wsgi = WSGIMiddleware(
        _wsgi_app([2, 2, 2]), mode="log", rules={rule.id: "log"}, on_violation=lambda v, c: seen.append(v.rule),
        allowed_methods=lambda environ: ["GET", "POST"],
    )
    _serve_wsgi(wsgi, 3)
    assert seen == [rule.id] * 3, "the WSGI middleware never asked the router for a 200, or replayed a verdict"

    seen.clear()
    asgi = ASGIMiddleware(
        _asgi_app([2, 2, 2]), mode="log", rules={rule.id: "log"}, on_violation=lambda v, c: seen.append(v.rule),
        allowed_methods=lambda scope: ["GET", "POST"],
    )
    import anyio

    anyio.run(_serve_asgi, asgi, 3)
    assert seen == [rule.id] * 3, "the ASGI middleware never asked the router for a 200, or replayed a verdict"


def test_a_rule_that_reads_content_length_is_judged_on_every_value(add_rule: Any) -> None:
    rule = add_rule(_length_rule())
    assert check(200, [("Content-Type", "text/plain"), ("Content-Length", "500")], b"x" * 500,
                 rules={rule.id: "log"})[0].rule == rule.id
    assert check(200, [("Content-Type", "text/plain"), ("Content-Length", "5")], b"x" * 5, rules={rule.id: "log"}) == []

    lengths = [5, 500, 7, 700]  # the same header names each time; only the value differs
    seen: list[str] = []
    wsgi = WSGIMiddleware(_wsgi_app(list(lengths)), mode="log", rules={rule.id: "log"},
                          on_violation=lambda v, c: seen.append(v.message))
    _serve_wsgi(wsgi, 4)
    assert seen == ["Content-Length 500 is over 100", "Content-Length 700 is over 100"]

    seen.clear()
    asgi = ASGIMiddleware(_asgi_app(list(lengths)), mode="log", rules={rule.id: "log"},
                          on_violation=lambda v, c: seen.append(v.message))
    import anyio

    anyio.run(_serve_asgi, asgi, 4)
    assert seen == ["Content-Length 500 is over 100", "Content-Length 700 is over 100"]
