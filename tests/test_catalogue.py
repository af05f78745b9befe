"""The catalogue against its spec (docs/spec/RULES.md) and against its own examples.

RULES.md is the source of truth for ids, levels and scope; these tests parse it rather than copy it,
so that a row added to the spec without a rule (or a rule whose level drifts) fails here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import NOT_CHECKABLE, RULES, Example, Rule, check

RULES_MD = Path(__file__).resolve().parent.parent / "docs" / "spec" / "RULES.md"

# RULES.md §Scope: "Required" = a needs column using only these.
_REQUIRED_NEEDS = re.compile(r"S|M|B|V|R|Q\([^)]*\)")
# Ids the catalogue adds beyond RULES.md's table (both split out of PEP 3333 / RFC 9110 §5 framing).
_IDS_BEYOND_SPEC = {"field-name-syntax", "field-value-syntax"}
# RULES.md lists heuristic-cacheable as a MAY, and MAY rows are never violations; the catalogue keeps it
# as an opt-in ADVISORY (off by default) for users who want the reminder. The one documented exception.
_LEVEL_EXCEPTIONS = {"heuristic-cacheable": ("MAY", "ADVISORY")}


@dataclass(frozen=True)
class Row:
    id: str
    codes: str
    level: str
    needs: tuple[str, ...]
    auto_fix: str


def _split_needs(cell: str) -> tuple[str, ...]:
    # "S,Q(If-*),G" -> ("S", "Q(If-*)", "G"); a comma inside Q(...) does not split.
    return tuple(part.strip() for part in re.split(r",(?![^(]*\))", cell) if part.strip())


def _spec_rows() -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for line in RULES_MD.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 8, f"RULES.md row does not have 8 columns: {line}"
        rule_id = cells[0].strip("`")
        assert rule_id not in rows, f"RULES.md lists {rule_id} twice"
        rows[rule_id] = Row(rule_id, cells[1], cells[3], _split_needs(cells[6]), cells[7])
    return rows


def _off_by_default_ids() -> set[str]:
    text = RULES_MD.read_text(encoding="utf-8")
    start = text.index("- **Off by default**")
    end = text.index("\n- ", start + 1)
    return set(re.findall(r"`([a-z0-9*-]+)`", text[start:end]))


SPEC = _spec_rows()
OFF_BY_DEFAULT = _off_by_default_ids()


def _is_required(row: Row) -> bool:
    return all(_REQUIRED_NEEDS.fullmatch(need) for need in row.needs)


def _run(rule: Rule, example: Example) -> list[str]:
    violations = check(
        example.status,
        example.headers,
        example.body,
        method=example.method,
        request_headers=example.request_headers,
        http_version=example.http_version,
        allowed_methods=example.allowed_methods,
        gateway=example.gateway,
        rules={rule.id: "log"},  # turns off-by-default rules on, so every example can be exercised
        known_methods=example.known_methods,
        final=example.final,
    )
    return [violation.rule for violation in violations]


# Spec <-> catalogue ------------------------------------------------------------------------------


def test_spec_parses_into_a_full_table() -> None:
    # Guards the parser itself: RULES.md has over a hundred rows, all with a known level.
    assert len(SPEC) > 100
    assert {row.level for row in SPEC.values()} <= {"MUST", "SHOULD", "MAY", "ADVISORY", "DEPRECATED"}
    assert "405-allow" in SPEC
    assert SPEC["405-allow"].needs == ("S", "R")
    assert SPEC["206-companion-headers"].needs == ("S", "Q(If-Range)", "G")


def test_every_required_non_may_row_is_a_rule_or_explained() -> None:
    missing = [
        row.id for row in SPEC.values()
        if _is_required(row) and row.level != "MAY" and row.id not in RULES and row.id not in NOT_CHECKABLE
    ]
    assert missing == []


def test_every_spec_row_is_a_rule_or_not_checkable() -> None:
    assert [rule_id for rule_id in SPEC if rule_id not in RULES and rule_id not in NOT_CHECKABLE] == []


def test_rule_ids_beyond_the_spec_are_only_the_documented_ones() -> None:
    # Ids are public and stable; a typo in an id would show up here as an unknown extra.
    assert set(RULES) - set(SPEC) == _IDS_BEYOND_SPEC


def test_not_checkable_entries_name_spec_rows_with_a_reason() -> None:
    for rule_id, reason in NOT_CHECKABLE.items():
        assert rule_id in SPEC, rule_id
        assert rule_id not in RULES, rule_id
        assert len(reason.strip()) > 10, rule_id


def test_may_rows_are_never_violations() -> None:
    # RULES.md §Scope: "MAY rows are hints, not violations".
    for row in SPEC.values():
        if row.level != "MAY":
            continue
        if row.id in _LEVEL_EXCEPTIONS:
            assert not RULES[row.id].enabled_by_default
        else:
            assert row.id not in RULES, row.id
            assert row.id in NOT_CHECKABLE, row.id


def test_off_by_default_list_is_parsed() -> None:
    expected = {
        "200-validators", "200-empty-consider-204", "heuristic-cacheable", "put-create-201-else-200-204",
        "put-validators-only-if-verbatim", "202-status-monitor", "authorized-response-shared-cache",
        "308-deployment",
    }
    assert expected == OFF_BY_DEFAULT


@pytest.mark.parametrize("rule_id", sorted(OFF_BY_DEFAULT))
def test_rules_the_spec_marks_off_by_default_are_off(rule_id: str) -> None:
    assert RULES[rule_id].enabled_by_default is False


@pytest.mark.parametrize(
    "rule_id", sorted(row.id for row in SPEC.values() if row.id in RULES and not _is_required(row))
)
def test_partial_rules_needing_deployment_or_get_context_are_off(rule_id: str) -> None:
    # RULES.md §Scope: rules that also need X or G are implemented only partially, and are off by default.
    assert RULES[rule_id].enabled_by_default is False


@pytest.mark.parametrize("rule_id", sorted(rule_id for rule_id in SPEC if rule_id in RULES))
def test_level_matches_spec(rule_id: str) -> None:
    spec_level = SPEC[rule_id].level
    expected = _LEVEL_EXCEPTIONS.get(rule_id, (spec_level, spec_level))
    assert spec_level == expected[0]
    assert RULES[rule_id].level == expected[1]


@pytest.mark.parametrize(
    "rule_id",
    sorted(row.id for row in SPEC.values() if row.id in RULES and "(opt-in)" in row.auto_fix and RULES[row.id].fixable),
)
def test_opt_in_fixes_are_not_applied_by_default(rule_id: str) -> None:
    assert RULES[rule_id].fix_by_default is False


def test_severity_follows_level() -> None:
    # RULES.md §Scope: MUST = error, SHOULD = warning, ADVISORY/DEPRECATED = info.
    expected = {"MUST": "error", "SHOULD": "warning", "ADVISORY": "info", "DEPRECATED": "info"}
    for rule in RULES.values():
        assert rule.severity == expected[rule.level], rule.id


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
def test_rule_is_documented(rule: Rule) -> None:
    assert rule.summary.strip()
    assert rule.reference.strip()
    assert rule.hint.strip()
    assert rule.why.strip()
    assert len(rule.examples_bad) >= 1
    assert len(rule.examples_good) >= 1
    assert rule.to_dict()["id"] == rule.id


def test_public_api_exports() -> None:
    for name in statusguard.__all__:
        assert hasattr(statusguard, name), name


# Examples ------------------------------------------------------------------------------------------

BAD = [
    pytest.param(rule, example, id=f"{rule.id}-bad{index}")
    for rule in RULES.values()
    for index, example in enumerate(rule.examples_bad)
]
GOOD = [
    pytest.param(rule, example, id=f"{rule.id}-good{index}")
    for rule in RULES.values()
    for index, example in enumerate(rule.examples_good)
]


@pytest.mark.parametrize(("rule", "example"), BAD)
def test_bad_example_fires_its_rule(rule: Rule, example: Example) -> None:
    assert rule.id in _run(rule, example)


@pytest.mark.parametrize(("rule", "example"), GOOD)
def test_good_example_leaves_its_rule_silent(rule: Rule, example: Example) -> None:
    assert rule.id not in _run(rule, example)


# A correct app ----------------------------------------------------------------------------------

CORRECT_APP = [
    pytest.param(
        200, [("Content-Type", "application/json"), ("Content-Length", "11")], b'{"ok":true}', "GET", [],
        id="200-json",
    ),
    pytest.param(302, [("Location", "/login?next=%2F"), ("Content-Length", "0")], b"", "GET", [], id="302-relative"),
    pytest.param(
        404, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "18")], b"<h1>Not Found</h1>",
        "GET", [], id="404-with-body",
    ),
    pytest.param(
        206,
        [("Content-Type", "video/mp4"), ("Content-Range", "bytes 0-4/1000"), ("Content-Length", "5"),
         ("ETag", '"v1"'), ("Accept-Ranges", "bytes")],
        b"\x00\x01\x02\x03\x04", "GET", [("Range", "bytes=0-4")],
        id="206-to-range-get",
    ),
    pytest.param(
        304, [("ETag", '"v1"'), ("Cache-Control", "max-age=60")], b"", "GET", [("If-None-Match", '"v1"')],
        id="304-to-if-none-match",
    ),
    pytest.param(
        201, [("Location", "/orders/42"), ("Content-Type", "application/json"), ("Content-Length", "9")],
        b'{"id":42}', "POST", [("Content-Type", "application/json")],
        id="201-to-post",
    ),
    pytest.param(204, [], b"", "DELETE", [], id="204-empty"),
    pytest.param(
        200, [("Content-Type", "text/html"), ("Content-Length", "5120")], b"", "HEAD", [], id="head-with-length",
    ),
    pytest.param(
        401,
        [("WWW-Authenticate", 'Bearer realm="api"'), ("Content-Type", "application/json"), ("Content-Length", "2")],
        b"{}", "GET", [],
        id="401-with-challenge",
    ),
    pytest.param(
        405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain"), ("Content-Length", "18")],
        b"Method Not Allowed", "POST", [],
        id="405-with-allow",
    ),
]


# The WSGI status lines for the same responses (PEP 3333: "NNN Reason"; RFC 9110 §15 phrases).
_STATUS_LINES = {
    200: "200 OK", 201: "201 Created", 204: "204 No Content", 206: "206 Partial Content", 302: "302 Found",
    304: "304 Not Modified", 401: "401 Unauthorized", 404: "404 Not Found", 405: "405 Method Not Allowed",
}


@pytest.mark.parametrize(("status", "headers", "body", "method", "request_headers"), CORRECT_APP)
@pytest.mark.parametrize("gateway", [None, "wsgi", "asgi"])
def test_correct_responses_yield_no_violation(
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    method: str,
    request_headers: list[tuple[str, str]],
    gateway: str | None,
) -> None:
    status_arg: int | str = _STATUS_LINES[status] if gateway == "wsgi" else status
    assert check(status_arg, headers, body, method=method, request_headers=request_headers, gateway=gateway) == []


@pytest.mark.parametrize(("status", "headers", "body", "method", "request_headers"), CORRECT_APP)
def test_correct_responses_pass_fix_unchanged(
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    method: str,
    request_headers: list[tuple[str, str]],
) -> None:
    result = statusguard.fix(status, headers, body, method=method, request_headers=request_headers)
    assert (result.status, result.headers, result.body, result.fixed) == (status, headers, body, ())


# Fixes ------------------------------------------------------------------------------------------

# Configuration a fix may need (fixes never invent a challenge, a Retry-After or a login URL).
_FIX_OPTIONS: dict[str, Any] = {
    "www_authenticate": 'Bearer realm="api"', "proxy_authenticate": 'Basic realm="proxy"',
    "retry_after": {413: 60, 429: 120, 503: 120}, "upgrade": "TLS/1.3", "blocked_by": "https://isp.example/",
    "login_url": "https://login.example/", "status_map": {509: 503, 499: 400, 418: 400},
    "cache_control": {404: "max-age=60"}, "known_methods": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
}
_ROUTER = frozenset({"GET", "POST"})  # for the examples of rules whose fix writes what the router says


@pytest.mark.parametrize("rule", [rule for rule in RULES.values() if rule.fixable], ids=lambda rule: rule.id)
def test_every_fix_mends_one_of_its_bad_examples(rule: Rule) -> None:
    """A fix reports "fixed" only when its rule passes afterwards, and some bad example shows it working."""
    mended = []
    for example in rule.examples_bad:
        result = statusguard.fix(
            example.status, list(example.headers), example.body, method=example.method,
            request_headers=list(example.request_headers), http_version=example.http_version,
            allowed_methods=example.allowed_methods if example.allowed_methods is not None else _ROUTER,
            gateway=example.gateway, rules={rule.id: "fix"}, **_FIX_OPTIONS,
        )
        if rule.id in result.fixed:
            assert rule.id not in {v.rule for v in result.remaining}, f"{rule.id} says fixed but still fires"
            mended.append(example)
    assert mended, f"no bad example of {rule.id} is mended by its fix: add one that shows the fix working"


def test_the_may_rows_that_feed_fixes_are_spec_rows_never_violations() -> None:
    from statusguard.core.options import FixOptions
    from statusguard.core.rules import ADDITIONS

    spec = _spec_rows()
    assert {addition.id for addition in ADDITIONS} == {"429-retry-after", "503-retry-after"}
    for addition in ADDITIONS:
        assert spec[addition.id].level == "MAY"
        assert addition.id in NOT_CHECKABLE
        assert addition.id not in RULES
        assert isinstance(getattr(FixOptions.build(), addition.option), dict)
        status = min(addition.statuses)
        correct = [("Content-Type", "text/plain"), ("Cache-Control", "no-store")]
        added = statusguard.fix(status, correct, b"x", **{addition.option: {status: "7"}})
        assert (addition.field, "7") in added.headers
        assert not added.fixed
        assert not added.remaining
        assert statusguard.check(status, correct, b"x") == []  # its absence is never a violation
