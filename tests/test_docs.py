"""The generated rule docs (docs/rules.md, docs/rules.json) match the catalogue."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest

import statusguard
from statusguard import _docs
from statusguard.core.rules import NOT_CHECKABLE, RULE_LIST

ROOT = Path(__file__).resolve().parents[1]


def _stale_message(relative: str, committed: str | None, expected: str) -> str:
    if committed is None:
        return f"{relative} is missing: run `{_docs.REGENERATE}` from the repository root and commit the result"
    diff = list(
        difflib.unified_diff(
            committed.splitlines(), expected.splitlines(), f"{relative} (committed)", f"{relative} (generated)",
            lineterm="", n=1,
        )
    )
    excerpt = "\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else "")
    return (
        f"{relative} is out of date with the catalogue: run `{_docs.REGENERATE}` from the repository root "
        f"and commit the result.\n{excerpt}"
    )


@pytest.mark.parametrize("relative", [_docs.MARKDOWN_PATH, _docs.JSON_PATH])
def test_committed_docs_are_current(relative: str) -> None:
    expected = _docs.outputs()[relative]
    path = ROOT / relative
    committed = path.read_text(encoding="utf-8") if path.exists() else None
    up_to_date = committed == expected
    assert up_to_date, _stale_message(relative, committed, expected)


def test_generation_is_deterministic() -> None:
    assert _docs.render_catalogue() == _docs.render_catalogue()
    assert _docs.catalogue_json() == _docs.catalogue_json()


def test_every_rule_has_a_section_heading() -> None:
    markdown = _docs.render_catalogue()
    headings = re.findall(r"^### (\S+)$", markdown, flags=re.MULTILINE)
    assert headings == [rule.id for rule in RULE_LIST]
    for rule in RULE_LIST:
        assert f"[`{rule.id}`](#{rule.id})" in markdown  # the summary table links to the section


def test_not_checkable_rows_are_listed() -> None:
    markdown = _docs.render_catalogue()
    section = markdown.split("## Not checkable from a middleware", 1)[1]
    for rule_id in NOT_CHECKABLE:
        assert f"- `{rule_id}`: " in section


def test_rules_json_round_trips() -> None:
    text = _docs.catalogue_json()
    document = json.loads(text)
    assert json.dumps(document, indent=2, ensure_ascii=False) + "\n" == text
    ids = [entry["id"] for entry in document["rules"]]
    assert ids == [rule.id for rule in RULE_LIST]
    assert set(ids) == set(statusguard.RULES)
    assert document["rules"] == [json.loads(json.dumps(rule.to_dict())) for rule in RULE_LIST]
    assert [row["id"] for row in document["not_checkable"]] == list(NOT_CHECKABLE)


def _fixed_by_default(rule: statusguard.Rule) -> bool:
    return bool(rule.examples_bad) and rule.id in _docs.fixed_example(rule, rule.examples_bad[0]).fixed


FIXED_RULES = [rule for rule in RULE_LIST if rule.fixable and _fixed_by_default(rule)]


def test_some_rules_show_a_fix() -> None:
    assert len(FIXED_RULES) >= 10


@pytest.mark.parametrize("rule", FIXED_RULES, ids=lambda rule: rule.id)
def test_render_rule_shows_the_fixed_example(rule: statusguard.Rule) -> None:
    bad = rule.examples_bad[0]
    result = statusguard.fix(
        bad.status, list(bad.headers), bad.body, method=bad.method, request_headers=list(bad.request_headers),
        http_version=bad.http_version, allowed_methods=bad.allowed_methods, gateway=bad.gateway,
        rules={"*": "off", rule.id: "fix"}, final=bad.final, known_methods=bad.known_methods,
    )
    section = _docs.render_rule(rule)
    corrected = section.split("#### Corrected", 1)[1].split("#### Fix", 1)[0]
    assert "turns the bad example into:" in corrected
    fixed_block = corrected.split("turns the bad example into:", 1)[1]
    assert _docs.render_exchange(bad, (result.status, result.headers, result.body)) in fixed_block


def test_render_rule_concrete_fix() -> None:
    section = _docs.render_rule(statusguard.RULES["429-not-storable"])
    fixed_block = section.split("turns the bad example into:", 1)[1]
    assert "HTTP/1.1 429 Too Many Requests" in fixed_block
    assert "Cache-Control: no-store" in fixed_block


def test_render_rule_reports_the_checker_message() -> None:
    rule = statusguard.RULES["405-allow"]
    bad = rule.examples_bad[0]
    violations = statusguard.check(
        bad.status, list(bad.headers), bad.body, method=bad.method, rules={rule.id: "log"}
    )
    message = next(str(v) for v in violations if v.rule == rule.id)
    section = _docs.render_rule(rule)
    assert message in section
    for heading in ("What it checks", "Why it matters", "Example", "Corrected", "Fix",
                    "How to fix it in your code", "Reference"):
        assert f"\n#### {heading}\n" in section


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (None, "any"),
        (frozenset({405}), "405"),
        (frozenset({301, 302, 307, 308}), "301, 302, 307, 308"),
        (frozenset(range(100, 200)), "100-199"),
        (frozenset(range(400, 500)) - {406, 409}, "400-499 except 406, 409"),
        (frozenset({400, 401, 402, 404}), "400-402, 404"),
    ],
)
def test_format_statuses(statuses: frozenset[int] | None, expected: str) -> None:
    assert _docs.format_statuses(statuses) == expected


def test_main_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _docs.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert _docs.MARKDOWN_PATH in err
    assert _docs.JSON_PATH in err
    assert _docs.REGENERATE in err

    assert _docs.main(["--root", str(tmp_path)]) == 0
    assert (tmp_path / _docs.MARKDOWN_PATH).read_text(encoding="utf-8") == _docs.render_catalogue()
    assert _docs.main(["--check", "--root", str(tmp_path)]) == 0

    (tmp_path / _docs.JSON_PATH).write_text("{}\n", encoding="utf-8")
    capsys.readouterr()
    assert _docs.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert _docs.JSON_PATH in err
    assert _docs.MARKDOWN_PATH not in err
