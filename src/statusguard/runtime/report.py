"""Reporting: one log line per violation, safe to write whatever the app or the client sent.

Charter: everything that leaves statusguard as text goes through here. Promises kept here:
- credentials never reach a log: values of Authorization, Proxy-Authorization, Cookie and
  Set-Cookie seen in the exchange are masked in every message, even if a rule quoted one;
- control characters (CR, LF...) in logged values are escaped, so a path cannot forge log lines;
- the same (rule, method, route or path) is logged once per interval, with a bounded memory
  (at most ``max_keys`` entries, the ones last logged) however many distinct paths a client invents;
- the ``on_violation`` hook sees every violation (no dedup); an exception in it is logged, once,
  and never reaches the app.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..core.model import Violation, escape

__all__ = ["SENSITIVE_FIELDS", "Reporter", "ViolationContext", "redact", "secrets_in_entries", "secrets_of"]

logger = logging.getLogger("statusguard")

SENSITIVE_FIELDS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_REDACTED = "[redacted]"
_MIN_SECRET = 4  # shorter values ("a=1") would mask ordinary words; they cannot identify anyone either
_MIN_PREFIX = 8  # this much of a credential's start identifies it, however its remainder was printed


@dataclass(frozen=True, slots=True)
class ViolationContext:
    """Where a violation happened and what statusguard did about it (passed to ``on_violation``)."""

    method: str
    path: str
    status: int
    action: str  # "logged", "fixed", "quiet" (fixed, routine), "raised", "unfixed" (a fix was wanted but not made)
    gateway: str
    route: str | None = None


class Reporter:
    def __init__(
        self,
        *,
        log: logging.Logger | None = None,
        interval: float = 60.0,
        max_keys: int = 4096,
        on_violation: Callable[[Violation, ViolationContext], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log or logger
        self.interval = interval
        self.max_keys = max_keys
        self.on_violation = on_violation
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        self._hook_failed = False
        self._internal_logged: set[str] = set()

    def _should_log(self, key: tuple[str, str, str]) -> bool:
        if self.interval <= 0:
            return True
        now = self._clock()
        # A repeat within the interval (the common case on a busy route) is answered by one dict read,
        # without the lock. Keys are kept in the order they were last logged: a flood of new keys can
        # push out a busy one, which then costs one more log line, never unbounded memory.
        last = self._seen.get(key)
        if last is not None and now - last < self.interval:
            return False
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last < self.interval:
                return False  # another thread logged it meanwhile
            self._seen[key] = now
            self._seen.move_to_end(key)
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
        return True

    def report(self, violation: Violation, context: ViolationContext, secrets: Iterable[str] = ()) -> None:
        message = redact(violation.message, secrets)
        safe = violation if message is violation.message else violation._replace(message=message)
        if self.on_violation is not None:
            self._call_hook(safe, context)
        self._log(safe, context.method, context.path, context.route, context.action)

    def replay(
        self, reports: Iterable[tuple[Violation, str]], violations: list[Violation], method: str, path: str,
        gateway: str,
    ) -> None:
        """``report`` for each (violation, action) of a remembered verdict, each also appended to
        ``violations``. The messages are already masked and there is no route, so the hook's context is
        built only when there is a hook. One call for all, the dedup check first: most replays repeat a
        line logged within the interval (the hot path of a response that breaks a rule again and again)."""
        hook = self.on_violation
        interval = self.interval
        # escape() inline for the common case (short and printable: unchanged): the dedup key is the escaped text.
        shown_method = method if len(method) <= 16 and method.isprintable() else escape(method, 16)
        shown_path = path if len(path) <= 200 and path.isprintable() else escape(path, 200)
        now = self._clock() if interval > 0 else 0.0
        for violation, action in reports:
            violations.append(violation)
            if hook is not None:
                self._call_hook(violation, ViolationContext(method, path, violation.status, action, gateway))
            if interval > 0:
                last = self._seen.get((violation.rule, shown_method, shown_path))
                if last is not None and now - last < interval:
                    continue
            self._log(violation, method, path, None, action)

    def _call_hook(self, violation: Violation, context: ViolationContext) -> None:
        assert self.on_violation is not None
        try:
            self.on_violation(violation, context)
        except Exception:
            with self._lock:
                first, self._hook_failed = not self._hook_failed, True
            if first:
                self.log.exception("statusguard: the on_violation hook raised; later failures are not logged")

    def _log(self, violation: Violation, method: str, path: str, route: str | None, action: str) -> None:
        method, path = escape(method, 16), escape(path, 200)
        # Keyed on the capped text that is logged: a client's megabyte paths cannot inflate the memory.
        key = (violation.rule, method, escape(route, 200) if route is not None else path)
        if not self._should_log(key):
            return
        level = _log_level(violation, action)
        if not self.log.isEnabledFor(level):
            return
        self.log.log(
            level,
            "statusguard: [%s] %s %s %s -> %d: %s (%s; %s)",
            violation.rule, violation.level, method, path, violation.status, escape(violation.message, 300),
            action, violation.reference,
            extra={
                "rule": violation.rule,
                "level": violation.level,
                "status": violation.status,
                "method": method,
                "path": path,
                "action": action,
                "reference": violation.reference,
                "hint": violation.hint,
            },
        )

    def internal_error(self, where: str, exc: BaseException, secrets: Iterable[str] = ()) -> None:
        """Log an error of statusguard's own, with its traceback, once per place it happened.

        The traceback is formatted here and masked like any message: an exception's text may quote
        the request (a user's allowed_methods callable raising with the environ in its message).
        """
        with self._lock:  # threaded servers: "once" must hold when two requests fail together
            if where in self._internal_logged:
                return
            self._internal_logged.add(where)
        message = "statusguard: internal error in %s; the response passes through unchecked (please report this)"
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        masked = redact(trace, secrets)
        if masked == trace:  # nothing to hide: keep exc_info, which error trackers read
            self.log.error(message, where, exc_info=(type(exc), exc, exc.__traceback__))
        else:
            self.log.error(message + "\n%s", where, masked.rstrip())


def _log_level(violation: Violation, action: str) -> int:
    if action == "quiet":
        return logging.DEBUG
    if violation.level == "MUST":
        return logging.WARNING if action == "fixed" else logging.ERROR
    if violation.level == "SHOULD":
        return logging.INFO if action == "fixed" else logging.WARNING
    return logging.INFO


def redact(text: str, secrets: Iterable[str]) -> str:
    """Mask every credential value (and each cookie value within it) that appears in ``text``.

    Messages quote values through ``escape`` and ``repr``, which rewrite control characters and
    quotes and cut long values short with "...": each secret is looked for in those forms too,
    and a cut-off prefix of it is masked as well as the whole.
    """
    for secret in secrets:
        for piece in _secret_pieces(secret):
            for form in _quoted_forms(piece):
                text = _mask(text, form)
    return text


def _quoted_forms(piece: str) -> list[str]:
    """The piece as it may be printed: verbatim, through ``escape``, inside a ``repr``, or both
    (the catalogue writes ``{escape(value)!r}``)."""
    escaped = piece.encode("unicode_escape").decode("ascii")
    forms = [piece, escaped, repr(piece)[1:-1], repr(escaped)[1:-1]]
    return list(dict.fromkeys(forms))


def _mask(text: str, form: str) -> str:
    if form in text:
        text = text.replace(form, _REDACTED)
    head = form[:_MIN_SECRET]
    start = text.find(head)
    while start != -1:
        end = start + len(head)
        while end < len(text) and end - start < len(form) and text[end] == form[end - start]:
            end += 1
        # A prefix of the secret is masked too: one a length cap cut short ("sid=abc..." or the end of
        # the text), or one long enough to identify the secret though its rest was printed another way.
        if end == len(text) or text.startswith("...", end) or end - start >= _MIN_PREFIX:
            text = text[:start] + _REDACTED + text[end:]
            end = start + len(_REDACTED)
        start = text.find(head, end)
    return text


def _secret_pieces(secret: str) -> list[str]:
    pieces = [secret.strip()]
    # "Bearer abc", "a=1; b=2": the credential parts are worth masking on their own too.
    for part in secret.replace(";", " ").replace(",", " ").split():
        pieces.append(part)
        if "=" in part:
            pieces.append(part.split("=", 1)[1])
    return sorted({p for p in pieces if len(p) >= _MIN_SECRET}, key=len, reverse=True)


def secrets_of(*header_lists: Iterable[tuple[str, str]]) -> list[str]:
    """The values of the sensitive fields in these header lists.

    A malformed name that carries a whole field line (``"Set-Cookie: sid=..."``, which
    ``field-name-syntax`` quotes) counts too: the part after the colon is the credential.
    """
    found = []
    for headers in header_lists:
        for name, value in headers:
            field, colon, rest = name.partition(":")
            if field.strip().lower() in SENSITIVE_FIELDS:
                found.append(value)
                if colon and rest.strip():
                    found.append(rest.strip())
    return found


def secrets_in_entries(entries: Iterable[object]) -> list[str]:
    """Credentials inside header entries that are not (name, value) pairs.

    Such entries are left out of the normalised headers (so ``secrets_of`` never sees them), yet
    the ``field-name-syntax`` message quotes their repr: ``("Set-Cookie", "sid=...", "HttpOnly")``
    or ``"Cookie: sid=..."`` would otherwise reach the log.
    """
    found: list[str] = []
    for entry in entries:
        if isinstance(entry, str | bytes):
            text = _text(entry)
            name, colon, value = (text or "").partition(":")
            if colon and name.strip().lower() in SENSITIVE_FIELDS:
                found.append(value)
        elif isinstance(entry, tuple | list):
            texts = [t for t in map(_text, entry) if t is not None]
            if texts and texts[0].strip().lower() in SENSITIVE_FIELDS:
                found.extend(texts[1:])
    return found


def _text(item: object) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, bytes | bytearray):
        return bytes(item).decode("latin-1")
    return None
