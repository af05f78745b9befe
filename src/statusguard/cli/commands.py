"""The ``statusguard`` command: audit an app, lint recorded traffic, browse the catalogue.

Charter: argument parsing and exit statuses only (argparse, so the core install keeps no
dependency). Exit 0: nothing at or above ``--fail-on``; 1: violations at or above it (for
``audit``, also a probe the app raised on or never answered); 2: usage errors (argparse's own
convention), including a target that cannot be imported or reached and unreadable input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from .. import __version__
from ..core.model import escape
from ..core.rules import NOT_CHECKABLE, RULE_LIST, RULES
from .audit import DEFAULT_TIMEOUT

__all__ = ["main"]

_FAIL_ON = ("MUST", "SHOULD", "ADVISORY", "never")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds between 0 and 3600, e.g. 10")
    return value


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
        "server (a base URL). With no target, audit the bundled demo app. Each route gets GET, HEAD, OPTIONS, a "
        "method it does not serve and an unsatisfiable Range, all without credentials; POST, PUT, PATCH and "
        "DELETE reach a route that serves them only with --unsafe.",
    )
    audit.add_argument("target", nargs="?", help="module:attribute, or http(s)://host:port (default: the demo app)")
    audit.add_argument("--django-settings", metavar="MODULE", help="audit the Django project with these settings")
    audit.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text")
    audit.add_argument("--fail-on", choices=_FAIL_ON, default=None,
                       help="exit 1 when a violation at or above this level is found, or the app raises on a "
                       "probe (default MUST; the demo: never)")
    audit.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="value for a path parameter (repeatable)")
    audit.add_argument("--unsafe", action="store_true",
                       help="also send POST/PUT/PATCH/DELETE (with an empty body) to routes that serve them")
    audit.add_argument("--timeout", type=_positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help="give up on a probe the app has not answered after this long "
                       f"(default {DEFAULT_TIMEOUT:g})")
    audit.add_argument("--keep-middleware", action="store_true",
                       help="leave statusguard's own middleware, when the app installs it, in the mode the app "
                       "gives it (by default it is switched off so that the app's own responses are judged)")
    audit.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")

    check = commands.add_parser(
        "check", help="lint a recorded response (curl -i output) or a HAR file",
        description="Check one raw HTTP response as `curl -i` prints it (a file or stdin), or every exchange of a "
        "HAR file with --har. The request's method and headers are taken from the input when it has them; "
        "without them the request's headers are unknown, and the rules that need them stay silent.",
    )
    check.add_argument("file", nargs="?", help="the file to read (default: stdin)")
    check.add_argument("--har", action="store_true", help="the input is a HAR file")
    check.add_argument("--method", default=None,
                       help="the request method of a raw response (default: from the input, else GET)")
    check.add_argument("--request-header", action="append", default=[], metavar="'NAME: VALUE'",
                       help="a request header of a raw response (repeatable); giving one says the request's headers "
                       "are known")
    check.add_argument("--known-methods", default=None, metavar="'GET, POST, ...'",
                       help="the methods the server implements anywhere (for 405-vs-501; unknown by default)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--fail-on", choices=_FAIL_ON, default="MUST")

    rules = commands.add_parser("rules", help="list the rule catalogue")
    rules.add_argument("--json", action="store_true", help="the catalogue as JSON")

    explain = commands.add_parser("explain", help="print a rule's full documentation")
    explain.add_argument("rule_id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: --help/--version exit 0, usage errors exit 2
        return exit_.code if isinstance(exit_.code, int) else 2
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
    from .audit import TargetError, load_target, middleware_off, run_audit
    from .formats import failing, render

    params: dict[str, str] = {}
    for item in args.param:
        name, eq, value = item.partition("=")
        if not eq or not name:
            return _usage_error(f"--param {item!r}: write NAME=VALUE")
        params[name] = value
    demo = args.target is None and args.django_settings is None
    fail_on = args.fail_on or ("never" if demo else "MUST")
    logger = logging.getLogger("statusguard")
    saved = (logger.propagate, list(logger.handlers))
    logger.addHandler(logging.NullHandler())
    logger.propagate = False  # the app's own statusguard middleware, if kept on, must not print over the report
    try:
        with contextlib.nullcontext() if args.keep_middleware else middleware_off():
            try:
                target = load_target(args.target, django_settings=args.django_settings, params=params)
            except TargetError as exc:
                return _usage_error(f"cannot load the target: {exc}")
            progress = _Progress(sys.stderr) if _is_terminal(sys.stderr) else None
            try:
                report = run_audit(target, unsafe=args.unsafe, timeout=args.timeout,
                                   progress=progress.update if progress else None)
            except TargetError as exc:
                if progress is not None:
                    progress.clear()
                return _usage_error(f"cannot audit the target: {exc}")
    finally:
        logger.propagate, logger.handlers[:] = saved[0], saved[1]
    text = render(report, args.format, fail_on)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        except OSError as exc:
            return _usage_error(f"cannot write the report: {exc}")
    else:
        print(text)
    if demo and args.format == "text" and not args.output:
        print("\n(The bundled demo app: its mistakes are on purpose. Audit your own app with\n"
              " statusguard audit yourpackage.module:app)")
    violations, errors = failing(report, fail_on)
    return 1 if violations or errors else 0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


class _Progress:
    """"probing 12/40" on one terminal line, shown only once an audit has run for a moment."""

    delay = 0.5  # seconds before the first display: a quick audit prints nothing

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.shown = False

    def update(self, done: int, total: int) -> None:
        if done >= total:
            self.clear()
            return
        if not self.shown and time.monotonic() - self.started < self.delay:
            return
        self.shown = True
        self.stream.write(f"\rstatusguard: probing {done + 1}/{total}...")
        self.stream.flush()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 40 + "\r")
            self.stream.flush()
            self.shown = False


def _check(args: argparse.Namespace) -> int:
    from ..core.checker import check
    from .formats import at_or_above, violations_text
    from .rawhttp import parse_har, parse_raw_response

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
        if not colon or not name.strip():
            return _usage_error(f"--request-header {item!r}: write 'Name: value'")
        request_headers.append((name.strip(), value.strip()))
    try:
        if args.har:
            exchanges = parse_har(data)
        else:
            recorded = parse_raw_response(data)
            if args.method:
                recorded.method = args.method.upper()
            if request_headers:
                recorded.request_headers = request_headers
            exchanges = [recorded]
    except ValueError as exc:
        return _usage_error(str(exc))
    everything = []
    blocks = []
    for exchange in exchanges:
        # A body the client decoded (curl --compressed, every HAR) cannot be measured against Content-Length.
        selectors = {"content-length-accurate": "off"} if exchange.decoded else None
        violations = check(
            exchange.status, exchange.headers, exchange.body, method=exchange.method,
            # A raw response without its request: the request's headers are unknown, not absent.
            request_headers=exchange.request_headers if exchange.method_known or args.har or request_headers
            else None,
            http_version=exchange.http_version, rules=selectors, known_methods=args.known_methods,
        )
        everything.extend(violations)
        label = f"{exchange.method} {exchange.url} -> {exchange.status}" if exchange.url else \
            f"{exchange.method} -> {exchange.status}"
        blocks.append((label, exchange, violations))
    if args.format == "json":
        print(json.dumps([
            {"request": label, "method": ex.method, "url": ex.url, "status": ex.status,
             "http_version": ex.http_version, "skipped": ex.skipped, "body_decoded": ex.decoded,
             "violations": [v._asdict() | {"severity": v.severity} for v in violations]}
            for label, ex, violations in blocks
        ], indent=2))
    else:
        if not blocks:
            print("No answered exchange in the input.")
        for label, exchange, violations in blocks:
            print(escape(label, 96))
            if exchange.skipped:
                print(f"  (skipped before it: {escape('; '.join(exchange.skipped), 80)})")
            print(violations_text(violations, indent="  "))
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
        from .._docs import render_rule

        print(render_rule(rule))
    except ImportError:  # pragma: no cover - the docs renderer ships with the package
        print(json.dumps(rule.to_dict(), indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
