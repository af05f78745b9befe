"""Report formats for the command line: text for people, JSON, SARIF 2.1.0 and JUnit XML for CI.

Charter: presentation only. Input is an ``AuditReport`` (or plain violations for ``check``); no
format may hide a violation that another shows, and every untrusted value (header values, paths,
route templates, bodies, exception messages) is escaped for the format it goes into: one printable
line in text, JSON strings in JSON and SARIF, XML 1.0 characters only (control characters written
as visible escapes) in JUnit.

The text report is the first thing a new user sees (the demo audit): it groups by route, gives one
line per violation, the diff statusguard's fixes would make, then one "how to fix" list, all
within ``WIDTH`` columns.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from .. import __version__
from ..core.model import LEVELS, Violation, escape
from ..core.rules import RULES
from .audit import AuditReport
from .probes import UNSATISFIABLE_RANGE, ProbeResult, Route

__all__ = ["LEVEL_RANK", "WIDTH", "at_or_above", "failing", "render", "violations_text"]

WIDTH = 100
LEVEL_RANK = {"MUST": 3, "SHOULD": 2, "ADVISORY": 1, "DEPRECATED": 1}
_SARIF_LEVEL = {"MUST": "error", "SHOULD": "warning", "ADVISORY": "note", "DEPRECATED": "note"}
_PROBE_ERROR = "probe-error"  # SARIF/JUnit id of "the app raised or timed out on a probe"
_SHORT = {"get": "GET", "head": "HEAD", "options": "OPTIONS", "range": "GET with Range"}


def at_or_above(violations: Iterable[Violation], fail_on: str, *, in_process: bool = False) -> list[Violation]:
    """The violations that fail a run. In-process, quiet rules (a body on a HEAD response,
    Content-Length on a 204) do not: the stack routinely does them and servers repair them, as in
    strict mode. On the wire (a URL audit, recorded traffic) they count like any other."""
    if fail_on == "never":
        return []
    threshold = LEVEL_RANK[fail_on]
    return [
        v for v in violations
        if LEVEL_RANK[v.level] >= threshold and not (in_process and _quiet(v.rule))
    ]


def _quiet(rule_id: str) -> bool:
    rule = RULES.get(rule_id)
    return bool(rule is not None and rule.quiet)


def failing(report: AuditReport, fail_on: str) -> tuple[list[Violation], list[ProbeResult]]:
    """What makes ``statusguard audit`` exit 1: violations at or above ``fail_on``, and probes the
    app raised on or never answered (unless ``fail_on`` is ``never``)."""
    violations = at_or_above(report.violations(), fail_on, in_process=report.target.kind != "url")
    errors = [] if fail_on == "never" else report.errors()
    return violations, errors


def render(report: AuditReport, fmt: str, fail_on: str) -> str:
    if fmt == "json":
        return json.dumps(_as_json(report, fail_on), indent=2)
    if fmt == "sarif":
        return json.dumps(_as_sarif(report), indent=2)
    if fmt == "junit":
        return _as_junit(report, fail_on)
    return _as_text(report, fail_on)


def _short(result: ProbeResult) -> str:
    probe = result.probe
    if probe.kind == "unserved":
        return f"{probe.method} (not served)"
    if probe.kind == "unsafe":
        return f"{probe.method} (--unsafe)"
    return _SHORT.get(probe.kind, probe.method)


# -- text --------------------------------------------------------------------------------------


def _line(text: str, width: int = WIDTH) -> str:
    """One line, cut to ``width`` columns."""
    return text if len(text) <= width else text[: width - 3] + "..."


def _clause(prefix: str, text: str, width: int = WIDTH) -> str:
    """``prefix + text`` on one line: a message too long is cut after its first clauses (the full
    text is in the JSON report), else with an ellipsis."""
    if len(prefix) + len(text) <= width:
        return prefix + text
    room = width - len(prefix)
    for separator in ("; ", " (", ", "):
        cut = text.rfind(separator, 0, room)
        if cut > room // 3:
            return prefix + text[:cut]
    return _line(prefix + text, width)


def _wrap(text: str, indent: str, first: str | None = None) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=first if first is not None else indent,
                         subsequent_indent=indent, break_on_hyphens=False, break_long_words=True) or [indent]


def _body_text(body: bytes) -> str:
    return escape(body.decode("utf-8", "replace"), 200)


def _diff(result: ProbeResult) -> list[str]:
    """What statusguard's fixes change in this response, one line each, diff style."""
    fixed = result.fixed
    if fixed is None or not fixed.fixed:
        return []
    lines = []
    if fixed.status != result.status:
        lines.append(f"status {result.status} -> {fixed.status}")
    before = [(name.lower(), value) for name, value in result.headers]
    after = [(name.lower(), value) for name, value in fixed.headers]
    names = dict.fromkeys([name for name, _ in result.headers] + [name for name, _ in fixed.headers])
    shown: set[str] = set()
    for name in names:
        key = name.lower()
        if key in shown:
            continue
        shown.add(key)
        old = [value for n, value in before if n == key]
        new = [value for n, value in after if n == key]
        if old == new:
            continue
        spelled = next((n for n, _ in fixed.headers if n.lower() == key), name)
        lines.extend(f"- {escape(spelled, 60)}: {escape(value, 200)}" for value in old if value not in new)
        lines.extend(f"+ {escape(spelled, 60)}: {escape(value, 200)}" for value in new if value not in old)
    if fixed.body != result.body and fixed.body is not None:
        if fixed.body:
            lines.append(f"+ body: {_body_text(fixed.body)}")
        else:
            size = len(result.body) if result.body is not None else result.body_size
            lines.append(f"- body ({size} bytes)" if size else "- body")
    return lines


def _group(results: Sequence[ProbeResult]) -> list[list[ProbeResult]]:
    """Probes of one route with the same outcome (status, rules, fix) share one entry."""
    groups: dict[tuple[object, ...], list[ProbeResult]] = {}
    for result in results:
        if not (result.violations or result.error):
            continue
        key = (result.status_text, result.error, tuple(v.rule for v in result.violations), tuple(_diff(result)),
               tuple(v.rule for v in result.fixed.remaining) if result.fixed else ())
        groups.setdefault(key, []).append(result)
    return list(groups.values())


def _route_heading(route: Route, results: Sequence[ProbeResult]) -> str:
    parts = []
    if route.path != route.template:
        parts.append(f"as {escape(route.path, 60)}")
    if route.methods is not None:
        parts.append("serves " + ", ".join(sorted(route.methods)) if route.methods else "serves no method")
    else:
        parts.append("methods unknown")
    heading = f"{escape(route.template, 80)} ({'; '.join(parts)})"
    auth = AuditReport.auth_status(results)
    if auth is not None:
        heading += f": requires authentication ({auth} without credentials)"
    return _line(heading)


def _as_text(report: AuditReport, fail_on: str) -> str:
    target = report.target
    routes = report.by_route()
    out = [_line(f"statusguard audit of {escape(target.name, 70)}: {_kind_text(target.kind)}")]
    intro = (
        f"{len(report.results)} requests to {len(routes)} routes, none with credentials: GET, HEAD, OPTIONS, "
        "a method the route does not serve and an unsatisfiable Range. "
    )
    if any(r.probe.kind == "unsafe" for r in report.results):
        intro += "With --unsafe: also the POST, PUT, PATCH and DELETE each route serves."
    else:
        intro += "No POST, PUT, PATCH or DELETE to a route that serves it (see --unsafe)."
    intro += " Under each finding, \"fixed\" shows what statusguard's fixes make of the response."
    out.extend(_wrap(intro, ""))
    out.append("")
    clean: list[str] = []
    remaining = 0
    for route, results in routes:
        groups = _group(results)
        if not groups:
            clean.append(route.template)
            continue
        out.append(_route_heading(route, results))
        for group in groups:
            first = group[0]
            who = ", ".join(dict.fromkeys(_short(r) for r in group))
            if first.status:
                out.append(_line(f"  {who} -> {escape(first.status_text or str(first.status), 60)}"))
            else:
                out.append(_line(f"  {who} -> no response"))
            if first.error:
                out.extend(_wrap(escape(first.error, 300), " " * 12, "    error   "))
            for violation in first.violations:
                out.append(_clause(f"    {violation.level:<7} {violation.rule}: ", escape(violation.message, 200)))
            diff = _diff(first)
            for index, change in enumerate(diff):
                out.append(_line(("    fixed   " if index == 0 else " " * 12) + change))
            if first.fixed is not None:
                remaining += len(first.fixed.remaining) * len(group)
                if first.fixed.remaining:
                    left = ", ".join(dict.fromkeys(v.rule for v in first.fixed.remaining))
                    out.append(_line(f"    left for the app: {left}"))
        out.append("")
    if clean:
        out.extend(_wrap(", ".join(escape(t, 80) for t in clean), "  ", "No violations: "))
        out.append("")
    notes = report.notes
    if notes:
        out.append("Notes:")
        for note in notes:
            out.extend(_wrap(escape(note, 300), "    ", "  - "))
        out.append("")
    violations = report.violations()
    if violations:
        out.append("How to fix:")
        hints: dict[str, list[str]] = {}
        for violation in violations:
            known = hints.setdefault(violation.rule, [])
            if violation.hint not in known:
                known.append(violation.hint)
        for rule_id, texts in hints.items():
            rule = RULES.get(rule_id)
            level = rule.level if rule is not None else "?"
            reference = rule.reference if rule is not None else ""
            out.append(_line(f"  {rule_id} ({level}, {reference})"))
            for text in texts:
                out.extend(_wrap(text, "      "))
        out.append("")
        counts = Counter(v.level for v in violations)
        by_level = ", ".join(f"{counts[level]} {level}" for level in LEVELS if counts[level])
        responses = sum(1 for r in report.results if r.violations)
        out.extend(_wrap(
            f"{len(violations)} violations ({by_level}) in {responses} of {len(report.results)} responses; "
            f"after statusguard's fixes, {remaining} remain.", ""))
    else:
        out.append(f"No violations in {len(report.results)} responses.")
    errors = report.errors()
    if errors:
        out.append(f"The app raised or did not answer on {len(errors)} of {len(report.results)} requests.")
    failed, failed_errors = failing(report, fail_on)
    if failed or failed_errors:
        why = []
        if failed:
            why.append(f"{len(failed)} violations at {fail_on} or above")
        if failed_errors:
            why.append(f"{len(failed_errors)} requests the app raised on or did not answer")
        out.extend(_wrap(f"Failing (exit status 1, --fail-on {fail_on}): {' and '.join(why)}.", ""))
    out.append("Explain a rule with: statusguard explain RULE_ID")
    return "\n".join(out)


def _kind_text(kind: str) -> str:
    return {"wsgi": "a WSGI app, called in-process", "asgi": "an ASGI app, called in-process",
            "url": "a running server"}.get(kind, kind)


# -- JSON --------------------------------------------------------------------------------------


def _violation_json(violation: Violation) -> dict[str, object]:
    return {
        "rule": violation.rule, "level": violation.level, "severity": violation.severity,
        "status": violation.status, "message": violation.message, "reference": violation.reference,
        "hint": violation.hint,
    }


def _body_json(body: bytes | None) -> str | None:
    if body is None:
        return None
    return body[:4096].decode("utf-8", "replace")


def _probe_json(result: ProbeResult) -> dict[str, object]:
    probe = result.probe
    entry: dict[str, object] = {
        "method": probe.method, "path": probe.path, "probe": probe.label, "kind": probe.kind,
        "request_headers": [list(pair) for pair in probe.headers],
        "status": result.status, "status_line": result.status_text,
        "headers": [list(pair) for pair in result.headers],
        "violations": [_violation_json(v) for v in result.violations],
    }
    if result.error:
        entry["error"] = result.error
    if result.fixed is not None:
        entry["after_fix"] = {
            "status": result.fixed.status,
            "headers": [list(pair) for pair in result.fixed.headers],
            "body": _body_json(result.fixed.body) if result.fixed.body != result.body else None,
            "body_changed": result.fixed.body != result.body,
            "fixed": list(result.fixed.fixed),
            "remaining": [_violation_json(v) for v in result.fixed.remaining],
            "diff": _diff(result),
        }
    return entry


def _as_json(report: AuditReport, fail_on: str) -> dict[str, object]:
    routes = []
    for route, results in report.by_route():
        auth = AuditReport.auth_status(results)
        routes.append({
            "route": route.template, "path": route.path,
            "methods": sorted(route.methods) if route.methods is not None else None,
            "requires_authentication": auth is not None, "auth_status": auth,
            "violations": sum(len(r.violations) for r in results),
            "probes": [_probe_json(r) for r in results],
        })
    violations = report.violations()
    failed, failed_errors = failing(report, fail_on)
    return {
        "tool": {"name": "statusguard", "version": __version__},
        "target": report.target.name,
        "kind": report.target.kind,
        "framework": report.target.framework,
        "credentials": "none",  # no probe carries Authorization or Cookie
        "routes": routes,
        "notes": list(report.notes),
        "summary": {
            "requests": len(report.results),
            "responses_with_violations": sum(1 for r in report.results if r.violations),
            "violations": len(violations),
            "by_level": dict(Counter(v.level for v in violations)),
            "by_rule": dict(sorted(Counter(v.rule for v in violations).items())),
            "errors": len(report.errors()),
            "remaining_after_fix": sum(len(r.fixed.remaining) for r in report.results if r.fixed),
            "fail_on": fail_on,
            "failing": len(failed) + len(failed_errors),
        },
    }


# -- SARIF 2.1.0 -------------------------------------------------------------------------------


def _sarif_text(text: str) -> str:
    return text if text.strip() else "(empty)"


def _as_sarif(report: AuditReport) -> dict[str, object]:
    used = sorted({v.rule for v in report.violations()})
    rules: list[dict[str, object]] = []
    for rule_id in used:
        rule = RULES.get(rule_id)
        if rule is None:
            rules.append({"id": rule_id, "name": rule_id, "shortDescription": {"text": rule_id}})
            continue
        rules.append({
            "id": rule.id,
            "name": rule.id,
            "shortDescription": {"text": _sarif_text(rule.summary)},
            "fullDescription": {"text": _sarif_text(rule.why or rule.summary)},
            "help": {"text": _sarif_text(f"{rule.hint} ({rule.reference})")},
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.level]},
            "properties": {"level": rule.level, "reference": rule.reference},
        })
    if report.errors():
        used.append(_PROBE_ERROR)
        rules.append({
            "id": _PROBE_ERROR, "name": _PROBE_ERROR,
            "shortDescription": {"text": "The app raised an exception or did not answer a probe."},
            "help": {"text": "Run the request against the app and fix the crash; an unhandled exception is a 500."},
            "defaultConfiguration": {"level": "error"},
        })
    index = {rule_id: position for position, rule_id in enumerate(used)}
    results: list[dict[str, object]] = []
    for result in report.results:
        probe = result.probe
        where = f"{probe.method} {probe.path}"
        location = {"logicalLocations": [{"name": where, "kind": "resource",
                                          "fullyQualifiedName": probe.route.template}]}
        properties = {"route": probe.route.template, "method": probe.method, "probe": probe.label,
                      "status": result.status}
        for violation in result.violations:
            results.append({
                "ruleId": violation.rule,
                "ruleIndex": index[violation.rule],
                "level": _SARIF_LEVEL.get(violation.level, "warning"),
                "message": {"text": _sarif_text(f"{where} -> {violation.status}: {violation.message}. "
                                                f"Fix: {violation.hint}")},
                "locations": [location],
                "properties": properties,
            })
        if result.error:
            results.append({
                "ruleId": _PROBE_ERROR,
                "ruleIndex": index[_PROBE_ERROR],
                "level": "error",
                "message": {"text": _sarif_text(f"{where} ({probe.label}): {result.error}")},
                "locations": [location],
                "properties": properties,
            })
    notifications = [{"level": "note", "message": {"text": _sarif_text(note)}} for note in report.notes]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "statusguard", "version": __version__, "semanticVersion": __version__,
                                "informationUri": "https://www.rfc-editor.org/rfc/rfc9110", "rules": rules}},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "results": results,
            "properties": {"target": report.target.name, "kind": report.target.kind},
        }],
    }


# -- JUnit XML ---------------------------------------------------------------------------------

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """Only characters XML 1.0 allows: the others (NUL, ESC, lone surrogates...) become visible escapes."""
    return _XML_INVALID.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def _attr(text: str) -> str:
    return quoteattr(_xml_safe(text))


def _text(text: str) -> str:
    return xml_escape(_xml_safe(text))


def _as_junit(report: AuditReport, fail_on: str) -> str:
    cases = []
    failures = 0
    errors = 0
    in_process = report.target.kind != "url"
    for result in report.results:
        probe = result.probe
        name = f"{probe.method} {probe.path} ({probe.label})"
        if probe.kind == "range":
            name = f"{probe.method} {probe.path} (Range: {UNSATISFIABLE_RANGE})"
        body = []
        if result.error:
            errors += 1
            body.append(f"<error message={_attr(result.error)} type=\"probe-error\">{_text(result.error)}</error>")
        failing_here = at_or_above(result.violations, fail_on, in_process=in_process)
        if failing_here:
            failures += 1
            message = "; ".join(f"[{v.rule}] {v.message}" for v in failing_here)
            detail = "\n".join(f"[{v.rule}] {v.level} ({v.reference}): {v.message}\n  fix: {v.hint}"
                               for v in failing_here)
            level = max((v.level for v in failing_here), key=lambda level: LEVEL_RANK[level])
            body.append(f"<failure message={_attr(message)} type={_attr(level)}>{_text(detail)}</failure>")
        others = [v for v in result.violations if v not in failing_here]
        if others:
            text = "\n".join(f"[{v.rule}] {v.level}: {v.message}" for v in others)
            body.append(f"<system-out>{_text(text)}</system-out>")
        cases.append(f"    <testcase classname={_attr(probe.route.template)} name={_attr(name)} time=\"0\">"
                     f"{''.join(body)}</testcase>")
    suite_name = _attr(f"statusguard audit of {report.target.name}")
    counts = f'tests="{len(report.results)}" failures="{failures}" errors="{errors}"'
    return "\n".join([
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<testsuites name=\"statusguard\" {counts}>",
        f"  <testsuite name={suite_name} {counts} skipped=\"0\">",
        *cases,
        "  </testsuite>",
        "</testsuites>",
    ])


# -- check -------------------------------------------------------------------------------------


def violations_text(violations: Sequence[Violation], indent: str = "") -> str:
    """The violations of one recorded response, for ``statusguard check``: one line each, then its fix."""
    if not violations:
        return indent + "No violations."
    lines = []
    for violation in violations:
        lines.append(_clause(f"{indent}{violation.level:<7} {violation.rule}: ", escape(violation.message, 200)))
        lines.extend(textwrap.wrap(f"{violation.reference}. Fix: {violation.hint}", WIDTH,
                                   initial_indent=indent + " " * 8, subsequent_indent=indent + " " * 8,
                                   break_on_hyphens=False))
    return "\n".join(lines)
