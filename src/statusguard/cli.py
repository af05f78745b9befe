"""The ``statusguard`` command: audit an app, lint recorded traffic, browse the catalogue.

Charter: argument parsing and exit statuses only (argparse, so the core install keeps no
dependency). Exit 0: nothing at or above ``--fail-on``; 1: violations at or above it; 2: usage
errors (argparse's own convention), including a target that cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .catalogue import NOT_CHECKABLE, RULE_LIST, RULES

__all__ = ["main"]

_FAIL_ON = ("MUST", "SHOULD", "ADVISORY", "never")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="statusguard",
        description="Make web apps tell the truth with their HTTP status codes (RFC 9110).",
    )
    parser.add_argument("--version", action="version", version=f"statusguard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    audit = commands.add_parser(
        "audit", help="probe an app's routes and report status-code violations",
        description="Audit a WSGI/ASGI app (module:attribute), a Django project (--django-settings) or a running "
        "server (a base URL). With no target, audit the bundled demo app.",
    )
    audit.add_argument("target", nargs="?", help="module:attribute, or http(s)://host:port (default: the demo app)")
    audit.add_argument("--django-settings", metavar="MODULE", help="audit the Django project with these settings")
    audit.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text")
    audit.add_argument("--fail-on", choices=_FAIL_ON, default=None,
                       help="exit 1 when a violation at or above this level is found (default MUST; the demo: never)")
    audit.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="value for a path parameter (repeatable)")
    audit.add_argument("--unsafe", action="store_true",
                       help="also send POST/PUT/PATCH/DELETE to handlers that accept them")
    audit.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")

    check = commands.add_parser(
        "check", help="lint a recorded response (curl -i output) or a HAR file",
        description="Check one raw HTTP response as `curl -i` prints it (a file or stdin), or every exchange of a "
        "HAR file with --har.",
    )
    check.add_argument("file", nargs="?", help="the file to read (default: stdin)")
    check.add_argument("--har", action="store_true", help="the input is a HAR file")
    check.add_argument("--method", default="GET", help="the request method of a raw response (default GET)")
    check.add_argument("--request-header", action="append", default=[], metavar="'NAME: VALUE'",
                       help="a request header of a raw response (repeatable)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--fail-on", choices=_FAIL_ON, default="MUST")

    rules = commands.add_parser("rules", help="list the rule catalogue")
    rules.add_argument("--json", action="store_true", help="the catalogue as JSON")

    explain = commands.add_parser("explain", help="print a rule's full documentation")
    explain.add_argument("rule_id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "audit":
            return _audit(args)
        if args.command == "check":
            return _check(args)
        if args.command == "rules":
            return _rules(args)
        return _explain(args)
    except BrokenPipeError:  # pragma: no cover - `statusguard rules | head`
        return 0


def _usage_error(message: str) -> int:
    print(f"statusguard: error: {message}", file=sys.stderr)
    return 2


def _audit(args: argparse.Namespace) -> int:
    from ._audit import load_target, run_audit
    from ._formats import at_or_above, render

    params: dict[str, str] = {}
    for item in args.param:
        name, eq, value = item.partition("=")
        if not eq or not name:
            return _usage_error(f"--param {item!r}: write NAME=VALUE")
        params[name] = value
    logging.getLogger("statusguard").addHandler(logging.NullHandler())
    logging.getLogger("statusguard").propagate = False
    try:
        target = load_target(args.target, django_settings=args.django_settings, params=params)
    except (ImportError, AttributeError, ValueError) as exc:
        return _usage_error(f"cannot load the target: {exc}")
    progress = _progress if sys.stderr.isatty() else None
    report = run_audit(target, unsafe=args.unsafe, progress=progress)
    text = render(report, args.format, args.fail_on or "MUST")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)
    if args.target is None and args.django_settings is None and args.format == "text":
        print("\n(This was the bundled demo app: its mistakes are on purpose. "
              "Audit your own with: statusguard audit yourpackage.module:app)")
    fail_on = args.fail_on or ("never" if args.target is None and args.django_settings is None else "MUST")
    return 1 if at_or_above(report.violations(), fail_on, in_process=target.kind != "url") else 0


def _progress(done: int, total: int) -> None:
    end = "\n" if done >= total else ""
    print(f"\rstatusguard: probing {done}/{total}", end=end, file=sys.stderr, flush=True)


def _check(args: argparse.Namespace) -> int:
    from ._formats import at_or_above, violations_text
    from ._rawhttp import parse_har, parse_raw_response
    from .checker import check

    try:
        if args.file:
            with open(args.file, "rb") as handle:
                data = handle.read()
        else:
            data = sys.stdin.buffer.read()
    except OSError as exc:
        return _usage_error(str(exc))
    request_headers = []
    for item in args.request_header:
        name, colon, value = item.partition(":")
        if not colon:
            return _usage_error(f"--request-header {item!r}: write 'Name: value'")
        request_headers.append((name.strip(), value.strip()))
    try:
        if args.har:
            exchanges = parse_har(data)
        else:
            recorded = parse_raw_response(data)
            recorded.method = args.method.upper()
            recorded.request_headers = request_headers
            exchanges = [recorded]
    except ValueError as exc:
        return _usage_error(str(exc))
    everything = []
    blocks = []
    for exchange in exchanges:
        violations = check(
            exchange.status, exchange.headers, exchange.body, method=exchange.method,
            request_headers=exchange.request_headers, http_version=exchange.http_version,
        )
        everything.extend(violations)
        label = f"{exchange.method} {exchange.url or ''} -> {exchange.status}".replace("  ", " ")
        blocks.append((label, exchange, violations))
    if args.format == "json":
        print(json.dumps([
            {"request": label, "status": ex.status,
             "violations": [v._asdict() | {"severity": v.severity} for v in violations]}
            for label, ex, violations in blocks
        ], indent=2))
    else:
        for label, _, violations in blocks:
            print(label)
            print("  " + violations_text(violations).replace("\n", "\n  "))
    return 1 if at_or_above(everything, args.fail_on) else 0


def _rules(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps({"rules": [rule.to_dict() for rule in RULE_LIST],
                          "not_checkable": dict(NOT_CHECKABLE)}, indent=2))
        return 0
    width = max(len(rule.id) for rule in RULE_LIST)
    for rule in RULE_LIST:
        flags = "" if rule.enabled_by_default else " (opt-in)"
        fixable = " [fix]" if rule.fixable else ""
        print(f"{rule.id:<{width}}  {rule.level:<10} {rule.summary}{fixable}{flags}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    rule = RULES.get(args.rule_id)
    if rule is None:
        if args.rule_id in NOT_CHECKABLE:
            print(f"{args.rule_id}: not checkable from a middleware: {NOT_CHECKABLE[args.rule_id]}")
            return 0
        import difflib

        close = difflib.get_close_matches(args.rule_id, list(RULES), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; list them with `statusguard rules`"
        return _usage_error(f"unknown rule {args.rule_id!r}{hint}")
    try:
        from ._docs import render_rule

        print(render_rule(rule))
    except ImportError:  # pragma: no cover - the docs renderer ships with the package
        print(json.dumps(rule.to_dict(), indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
