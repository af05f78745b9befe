"""``statusguard audit``: find an app's routes, send safe probes, check every answer.

Charter: this module runs an audit (the probes of ``probes``, through the drivers of ``drivers``,
against the target ``target`` loaded) and judges each answer with the core (``check``/``fix``),
with the framework's hints appended; presentation lives in ``formats``. Knowledge of the
frameworks lives in ``statusguard.contrib``, never here.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..contrib import _integration
from ..core.checker import build_exchange, check
from ..core.fixer import fix
from ..core.model import Violation
from .drivers import MAX_BODY, Lifespan, drive_asgi, drive_url, drive_wsgi, in_thread
from .probes import UNSAFE_METHODS, Probe, ProbeResult, Route, plan_probes
from .target import Target, TargetError, describe_exception, load_target, middleware_off

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_BODY",
    "UNSAFE_METHODS",
    "AuditReport",
    "Probe",
    "ProbeResult",
    "Route",
    "Target",
    "TargetError",
    "load_target",
    "middleware_off",
    "plan_probes",
    "run_audit",
]

DEFAULT_TIMEOUT = 10.0  # seconds per probe


@dataclass(slots=True)
class AuditReport:
    target: Target
    results: list[ProbeResult]
    notes: list[str] = field(default_factory=list)

    def violations(self) -> list[Violation]:
        return [v for result in self.results for v in result.violations]

    def errors(self) -> list[ProbeResult]:
        return [result for result in self.results if result.error]

    def by_route(self) -> list[tuple[Route, list[ProbeResult]]]:
        grouped: dict[Route, list[ProbeResult]] = {}
        for route in self.target.routes:
            grouped[route] = []
        for result in self.results:
            grouped.setdefault(result.probe.route, []).append(result)
        return [(route, results) for route, results in grouped.items() if results]

    @staticmethod
    def auth_status(results: Sequence[ProbeResult]) -> int | None:
        """401/403/407 when the route refused the GET without credentials: it requires authentication."""
        for result in results:
            if result.probe.kind == "get" and result.status in (401, 403, 407):
                return result.status
        return None



def run_audit(
    target: Target,
    *,
    unsafe: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    probes = plan_probes(target, unsafe=unsafe)
    notes = list(target.notes)
    with warnings.catch_warnings(record=True) as caught, _AppLog(target) as app_log:
        # What the app warns or logs while it is probed belongs in the report, not over it.
        warnings.simplefilter("default")
        if target.kind == "asgi":
            results = asyncio.run(_asgi_session(target, probes, timeout, progress, notes, app_log))
        else:
            results = []
            for index, probe in enumerate(probes):
                if progress is not None:
                    progress(index, len(probes))
                try:
                    results.append(app_log.attach(_run_probe(target, probe, timeout)))
                except ConnectionError as exc:  # a server that cannot be reached (URL targets only)
                    if not results:
                        raise TargetError(str(exc)) from None
                    results.append(ProbeResult(probe, error=str(exc)))
    seen: set[str] = set()
    for warning in caught:
        text = f"the app warned: {warning.category.__name__}: {warning.message} ({warning.filename}:{warning.lineno})"
        if text not in seen and len(seen) < 5:
            seen.add(text)
            notes.append(text)
    if progress is not None:
        progress(len(probes), len(probes))
    return AuditReport(target, results, notes)


class _AppLog(logging.Handler):
    """What the app logs at ERROR while a probe runs (Flask's "Exception on /x", Django's traceback)
    is attached to that probe. A framework's per-request logger (Django's ``django.request``, one
    line per 4xx) is kept off the terminal."""

    def __init__(self, target: Target) -> None:
        super().__init__(logging.ERROR)
        self.quiet = [logging.getLogger(name) for name in target.quiet_loggers]
        self.records: list[logging.LogRecord] = []
        self.saved: list[bool] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR and not record.name.startswith("statusguard") and len(self.records) < 100:
            self.records.append(record)

    def __enter__(self) -> _AppLog:
        logging.getLogger().addHandler(self)
        self.saved = [logger.propagate for logger in self.quiet]
        for logger in self.quiet:
            logger.propagate = False
            logger.addHandler(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        logging.getLogger().removeHandler(self)
        for logger, propagate in zip(self.quiet, self.saved, strict=True):
            logger.removeHandler(self)
            logger.propagate = propagate

    def attach(self, result: ProbeResult) -> ProbeResult:
        records, self.records = self.records, []
        if records and result.error is None and result.status >= 500:
            record = next((r for r in reversed(records) if r.exc_info), records[-1])
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f": {describe_exception(record.exc_info[1])}"
            result.error = f"the app logged an error: {text[:300]}"
        return result


def _judge(target: Target, result: ProbeResult) -> ProbeResult:
    probe = result.probe
    allowed = probe.route.methods
    gateway = target.kind if target.kind in ("wsgi", "asgi") else None
    arguments: dict[str, Any] = {
        "method": probe.method, "request_headers": list(probe.headers), "allowed_methods": allowed,
        "gateway": gateway, "rules": target.rules,
        # The audit drives the app itself: it knows the version it spoke and, in process, that the
        # status is the one the app handed over as its response.
        "http_version": "1.1", "final": True if gateway is not None else None,
    }
    status_arg: int | str = result.status_text if gateway == "wsgi" else result.status
    result.violations = _with_framework_hints(
        probe.route.hints, check(status_arg, result.headers, result.body, **arguments), status_arg, result, arguments
    )
    if result.violations:
        try:
            result.fixed = fix(status_arg, result.headers, result.body, **arguments, **target.fix_options)
        except Exception:
            result.fixed = fix(status_arg, result.headers, result.body, **arguments)
    return result


def _with_framework_hints(
    hints: str, violations: list[Violation], status: int | str, result: ProbeResult, arguments: Mapping[str, Any]
) -> list[Violation]:
    """Each violation's hint, followed by the framework's own remedy (statusguard.contrib's tables)."""
    if not violations or not hints:
        return violations
    try:
        integration = _integration.speaking(hints)
        tables = integration.hint_tables(hints) if integration is not None else ()
        if not tables:
            return violations
        x = build_exchange(status, result.headers, result.body, method=arguments["method"],
                           request_headers=arguments["request_headers"], allowed_methods=arguments["allowed_methods"],
                           gateway=arguments["gateway"], http_version=arguments["http_version"],
                           final=arguments["final"])
        out = []
        for violation in violations:
            extra: list[str] = []
            for table in tables:
                hint = table.get(violation.rule)
                text = hint(x, {}) if callable(hint) else hint
                if isinstance(text, str) and text and text not in extra and text not in violation.hint:
                    extra.append(text)
            out.append(violation._replace(hint=" ".join([violation.hint, *extra])) if extra else violation)
        return out
    except Exception:  # hints are a nicety: never let them break an audit
        return violations



def _run_probe(target: Target, probe: Probe, timeout: float) -> ProbeResult:
    result = ProbeResult(probe)
    try:
        if target.kind == "wsgi":
            in_thread(lambda: drive_wsgi(target.app, probe, target.host, result), timeout)
        else:
            drive_url(target.base_url, probe, result, timeout)
    except TimeoutError:
        result.error = f"no complete response within {timeout:g} s (--timeout)"
        return result
    except ConnectionError as exc:
        if target.kind == "url":
            raise
        result.error = describe_exception(exc)
        return result
    except Exception as exc:  # the app crashed on a probe: report it, go on with the others
        result.error = describe_exception(exc)
        return result
    return _judge(target, result)



async def _asgi_session(
    target: Target, probes: Sequence[Probe], timeout: float, progress: Callable[[int, int], None] | None,
    notes: list[str], app_log: _AppLog,
) -> list[ProbeResult]:
    """One event loop for the whole audit, with the app's lifespan around the probes (as a server does)."""
    lifespan = Lifespan(target.app, timeout)
    state = await lifespan.startup()
    if lifespan.failure:
        notes.append(lifespan.failure)
    results = []
    try:
        for index, probe in enumerate(probes):
            if progress is not None:
                progress(index, len(probes))
            result = ProbeResult(probe)
            try:
                await drive_asgi(target.app, probe, target.host, result, timeout, state)
            except TimeoutError:
                result.error = f"no complete response within {timeout:g} s (--timeout)"
            except Exception as exc:
                result.error = describe_exception(exc)
            results.append(app_log.attach(_judge(target, result) if result.status else result))
    finally:
        await lifespan.shutdown()
    return results

