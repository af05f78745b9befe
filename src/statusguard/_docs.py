"""Generate docs/rules.md and docs/rules.json from the rule catalogue.

Charter: the docs are a pure function of the catalogue. Every message and every repaired response
shown is produced by calling ``statusguard.check`` and ``statusguard.fix`` on the catalogue's own
examples, so the docs cannot claim what the code does not do. The output carries no date, path or
version, so that regenerating an unchanged catalogue changes nothing.

Usage (from the repository root)::

    python -m statusguard._docs            # rewrite docs/rules.md and docs/rules.json
    python -m statusguard._docs --check    # exit 1 if either is out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from .core.checker import check
from .core.fixer import FixResult, fix
from .core.model import SEVERITY, Example, escape
from .core.phrases import REASON_PHRASES
from .core.rule import Rule
from .core.rules import NOT_CHECKABLE, OUT_OF_RANGE, RULE_LIST, SECTIONS

__all__ = [
    "JSON_PATH",
    "MARKDOWN_PATH",
    "REGENERATE",
    "catalogue_json",
    "fixed_example",
    "format_statuses",
    "main",
    "outputs",
    "render_catalogue",
    "render_exchange",
    "render_rule",
    "reported_messages",
    "rule_groups",
]

MARKDOWN_PATH = "docs/rules.md"
JSON_PATH = "docs/rules.json"
REGENERATE = "python -m statusguard._docs"

_BODY_CHARS = 400
_BODY_LINES = 12
_HEADER_VALUE_CHARS = 200
_GATEWAYS = {"wsgi": "WSGI", "asgi": "ASGI"}


# Text helpers --------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"[\\`*<>\[\]]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def _md(text: str) -> str:
    """Escape prose for Markdown: no accidental emphasis, code spans, links or HTML tags."""
    return _MD_SPECIAL.sub(lambda match: "\\" + match.group(0), text)


def _cell(text: str) -> str:
    return _md(text).replace("|", "\\|")


def _fence(text: str, language: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


_REFERENCE_TOKEN = re.compile(r"RFC (?P<rfc>\d+)|§(?P<section>\d+(?:\.\d+)*)|PEP (?P<pep>\d+)")


def _linked_reference(reference: str) -> str:
    """``RFC 9110 §15.5.6, §10.2.1`` with each RFC section (and PEP) linked to its text."""
    parts: list[str] = []
    position = 0
    rfc: str | None = None
    while (match := _REFERENCE_TOKEN.search(reference, position)) is not None:
        parts.append(_md(reference[position : match.start()]))
        position = match.end()
        if match["rfc"] is not None:
            rfc = match["rfc"]
            section = _REFERENCE_TOKEN.match(reference, position + 1)
            if reference[position : position + 1] == " " and section is not None and section["section"]:
                # "RFC 9110 §15.5.6" is one link; a bare "RFC 4918" links to the document.
                number = section["section"]
                parts.append(f"[RFC {rfc} §{number}](https://www.rfc-editor.org/rfc/rfc{rfc}#section-{number})")
                position = section.end()
            else:
                parts.append(f"[RFC {rfc}](https://www.rfc-editor.org/rfc/rfc{rfc})")
        elif match["section"] is not None:
            number = match["section"]
            if rfc is None:
                parts.append(_md(match.group(0)))
            else:
                parts.append(f"[§{number}](https://www.rfc-editor.org/rfc/rfc{rfc}#section-{number})")
        else:
            rfc = None
            pep = match["pep"]
            parts.append(f"[PEP {pep}](https://peps.python.org/pep-{int(pep):04d}/)")
    parts.append(_md(reference[position:]))
    return "".join(parts)


def _runs(numbers: Iterable[int]) -> list[str]:
    """``[400, 401, 402, 404, 405]`` → ``['400-402', '404', '405']``: runs of three or more become ranges."""
    items: list[str] = []
    ordered = sorted(numbers)
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        if end - start >= 2:
            items.append(f"{ordered[start]}-{ordered[end]}")
        else:
            items.extend(str(number) for number in ordered[start : end + 1])
        start = end + 1
    return items


def format_statuses(statuses: frozenset[int] | None) -> str:
    """The statuses a rule concerns, compactly: ``any``, ``405``, ``400-499 except 406, 409``."""
    if statuses is None:
        return "any"
    if statuses is OUT_OF_RANGE:
        return "outside 100-599"
    if not statuses:
        return "none"
    listed = ", ".join(_runs(statuses))
    low, high = min(statuses) // 100 * 100, max(statuses) // 100 * 100 + 99
    missing = _runs(set(range(low, high + 1)) - statuses)
    if not missing:
        return f"{low}-{high}"
    excepted = f"{low}-{high} except {', '.join(missing)}"
    return excepted if len(excepted) <= len(listed) else listed


def _either(items: Iterable[str]) -> str:
    """``a``; ``a or b``; ``one of a, b or c``."""
    listed = list(items)
    if len(listed) <= 2:
        return " or ".join(listed)
    return "one of " + ", ".join(listed[:-1]) + " or " + listed[-1]


def _conditions(rule: Rule) -> list[str]:
    conditions: list[str] = []
    if rule.methods is not None:
        conditions.append("the request method is " + _either(sorted(rule.methods)))
    if rule.gateways is not None:
        conditions.append(" or ".join(_GATEWAYS.get(name, name) for name in sorted(rule.gateways)) + " apps only")
    if rule.fields is not None:
        conditions.append("the response has " + _either(f"`{name}`" for name in sorted(rule.fields)))
    if rule.content_types is not None:
        conditions.append("the media type is " + _either(f"`{name}`" for name in sorted(rule.content_types)))
    return conditions


def _default_text(rule: Rule) -> str:
    return "on by default" if rule.enabled_by_default else "opt-in (off by default)"


# Examples ------------------------------------------------------------------------------------


def _status_line(status: int | str, http_version: str) -> str:
    version = http_version if http_version in ("2", "3") else "1.1"
    if isinstance(status, str):
        return f"HTTP/{version} {escape(status)}"  # a WSGI status string goes on the wire verbatim
    phrase = REASON_PHRASES.get(status) if version == "1.1" else None  # HTTP/2 and HTTP/3 have no phrase
    return f"HTTP/{version} {status}" + (f" {phrase}" if phrase else "")


def _render_body(body: bytes | None) -> list[str]:
    if body is None:
        return ["[content not observed: streamed]"]
    if not body:
        return []
    text = body.decode("utf-8", errors="backslashreplace")
    truncated = len(text) > _BODY_CHARS
    text = text[:_BODY_CHARS]
    lines = text.split("\n")
    if len(lines) > _BODY_LINES:
        lines, truncated = lines[:_BODY_LINES], True
    lines = [line.rstrip("\r") for line in lines]
    lines = [line if line.isprintable() else escape(line, limit=_BODY_CHARS) for line in lines]
    if truncated:
        lines.append(f"[... {len(body)} bytes in all]")
    return lines


def render_exchange(
    example: Example, response: tuple[int | str, Sequence[tuple[str, str]], bytes | None] | None = None
) -> str:
    """The request line and headers of ``example``, a blank line, then the response.

    ``response`` (status, headers, body), when given, replaces the example's own response: it is
    how a fixed version of the example is shown.
    """
    lines = [f"{escape(example.method)} / HTTP/{escape(example.http_version)}"]
    lines.extend(f"{escape(name)}: {escape(value, _HEADER_VALUE_CHARS)}" for name, value in example.request_headers)
    lines.append("")
    status, headers, body = response if response is not None else (example.status, example.headers, example.body)
    lines.append(_status_line(status, example.http_version))
    lines.extend(f"{escape(name)}: {escape(value, _HEADER_VALUE_CHARS)}" for name, value in headers)
    body_lines = _render_body(body)
    if body_lines:
        lines.append("")
        lines.extend(body_lines)
    return _fence("\n".join(lines), "http")


def _context(example: Example) -> str:
    """What the code block cannot show: the interface, router knowledge, the example's note."""
    notes: list[str] = []
    if example.gateway is not None:
        notes.append(f"{_GATEWAYS.get(example.gateway, example.gateway)} app")
    if isinstance(example.status, str):
        notes.append(f"status passed to start_response as {example.status!r}")
    if example.allowed_methods is not None:
        notes.append("the router serves " + ", ".join(sorted(example.allowed_methods)) + " at this URL")
    if example.known_methods is not None:
        notes.append("the server implements " + ", ".join(sorted(example.known_methods)))
    if example.final:
        notes.append("the app handed this response to the server as its final response")
    if example.note:
        notes.append(example.note)
    return "; ".join(_md(note) for note in notes)


def _render_example(example: Example) -> str:
    context = _context(example)
    block = render_exchange(example)
    return f"*{context}:*\n\n{block}" if context else block


def reported_messages(rule: Rule, example: Example) -> list[str]:
    """What ``statusguard.check`` reports for ``rule`` on ``example`` (with the rule turned on)."""
    violations = check(
        example.status, list(example.headers), example.body, method=example.method,
        request_headers=list(example.request_headers), http_version=example.http_version,
        allowed_methods=example.allowed_methods, gateway=example.gateway, rules={rule.id: "log"},
        known_methods=example.known_methods, final=example.final,
    )
    return [str(violation) for violation in violations if violation.rule == rule.id]


def fixed_example(rule: Rule, example: Example) -> FixResult:
    """What ``statusguard.fix`` makes of ``example`` with only this rule's fix enabled."""
    return fix(
        example.status, list(example.headers), example.body, method=example.method,
        request_headers=list(example.request_headers), http_version=example.http_version,
        allowed_methods=example.allowed_methods, gateway=example.gateway, rules={"*": "off", rule.id: "fix"},
        final=example.final, known_methods=example.known_methods,
    )


def _changed(example: Example, result: FixResult) -> bool:
    return (result.status, result.headers, result.body) != (example.status, list(example.headers), example.body)


def _fix_section(rule: Rule) -> str:
    """What ``statusguard.fix`` does to the first bad example (or, failing that, to another one)."""
    call = f"`statusguard.fix(..., rules={{'*': 'off', '{rule.id}': 'fix'}})`"
    first = rule.examples_bad[0]
    result = fixed_example(rule, first)
    if rule.id not in result.fixed:
        for other in rule.examples_bad[1:]:
            other_result = fixed_example(rule, other)
            if rule.id in other_result.fixed:
                return "\n\n".join([
                    f"{call} leaves the bad example unchanged. Given this response instead:",
                    _render_example(other),
                    "it returns:",
                    render_exchange(other, (other_result.status, other_result.headers, other_result.body)),
                ])
        if not _changed(first, result):
            return (
                f"{call} leaves the bad example unchanged: this fix needs configuration or router knowledge "
                "that the example does not give (see **Fix**)."
            )
    parts = [
        f"{call} turns the bad example into:",
        render_exchange(first, (result.status, result.headers, result.body)),
    ]
    still = [str(violation) for violation in result.remaining if violation.rule == rule.id]
    if still:
        parts.append("and still reports:\n\n" + _fence("\n".join(still), "text"))
    return "\n\n".join(parts)


# Markdown ------------------------------------------------------------------------------------


def _meta_line(rule: Rule) -> str:
    items = [
        f"**{rule.level}** ({SEVERITY[rule.level]})",
        f"statuses: {format_statuses(rule.statuses)}",
        _default_text(rule),
        f"phase: {rule.phase}",
        "reads: " + (", ".join(rule.reads.union([rule.fix_reads]).describe()) or "the status alone"),
    ]
    conditions = _conditions(rule)
    if conditions:
        items.append("applies when: " + "; ".join(conditions))
    return " · ".join(items)


def _fix_summary(rule: Rule) -> str:
    summary = rule.fix_summary.strip()
    return summary.removeprefix("(opt-in)").strip()


def render_rule(rule: Rule) -> str:
    """One Markdown section for ``rule``: what it checks, why, a broken and a corrected exchange, the fix."""
    out = [f"### {rule.id}", "", _meta_line(rule), "", "#### What it checks", "", _md(rule.summary), ""]
    if rule.why:
        out += ["#### Why it matters", "", _md(rule.why), ""]
    bad = rule.examples_bad[0] if rule.examples_bad else None
    out += ["#### Example", ""]
    if bad is None:
        out += ["No example.", ""]
    else:
        messages = reported_messages(rule, bad)
        reported = _fence("\n".join(messages), "text") if messages else "statusguard reports nothing here."
        out += [_render_example(bad), "", "statusguard reports:", "", reported, ""]
    good = rule.examples_good[0] if rule.examples_good else None
    out += ["#### Corrected", ""]
    if good is not None:
        out += [_render_example(good), ""]
    if rule.fixable and bad is not None:
        out += [_fix_section(rule), ""]
    elif good is None:
        out += ["No example.", ""]
    out += ["#### Fix", ""]
    if rule.fixable:
        if not rule.fix_by_default:
            how = f"Opt-in: select it with `rules={{'{rule.id}': 'fix'}}`."
        elif rule.enabled_by_default:
            how = "On by default in `fix` mode."
        else:
            how = f"Applied in `fix` mode once the rule is turned on, e.g. with `rules={{'{rule.id}': 'fix'}}`."
        if rule.quiet:
            how += " Applied quietly even in `strict` mode."
        out += [f"{_md(_upper_first(_fix_summary(rule)))}. {how}", "", _fix_safety_line(rule)]
    else:
        out += ["Report only: statusguard has no automatic fix for this rule."]
    out += ["", "#### How to fix it in your code", "", _md(rule.hint), "", "#### Reference", "",
            _linked_reference(rule.reference)]
    return "\n".join(out) + "\n"


_UNKNOWABLE_WORDS = {
    "request_fields": "the request's headers", "known_methods": "the server's known methods",
    "http_version": "the HTTP version", "final": "whether the app sent the response as its final one",
}


def _fix_safety_line(rule: Rule) -> str:
    """The rule's line of the fix safety contract (the intro's "Fix safety" section)."""
    needs = sorted(rule.reads.union([rule.fix_reads]).unknowable)
    line = "*Fix safety:* keeps the [fix safety contract](#fix-safety)"
    if rule.reads.router or rule.fix_reads.router:
        line += "; takes the methods from the router only, and does nothing without them"
    if needs:
        line += "; does nothing when " + " or ".join(_UNKNOWABLE_WORDS[f] for f in needs) + " is unknown"
    return line + "."


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


_BANNER = re.compile(r"^# =+\n# (?P<title>[^\n]+)\n# =+$", re.MULTILINE)
_RULE_CALL = re.compile(r'_rule\(\s*"(?P<id>[^"]+)"')


def _group_title(banner: str) -> str:
    title = re.sub(r"^\d+(?:\.\d+)*\s+", "", banner.strip())
    return re.sub(r"\s*\([^()]*\)$", "", title)


def rule_groups() -> list[tuple[str, list[Rule]]]:
    """The rules in catalogue order, under the titles of the catalogue's sections."""
    return [(_group_title(title), list(rules)) for title, rules in SECTIONS]


def _intro() -> str:
    quiet = ", ".join(f"[`{rule.id}`](#{rule.id})" for rule in RULE_LIST if rule.quiet and rule.fixable)
    opt_in = sum(1 for rule in RULE_LIST if not rule.enabled_by_default)
    fixable = sum(1 for rule in RULE_LIST if rule.fixable)
    return f"""\
statusguard checks each response of a WSGI or ASGI app against the {len(RULE_LIST)} rules below, taken from
RFC 9110 (HTTP Semantics), RFC 9111 (Caching), RFC 9112 (HTTP/1.1), RFC 9113 (HTTP/2), the RFCs that define
the other registered status codes, RFC 9457 (problem details), PEP 3333 and the ASGI specification.
{fixable} rules have an automatic fix; {opt_in} rules are opt-in. The spec they implement is
[docs/spec/RULES.md](spec/RULES.md).

**Levels.** Each rule has the level of the requirement it comes from, which sets its severity:

- `MUST` (**error**): MUST, MUST NOT, REQUIRED, and framing rules that leave no choice.
- `SHOULD` (**warning**): SHOULD, SHOULD NOT, RECOMMENDED.
- `ADVISORY` (**info**): "ought to" wording, or a rule implied by a code's definition.
- `DEPRECATED` (**info**): the code or practice is deprecated, reserved, obsolete or Historic.

**Modes.** The middleware's `mode` (or `$STATUSGUARD_MODE`) gives each rule a default action:

- `off`: nothing is checked.
- `log`: every violation is logged; the response goes out as the app made it.
- `fix` (the default): rules whose fix is on by default are repaired and the response is checked again;
  the other violations are logged.
- `strict`: `MUST` and `SHOULD` violations raise `StatusViolationError`; `ADVISORY` and `DEPRECATED` ones
  are logged.

`rules={{...}}` overrides the action per rule id (`"405-allow"`), glob (`"405-*"`), status (`"429"`) or
status class (`"4xx"`), the most specific selector winning, e.g.
`rules={{"200-validators": "log", "4xx-explain": "off", "5xx": "raise"}}`. Opt-in rules are turned on only
by naming them (by id or glob); opt-in fixes only by selecting `"fix"` for them.

**Quiet fixes.** Some repairs are routinely done by the stack (a body on a HEAD response from Starlette or
Django is dropped by every production server): {quiet or "none"}. They are fixed rather than raised even in
`strict` mode; on servers that do not repair them (wsgiref, the Werkzeug dev server) the fix is what keeps
the wire correct.

**Phases.** `head` rules are decided from the status, headers and request alone, before any body byte;
`body` rules need to know whether there is content (a few need the bytes); `length` rules need the total
body size, known once the body has ended.

**Unknown is not absent.** A rule that needs a fact nobody gave stays silent rather than read its absence:
the request's headers (`check()` without `request_headers`, `statusguard check` on a response without its
request), the HTTP version (`check()` without `http_version`), the server's known methods (no
`known_methods`), the router's methods (no `allowed_methods`) and whether the app handed the response over
as its final one (known to the middlewares; `check(final=True)` says so). The middlewares know the request,
its version and interface. A rule whose verdict does not depend on the missing fact still reports (a 206 to
POST is wrong whatever the request's headers).

### Fix safety

Every fix keeps this contract; `tests/test_fix_contract.py` generates responses, fixes them and checks it on
each one:

- **It never makes a claim the app did not make.** It adds a value only from configuration (a challenge,
  `Upgrade`, `Link`, `Retry-After`, a status map), from the router (`Allow`), from the app's own values
  (collapsing, reformatting, `HEAD` next to `GET`), or the framing and cache fields a rule requires
  (`Content-Length`, `Cache-Control: no-store`). A generic problem body does not satisfy a code's own
  explain rule (406, 409, 428, 429, 431, 451, 505): those report, and only `4xx-explain`/`5xx-explain`
  synthesize one.
- **It never loses a header the app sent unless the rule says so** (each fix below says what it removes). A
  value with a line break is repaired, not dropped: an obs-fold becomes one SP (RFC 9112 §5.2), a bare CR,
  LF or NUL becomes SP (RFC 9110 §5.5). Replacing the body drops what described the old one
  (`Content-Encoding`, `Content-Digest`, `Repr-Digest`, `ETag`, `Last-Modified`, `Content-MD5`,
  `Content-Range` except the unsatisfied form `bytes */N`, `Content-Language`).
- **It never turns an expired response fresh.** An invalid `Expires` becomes a date in the past, as caches
  already read it (RFC 9111 §5.3); only a valid HTTP-date keeps its moment.
- **It never produces bytes the client cannot decode.** A synthesized or rewritten body is sent as itself
  (no content coding) with its own `Content-Length`; an app's JSON is rewritten only when every member it did
  not change keeps its value (never `Infinity`, never rounded digits), else it is left alone and reported.
- **It says "fixed" only when the rule passes afterwards**: the repaired response is checked again, and a
  rule still broken is reported as remaining.

Each rule below shows a bad example (a response that breaks it) with the message `statusguard.check`
reports for it, a corrected response, and, for fixable rules, what `statusguard.fix` makes of the bad
example with only that rule's fix enabled. Statuses read "any" when the rule applies whatever the status."""


def _table(groups: Sequence[tuple[str, list[Rule]]]) -> str:
    rows = [
        "| Rule | Level | Statuses | Default | Fix | Summary |",
        "|---|---|---|---|---|---|",
    ]
    for _, rules in groups:
        for rule in rules:
            default = "on" if rule.enabled_by_default else "opt-in"
            fixable = "—" if not rule.fixable else ("yes" if rule.fix_by_default else "opt-in")
            rows.append(
                f"| [`{rule.id}`](#{rule.id}) | {rule.level} | {_cell(format_statuses(rule.statuses))} "
                f"| {default} | {fixable} | {_cell(rule.summary)} |"
            )
    return "\n".join(rows)


def _not_checkable() -> str:
    lines = [
        "## Not checkable from a middleware",
        "",
        "These rows of the spec are not checked: no middleware can observe what they need, or they are MAY "
        "rows (options, never violations).",
        "",
    ]
    lines += [f"- `{rule_id}`: {_md(reason.rstrip('.'))}." for rule_id, reason in NOT_CHECKABLE.items()]
    return "\n".join(lines)


def render_catalogue() -> str:
    """docs/rules.md: title, introduction, summary table, one section per rule, the uncheckable rows."""
    groups = rule_groups()
    out = [
        "# statusguard rules",
        "",
        f"<!-- Generated by `{REGENERATE}` from src/statusguard/core/rules/. Do not edit by hand. -->",
        "",
        _intro(),
        "",
        "## Summary",
        "",
        _table(groups),
        "",
    ]
    for title, rules in groups:
        out += [f"## {_md(title)}", ""]
        out += [render_rule(rule) for rule in rules]
    out += [_not_checkable(), ""]
    return "\n".join(out)


# JSON ----------------------------------------------------------------------------------------


def catalogue_json() -> str:
    """docs/rules.json: every rule's ``to_dict()`` in catalogue order, then the uncheckable rows."""
    document = {
        "rules": [rule.to_dict() for rule in RULE_LIST],
        "not_checkable": [{"id": rule_id, "reason": reason} for rule_id, reason in NOT_CHECKABLE.items()],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# Command line --------------------------------------------------------------------------------


def outputs() -> dict[str, str]:
    """Each generated file (path relative to the repository root) and its content."""
    return {MARKDOWN_PATH: render_catalogue(), JSON_PATH: catalogue_json()}


def _read(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m statusguard._docs", description="Generate docs/rules.md and docs/rules.json."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is out of date")
    parser.add_argument("--root", default=".", help="the repository root (default: the current directory)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    stale = 0
    for relative, content in outputs().items():
        path = root / relative
        if _read(path) == content:
            if not args.check:
                print(f"{relative} is up to date")
            continue
        if args.check:
            stale += 1
            print(f"{relative} is out of date; run `{REGENERATE}` and commit the result", file=sys.stderr)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
        print(f"wrote {relative}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
