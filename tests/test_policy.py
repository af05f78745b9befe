"""Modes, selectors and configuration errors (policy.py; RULES.md §Scope on levels and defaults)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from statusguard import RULES, Action, ConfigurationError, Policy, StatusViolationError, Violation, check, fix
from statusguard.core.policy import ENV_MODE


@pytest.fixture(autouse=True)
def _no_mode_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_MODE, raising=False)


# Modes -------------------------------------------------------------------------------------------------

# One representative per kind of rule: level, fixable or not, quiet or not.
KINDS = {
    "must-unfixable": "226-a-im-and-etag",
    "must-fixable": "204-no-content",
    "should-fixable": "4xx-explain",
    "should-opt-in-fix": "405-vs-501",
    "advisory": "402-reserved",
    "deprecated": "305-deprecated",
    "quiet-head-body": "head-no-content",
    "quiet-204-length": "204-no-content-length",
}


@pytest.mark.parametrize(
    ("mode", "kind", "expected"),
    [
        pytest.param("off", kind, Action.OFF, id=f"off-{kind}") for kind in KINDS
    ] + [
        pytest.param("log", kind, Action.LOG, id=f"log-{kind}") for kind in KINDS
    ] + [
        pytest.param("fix", "must-unfixable", Action.LOG, id="fix-must-unfixable"),
        pytest.param("fix", "must-fixable", Action.FIX, id="fix-must-fixable"),
        pytest.param("fix", "should-fixable", Action.FIX, id="fix-should-fixable"),
        pytest.param("fix", "should-opt-in-fix", Action.LOG, id="fix-opt-in-fix-is-not-applied"),
        pytest.param("fix", "advisory", Action.LOG, id="fix-advisory"),
        pytest.param("fix", "deprecated", Action.LOG, id="fix-deprecated"),
        pytest.param("fix", "quiet-head-body", Action.FIX, id="fix-quiet-head-body"),
        pytest.param("fix", "quiet-204-length", Action.FIX, id="fix-quiet-204-length"),
        # strict: MUST and SHOULD raise, ADVISORY/DEPRECATED log; what the stack routinely does is fixed quietly.
        pytest.param("strict", "must-unfixable", Action.RAISE, id="strict-must-unfixable"),
        pytest.param("strict", "must-fixable", Action.RAISE, id="strict-must-fixable"),
        pytest.param("strict", "should-fixable", Action.RAISE, id="strict-should"),
        pytest.param("strict", "should-opt-in-fix", Action.RAISE, id="strict-should-opt-in-fix"),
        pytest.param("strict", "advisory", Action.LOG, id="strict-advisory"),
        pytest.param("strict", "deprecated", Action.LOG, id="strict-deprecated"),
        pytest.param("strict", "quiet-head-body", Action.FIX, id="strict-quiet-head-body"),
        pytest.param("strict", "quiet-204-length", Action.FIX, id="strict-quiet-204-length"),
    ],
)
def test_mode_defaults(mode: str, kind: str, expected: Action) -> None:
    rule = RULES[KINDS[kind]]
    status = min(rule.statuses) if rule.statuses else 200
    assert Policy(mode=mode).action(rule, status) is expected


def test_strict_raises_on_every_must_and_should_that_is_not_quiet() -> None:
    policy = Policy(mode="strict")
    for rule in RULES.values():
        if not rule.enabled_by_default:
            continue
        action = policy.action(rule, 200)
        if rule.quiet and rule.fixable:
            assert action is Action.FIX, rule.id
        elif rule.level in ("MUST", "SHOULD"):
            assert action is Action.RAISE, rule.id
        else:
            assert action is Action.LOG, rule.id


def test_the_quiet_rules_are_the_two_the_spec_names() -> None:
    # RULES.md §Scope: a body on a HEAD response (and Django's Content-Length: 0 on 204) are fixed, not raised.
    assert {rule.id for rule in RULES.values() if rule.quiet} == {"head-no-content", "204-no-content-length"}


def test_off_mode_enables_nothing() -> None:
    policy = Policy(mode="off", rules={"405-allow": "raise"})
    assert policy.enabled_rules == ()
    assert policy.action(RULES["405-allow"], 405) is Action.OFF


def test_default_mode_is_fix() -> None:
    assert Policy().mode == "fix"
    assert Policy(default_mode="log").mode == "log"


def test_str_of_an_action_is_its_value() -> None:
    assert str(Action.RAISE) == "raise"
    assert f"{Action.FIX}" == "fix"


# $STATUSGUARD_MODE ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "explicit", "expected"),
    [
        pytest.param("strict", None, "strict", id="env-overrides-default"),
        pytest.param("  STRICT ", None, "strict", id="env-case-and-spaces"),
        pytest.param("off", "log", "log", id="explicit-beats-env"),
        pytest.param("", None, "fix", id="empty-env-ignored"),
    ],
)
def test_env_mode(monkeypatch: pytest.MonkeyPatch, env: str, explicit: str | None, expected: str) -> None:
    monkeypatch.setenv(ENV_MODE, env)
    assert Policy(mode=explicit).mode == expected


def test_bad_env_mode_names_the_variable_and_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MODE, "loud")
    with pytest.raises(ConfigurationError, match=r"\$STATUSGUARD_MODE='loud'"):
        Policy()
    assert Policy(mode="log").mode == "log"  # an explicit mode never reads the variable


def test_check_and_fix_do_not_read_the_env_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MODE, "off")
    assert [v.rule for v in check(405, [("Content-Type", "text/plain")], b"x", rules={"405-allow": "log"})] \
        == ["405-allow"]
    assert "204-no-content" in fix(204, [], b"x").fixed


# Selectors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "rule_id", "status", "expected"),
    [
        pytest.param({"4xx": "raise"}, "4xx-explain", 404, Action.RAISE, id="class"),
        pytest.param({"4xx": "raise"}, "5xx-explain", 500, Action.FIX, id="class-other-statuses-default"),
        pytest.param({"4xx": "raise", "404": "log"}, "4xx-explain", 404, Action.LOG, id="status-beats-class"),
        pytest.param({"4xx": "raise", "404": "log"}, "4xx-explain", 410, Action.RAISE, id="status-is-exact"),
        pytest.param({"404": "log", "4xx-*": "off"}, "4xx-explain", 404, Action.OFF, id="glob-beats-status"),
        pytest.param({"4xx-*": "off", "4xx-explain": "raise"}, "4xx-explain", 404, Action.RAISE,
                     id="id-beats-glob"),
        pytest.param({"4xx": "log", "404": "off", "4*": "raise", "4xx-explain": "fix"}, "4xx-explain", 404,
                     Action.FIX, id="id-beats-all"),
        pytest.param({"*-explain": "log", "4xx-*": "raise"}, "4xx-explain", 404, Action.LOG,
                     id="longer-literal-glob-wins"),
        pytest.param({"4*": "off", "4xx-e*": "raise"}, "4xx-explain", 404, Action.RAISE,
                     id="longer-literal-glob-wins-either-order"),
        pytest.param({"40?-reserved": "raise"}, "402-reserved", 402, Action.RAISE, id="question-mark-glob"),
        pytest.param({"40*": "fix"}, "402-reserved", 402, Action.LOG, id="fix-via-glob-on-unfixable-logs"),
        pytest.param({429: "off"}, "429-not-storable", 429, Action.OFF, id="int-status-key"),
        pytest.param({"405-allow": "RAISE"}, "405-allow", 405, Action.RAISE, id="action-case-insensitive"),
        pytest.param({"405-allow": Action.LOG}, "405-allow", 405, Action.LOG, id="action-enum"),
    ],
)
def test_selector_precedence(rules: dict[Any, Any], rule_id: str, status: int, expected: Action) -> None:
    assert Policy(mode="fix", rules=rules).action(RULES[rule_id], status) is expected


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(None, Action.OFF, id="off-by-default"),
        pytest.param({"200": "log"}, Action.OFF, id="status-does-not-enable"),
        pytest.param({"2xx": "raise"}, Action.OFF, id="class-does-not-enable"),
        pytest.param({"200-validators": "log"}, Action.LOG, id="id-enables"),
        pytest.param({"200-*": "raise"}, Action.RAISE, id="glob-enables"),
        pytest.param({"200-validators": "fix"}, Action.FIX, id="id-enables-its-fix"),
        pytest.param({"200-validators": "log", "200": "raise"}, Action.LOG, id="id-beats-status-once-on"),
        pytest.param({"200-*": "log", "200-validators": "off"}, Action.OFF, id="id-off-beats-glob-on"),
        pytest.param({"200-validators": "off"}, Action.OFF, id="named-off"),
    ],
)
def test_opt_in_rules_are_enabled_only_when_named(rules: dict[str, str] | None, expected: Action) -> None:
    policy = Policy(mode="fix", rules=rules)
    rule = RULES["200-validators"]
    assert policy.action(rule, 200) is expected
    assert (rule in policy.enabled_rules) is (expected is not Action.OFF)


def test_a_rule_turned_off_by_id_leaves_the_dispatcher() -> None:
    policy = Policy(rules={"405-allow": "off"})
    assert RULES["405-allow"] not in policy.enabled_rules
    assert RULES["405-allow-coherent"] in policy.enabled_rules


def test_describe() -> None:
    policy = Policy(mode="strict", rules={"5xx": "log"})
    assert policy.describe() == {"mode": "strict", "rules": {"5xx": "log"}, "enabled": len(policy.enabled_rules)}


# Configuration errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        pytest.param({"mode": "loud"}, ["'loud'", "strict"], id="bad-mode"),
        pytest.param({"mode": "STRICT"}, ["'STRICT'"], id="mode-case"),
        pytest.param({"rules": {"405-allow": "shout"}}, ["'shout'", "raise"], id="bad-action"),
        pytest.param({"rules": {"405-allow": ["log"]}}, ["['log']"], id="unhashable-action"),
        pytest.param({"rules": {"405-allow": None}}, ["None"], id="none-action"),
        pytest.param({"rules": {"405-alow": "log"}}, ["'405-alow'", "did you mean '405-allow'"], id="typo-in-id"),
        pytest.param({"rules": {"retry-after-sintax": "log"}}, ["'retry-after-sintax'", "'retry-after-syntax'"],
                     id="typo-suggests-close-match"),
        pytest.param({"rules": {"zzz-*": "log"}}, ["'zzz-*'", "matches no rule"], id="glob-matching-nothing"),
        pytest.param({"rules": {"600": "log"}}, ["'600'"], id="status-out-of-range"),
        pytest.param({"rules": {"6xx": "log"}}, ["'6xx'"], id="class-out-of-range"),
        pytest.param({"rules": {"402-reserved": "fix"}}, ["402-reserved", "no automatic fix"], id="fix-on-unfixable"),
        pytest.param({"rules": ["405-allow"]}, ["['405-allow']", "mapping"], id="rules-not-a-mapping"),
        pytest.param({"www_authenticate": 'Basic realm="a"\r\nSet-Cookie: x=1'}, ["www_authenticate", "CR, LF"],
                     id="challenge-with-crlf"),
        pytest.param({"proxy_authenticate": 'Basic realm="a"\x00'}, ["proxy_authenticate", "NUL"],
                     id="challenge-with-nul"),
        pytest.param({"www_authenticate": "not a challenge!"}, ["'not a challenge!'", "challenge"],
                     id="unparsable-challenge"),
        pytest.param({"www_authenticate": ['Basic realm="a"', 'Basic realm="a", realm="b"']},
                     ["realm=\"b\""], id="second-challenge-bad"),
        pytest.param({"www_authenticate": 5}, ["www_authenticate=5"], id="challenge-not-a-str"),
        pytest.param({"upgrade": "websocket\n"}, ["upgrade", "CR, LF"], id="upgrade-with-lf"),
        pytest.param({"upgrade": "web socket"}, ["'web socket'"], id="upgrade-not-a-token"),
        pytest.param({"blocked_by": "https://a.example/\r"}, ["blocked_by", "CR, LF"], id="uri-with-cr"),
        pytest.param({"login_url": "/login page"}, ["'/login page'"], id="uri-with-space"),
        pytest.param({"retry_after": -1}, ["-1", "negative"], id="negative-retry-after"),
        pytest.param({"retry_after": {503: -30}}, ["-30"], id="negative-retry-after-per-status"),
        pytest.param({"retry_after": "soon"}, ["'soon'"], id="retry-after-junk"),
        pytest.param({"retry_after": "120\r\n"}, ["retry_after", "CR, LF"], id="retry-after-crlf"),
        pytest.param({"retry_after": True}, ["True"], id="retry-after-bool"),
        pytest.param({"retry_after": {200: 5}}, ["200"], id="retry-after-on-200"),
        pytest.param({"status_map": {509: 700}}, ["700"], id="status-map-target-out-of-range"),
        pytest.param({"status_map": {509: 101}}, ["101"], id="status-map-target-interim"),
        pytest.param({"status_map": {509: "503"}}, ["'503'"], id="status-map-target-str"),
        pytest.param({"status_map": {"509": 503}}, ["'509'"], id="status-map-key-str"),
        pytest.param({"cache_control": {404: 'max-age="'}}, ["max-age=\""], id="cache-control-unparsable"),
        pytest.param({"cache_control": {"404": "max-age=1"}}, ["'404'"], id="cache-control-key-str"),
        pytest.param({"known_methods": ["GET", "BAD METHOD"]}, ["'BAD METHOD'"], id="method-not-a-token"),
        pytest.param({"known_methods": ["GET", 5, ["x"]]}, ["5", "['x']"], id="methods-of-other-types"),
        pytest.param({"problem_details": "yes"}, ["'yes'"], id="flag-not-bool"),
        pytest.param({"unknown_option": 1}, ["unknown_option", "www_authenticate"], id="unknown-option"),
    ],
)
def test_configuration_errors_name_the_bad_value(kwargs: dict[str, Any], names: list[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Policy(**kwargs)
    assert isinstance(caught.value, ValueError)
    for name in names:
        assert name in str(caught.value)


def test_fix_validates_its_options_before_running() -> None:
    with pytest.raises(ConfigurationError, match="www_authenticate"):
        fix(401, [], b"", www_authenticate="Basic realm=\"x\"\nX: y")


def test_check_validates_its_selectors() -> None:
    with pytest.raises(ConfigurationError, match="405-alow"):
        check(405, [], b"", rules={"405-alow": "off"})


@pytest.mark.parametrize(
    ("kwargs", "attribute", "expected"),
    [
        pytest.param({"retry_after": 120}, "retry_after", {429: "120", 503: "120"}, id="retry-after-int"),
        pytest.param({"retry_after": {413: "Wed, 21 Oct 2026 07:28:00 GMT"}}, "retry_after",
                     {413: "Wed, 21 Oct 2026 07:28:00 GMT"}, id="retry-after-date"),
        pytest.param({"www_authenticate": 'Bearer realm="api"'}, "www_authenticate", ('Bearer realm="api"',),
                     id="one-challenge"),
        pytest.param({"known_methods": "PURGE"}, "known_methods", frozenset({"PURGE"}), id="one-method"),
        pytest.param({"status_map": {509: 503}}, "status_map", {509: 503}, id="status-map"),
    ],
)
def test_valid_options_are_normalised(kwargs: dict[str, Any], attribute: str, expected: object) -> None:
    assert getattr(Policy(**kwargs).options, attribute) == expected


# StatusViolationError ---------------------------------------------------------------------------------------


def _violation() -> Violation:
    rule = RULES["405-allow"]
    return Violation(rule.id, rule.level, 405, "405 to POST without Allow", rule.reference, rule.hint)


def test_status_violation_error_carries_data_and_a_readable_message() -> None:
    error = StatusViolationError([_violation()], method="POST", path="/items\r\n")
    text = str(error)
    assert error.violations == (_violation(),)
    assert "[405-allow] MUST" in text
    assert "405 to POST without Allow" in text
    assert RULES["405-allow"].hint in text
    assert "\r" not in text.split("\n")[0]  # the path is escaped, never a raw line break


def test_status_violation_error_pickles() -> None:
    error = StatusViolationError([_violation()], method="POST", path="/x")
    copy = pickle.loads(pickle.dumps(error))
    assert copy.violations == error.violations
    assert (copy.method, copy.path) == ("POST", "/x")
    assert str(copy) == str(error)
