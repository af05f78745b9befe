"""Report formats for the command line: text for people, JSON, SARIF and JUnit XML for CI.

Charter: presentation only. Input is an ``AuditReport`` (or plain violations for ``check``); no
format may hide a violation that another shows, and every untrusted value (header values, paths,
bodies) is escaped for the format it goes into.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from . import __version__
from ._audit import AuditReport, ProbeResult
from ._model import Violation, escape
from .catalogue import RULES

__all__ = ["LEVEL_RANK", "at_or_above", "render"]

LEVEL_RANK = {"MUST": 3, "SHOULD": 2, "ADVISORY": 1, "DEPRECATED": 1}
_SARIF_LEVEL = {"MUST": "error", "SHOULD": "warning", "ADVISORY": "note", "DEPRECATED": "note"}


def at_or_above(violations: Iterable[Violation], fail_on: str, *, in_process: bool = False) -> list[Violation]:
    """The violations that fail a run. In-process, quiet rules (a body on a HEAD response,
    Content-Length on a 204) do not: the stack routinely does them and servers repair them, as in
    strict mode. On the wire (a URL audit, recorded traffic) they count like any other."""
    if fail_on == "never":
        return []
    threshold = LEVEL_RANK[fail_on]
    return [
        v for v in violations
        if LEVEL_RANK[v.level] >= threshold and not (in_process and RULES[v.rule].quiet)
    ]


def render(report: AuditReport, fmt: str, fail_on: str) -> str:
    if fmt == "json":
        return json.dumps(_as_json(report), indent=2)
    if fmt == "sarif":
        return json.dumps(_as_sarif(report), indent=2)
    if fmt == "junit":
        return _as_junit(report, fail_on)
    return _as_text(report)


# -- text --------------------------------------------------------------------------------------


def _status_line(status: int, text: str) -> str:
    return escape(text) if text else str(status)


def _diff(result: ProbeResult) -> list[str]:
    fixed = result.fixed
    if fixed is None:
        return []
    lines = []
    if fixed.status != result.status:
        lines.append(f"status {result.status} -> {fixed.status}")
    before = [(n.lower(), v) for n, v in result.headers]
    after = [(n.lower(), v) for n, v in fixed.headers]
    for name, value in after:
        if (name, value) not in before:
            lines.append(f"+ {name}: {escape(value, 80)}")
    for name, value in before:
        if (name, value) not in after:
            lines.append(f"- {name}: {escape(value, 80)}")
    if fixed.body != result.body and fixed.body is not None:
        if fixed.body:
            lines.append(f"body: {escape(fixed.body.decode('latin-1'), 100)}")
        else:
            lines.append("body: (removed)")
    return lines


def _as_text(report: AuditReport) -> str:
    target = report.target
    out = [
        f"statusguard audit of {target.name}: {target.kind.upper()}, {len(target.routes)} routes, "
        f"{len(report.results)} requests",
        "",
    ]
    by_route: dict[str, list[ProbeResult]] = {}
    for result in report.results:
        by_route.setdefault(result.probe.route.template, []).append(result)
    remaining = 0
    for template, results in by_route.items():
        flagged = [r for r in results if r.violations or r.error]
        if not flagged:
            continue
        out.append(escape(template))
        for result in flagged:
            probe = result.probe
            label = f" ({probe.label})" if probe.label != probe.method else ""
            if result.error:
                out.append(f"  {probe.method} {escape(probe.path)}{label}: the app raised {escape(result.error)}")
                continue
            status = _status_line(result.status, result.status_text)
            out.append(f"  {probe.method} {escape(probe.path)}{label} -> {status}")
            for violation in result.violations:
                out.append(f"    {violation.level:<8} {violation.rule}: {escape(violation.message, 160)}")
            if result.fixed is not None:
                remaining += len(result.fixed.remaining)
                changes = _diff(result)
                if result.fixed.fixed and changes:
                    out.append(f"    fixed by statusguard: {'; '.join(changes)}")
                if result.fixed.remaining:
                    out.append(f"    left for the app: {', '.join(v.rule for v in result.fixed.remaining)}")
        out.append("")
    violations = report.violations()
    if violations:
        out.append("How to fix each rule broken:")
        for rule_id in dict.fromkeys(v.rule for v in violations):
            rule = RULES[rule_id]
            out.append(f"  {rule.id} ({rule.level}, {rule.reference}): {rule.hint}")
        out.append("")
        counts = Counter(v.level for v in violations)
        responses = sum(1 for r in report.results if r.violations)
        by_level = ", ".join(f"{counts[level]} {level}" for level in ("MUST", "SHOULD", "ADVISORY", "DEPRECATED")
                             if counts[level])
        out.append(f"{len(violations)} violations ({by_level}) in {responses} of {len(report.results)} responses; "
                   f"with statusguard's fixes, {remaining} remain.")
    else:
        out.append(f"No violations in {len(report.results)} responses.")
    out.append("Explain a rule with: statusguard explain RULE_ID")
    return "\n".join(out)


# -- JSON --------------------------------------------------------------------------------------


def _violation_json(violation: Violation) -> dict[str, object]:
    return {
        "rule": violation.rule, "level": violation.level, "severity": violation.severity,
        "status": violation.status, "message": violation.message, "reference": violation.reference,
        "hint": violation.hint,
    }


def _as_json(report: AuditReport) -> dict[str, object]:
    results = []
    for result in report.results:
        entry: dict[str, object] = {
            "route": result.probe.route.template, "method": result.probe.method, "path": result.probe.path,
            "probe": result.probe.label, "status": result.status,
            "violations": [_violation_json(v) for v in result.violations],
        }
        if result.error:
            entry["error"] = result.error
        if result.fixed is not None:
            entry["after_fix"] = {
                "status": result.fixed.status,
                "headers": [list(pair) for pair in result.fixed.headers],
                "fixed": list(result.fixed.fixed),
                "remaining": [_violation_json(v) for v in result.fixed.remaining],
            }
        results.append(entry)
    counts = Counter(v.rule for v in report.violations())
    return {
        "tool": {"name": "statusguard", "version": __version__},
        "target": report.target.name,
        "kind": report.target.kind,
        "results": results,
        "summary": {"violations": sum(counts.values()), "by_rule": dict(sorted(counts.items()))},
    }


# -- SARIF 2.1.0 -------------------------------------------------------------------------------


def _as_sarif(report: AuditReport) -> dict[str, object]:
    used = sorted({v.rule for v in report.violations()})
    rules = []
    for rule_id in used:
        rule = RULES[rule_id]
        rules.append({
            "id": rule.id,
            "name": rule.id,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.why or rule.summary},
            "help": {"text": f"{rule.hint} ({rule.reference})"},
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.level]},
            "properties": {"level": rule.level, "reference": rule.reference},
        })
    index = {rule_id: position for position, rule_id in enumerate(used)}
    results = []
    for result in report.results:
        for violation in result.violations:
            where = f"{result.probe.method} {result.probe.path}"
            results.append({
                "ruleId": violation.rule,
                "ruleIndex": index[violation.rule],
                "level": _SARIF_LEVEL[violation.level],
                "message": {"text": f"{where} -> {violation.status}: {violation.message}"},
                "locations": [{"logicalLocations": [{"name": where, "kind": "resource",
                                                     "fullyQualifiedName": result.probe.route.template}]}],
            })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "statusguard", "version": __version__, "rules": rules,
                                "informationUri": "https://www.rfc-editor.org/rfc/rfc9110"}},
            "results": results,
        }],
    }


# -- JUnit XML ---------------------------------------------------------------------------------


def _as_junit(report: AuditReport, fail_on: str) -> str:
    cases = []
    failures = 0
    for result in report.results:
        probe = result.probe
        name = quoteattr(f"{probe.method} {probe.path} ({probe.label})")
        classname = quoteattr(probe.route.template)
        failing = at_or_above(result.violations, fail_on, in_process=report.target.kind != "url")
        body = []
        if result.error:
            failures += 1
            body.append(f'<error message={quoteattr(result.error)}/>')
        for violation in failing:
            failures += 1
            message = quoteattr(f"[{violation.rule}] {violation.message}")
            detail = xml_escape(f"{violation.level} {violation.reference}\nfix: {violation.hint}")
            body.append(f'<failure message={message} type={quoteattr(violation.level)}>{detail}</failure>')
        others = [v for v in result.violations if v not in failing]
        if others:
            text = "\n".join(f"[{v.rule}] {v.level}: {v.message}" for v in others)
            body.append(f"<system-out>{xml_escape(text)}</system-out>")
        cases.append(f"  <testcase classname={classname} name={name}>{''.join(body)}</testcase>")
    header = (f'<testsuite name="statusguard audit" tests="{len(report.results)}" failures="{failures}" '
              f'errors="0">')
    return "\n".join(['<?xml version="1.0" encoding="utf-8"?>', header, *cases, "</testsuite>"])


def violations_text(violations: Sequence[Violation]) -> str:
    if not violations:
        return "No violations."
    lines = []
    for violation in violations:
        lines.append(f"{violation.level:<10} {violation.rule}: {escape(violation.message, 200)}")
        lines.append(f"{'':<10} {violation.reference}; fix: {violation.hint}")
    return "\n".join(lines)
