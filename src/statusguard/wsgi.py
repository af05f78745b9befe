"""WSGI adapter: ``WSGIMiddleware(app, mode=..., rules=..., **fix_options)``.

Theory of operation (PEP 3333; werkzeug's LintMiddleware is the model for observing a response
without disturbing it). Each request gets a _Response, the response session of
``runtime/session.py`` with what PEP 3333 needs around it:
- ``start_response`` is wrapped: it is the session's head. When the session holds the head for its
  first content, the server's ``start_response`` is called with the first chunk (of ``write()`` or
  of the iterable) instead, which PEP 3333 allows.
- A re-call with ``exc_info`` before any body byte went out replaces the response, so the new
  head is the one judged; once a byte went out it goes to the server, which re-raises.
- The returned iterable is wrapped to count bytes (never to keep them) and to forward ``close()``
  exactly once, whatever raised. A list whose length settles the response is returned as it is,
  and so is a ``wsgi.file_wrapper`` object whose body is the app's (the server may sendfile it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .core.errors import ConfigurationError
from .core.model import Violation
from .core.policy import Policy
from .runtime.report import Reporter, ViolationContext
from .runtime.session import BROKEN, HELD, HOLD, IDLE, OPEN, OWNED, SEND, SEND_FIXED, Gateway, Session

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["WSGIMiddleware"]

_ENVIRON_KEY = "statusguard.violations"
_MAX_WHOLE_BODY = 256 * 1024  # a held head's list/tuple body up to this size is judged whole (it is in memory)


class WSGIMiddleware:
    """Check (and per the policy log, fix or raise on) every response of a WSGI app."""

    def __init__(
        self,
        app: WSGIApplication,
        mode: str | None = None,
        rules: Mapping[str, str] | None = None,
        *,
        on_violation: Callable[[Violation, ViolationContext], object] | None = None,
        allowed_methods: Callable[[WSGIEnvironment], Iterable[str] | None] | None = None,
        log_interval: float = 60.0,
        **fix_options: Any,
    ) -> None:
        self.app = app
        self.policy = Policy(mode, rules, **fix_options)
        self.reporter = Reporter(interval=log_interval, on_violation=on_violation)
        if allowed_methods is not None and not callable(allowed_methods):  # type: ignore[redundant-expr,unused-ignore]
            raise ConfigurationError(
                f"allowed_methods={allowed_methods!r}: expected a callable taking the environ and returning "
                "the methods served at its path (or None), e.g. statusguard.contrib.flask.allowed_methods(app)"
            )
        self.allowed_methods = allowed_methods
        self._gateway = _Environ("wsgi", self.policy, self.reporter, allowed_methods)
        self.memo = self._gateway.memo
        self._off = self.policy.mode == "off"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._off:
            return self.app(environ, start_response)
        violations: list[Violation] = []
        environ[_ENVIRON_KEY] = violations
        response = _Response()
        response.gateway = self._gateway
        response.request = environ
        response.violations = violations
        response.server_start_response = start_response
        response.state = IDLE
        response.sent = 0
        result = self.app(environ, response.start_response)
        if type(result) is list:  # nothing to close: the common cases are served here
            state = response.state
            if state is OPEN:
                try:  # one chunk, the common case, costs less than summing
                    total = response.sent + (len(result[0]) if len(result) == 1 else sum(map(len, result)))
                except TypeError:
                    total = -1  # not a list of bytes: forwarded as it comes
                if total >= 0 and (total == response.settled or response.end_ahead(total)):
                    return result  # its length is checked: nothing to count
            elif state is HELD and len(result) == 1:
                return response.whole(result)
        return response.serve(result)


class _Response(Session):
    """One request's response session, with the app's callables and its iterable around it."""

    __slots__ = ("exc_info", "result", "server_start_response", "server_write")
    server_start_response: StartResponse
    server_write: Callable[[bytes], object]
    exc_info: OptExcInfo | None  # given to the server's start_response when it is called later
    result: Iterable[bytes] | None  # the app's iterable, until closed

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is None and self.state is IDLE and type(status) is str and type(headers) is list:
            environ = self.request
            try:
                key = (status, tuple(headers), environ["REQUEST_METHOD"], environ["SERVER_PROTOCOL"])
            except KeyError:  # PEP 3333 requires both; without them the head is judged in full
                key = None
        elif exc_info is not None and self.sent:  # PEP 3333: the head is on the wire; the server re-raises
            return self.server_start_response(status, headers, exc_info)
        else:  # a replaced head (exc_info), a second call, an unusual one: judged in full
            key = None
        action = self.head(status, headers, key)
        if action is SEND:
            self.server_write = self.server_start_response(status, headers, exc_info)
        else:
            self.exc_info = exc_info
            if action is not HOLD:
                self._start(action)
        return self.write

    def write(self, data: bytes) -> object:
        state = self.state
        if state < OPEN:
            if not data:
                return None  # nothing to decide a held head on yet
            self._decide(None)
            state = self.state
        if state is OWNED:
            return None
        self.sent += len(data)
        return self.server_write(data)

    def serve(self, result: Iterable[bytes]) -> Iterable[bytes]:
        """What the server gets for the app's iterable (unless it is a list that settles an open response,
        see ``__call__``): the iterable itself when nothing is left to do, else this response, which iterates it."""
        try:
            state = self.state
            if state is HELD:
                whole = _whole(result)
                if whole is not None:
                    self._start(self.decide(whole))
                    if type(result) is list:  # nothing to close
                        if self.state is not OWNED:
                            return result if whole else []
                        assert self.decision is not None
                        return [self.decision.replace_body] if self.decision.replace_body else []
            if (state is OPEN or state is BROKEN) and _is_file_wrapper(self.request, result):
                return result  # let the server use sendfile; the server frames what it sends
        except BaseException:
            _close(result)  # PEP 3333: whoever gets the iterable closes it; nobody else will now
            raise
        self.result = result
        return self

    def whole(self, result: list[bytes]) -> Iterable[bytes]:
        """A held head and its whole body, a list of one chunk (nothing to close): decided, and served so."""
        body = result[0]
        if type(body) is not bytes or len(body) > _MAX_WHOLE_BODY:
            return self.serve(result)
        if self.decide(body) is SEND:
            self.server_write = self.server_start_response(self.status, self.headers, self.exc_info)  # type: ignore[arg-type]
            return result if body else []
        decision = self.decision
        assert decision is not None  # as _start(SEND_FIXED), inline: the common case of a held head
        self.server_write = self.server_start_response(decision.status_line, list(decision.headers), self.exc_info)
        if self.state is not OWNED:
            return result if body else []
        return [decision.replace_body] if decision.replace_body else []

    def __iter__(self) -> Iterator[bytes]:
        assert self.result is not None
        return self._chunks(iter(self.result))

    def _chunks(self, iterator: Iterator[bytes]) -> Iterator[bytes]:
        if self.state is not OWNED:
            # Until a byte goes out, a held head waits for content and the app may replace its head
            # (start_response with exc_info): each chunk asks the session.
            for chunk in iterator:
                state = self.state
                if state is not OPEN:
                    if state < OPEN:
                        if not chunk:
                            continue
                        self._decide(None)
                        state = self.state
                    if state is OWNED:
                        break
                self.sent += len(chunk)
                yield chunk
                if self.sent:  # the head is on the wire: the rest is only counted
                    count = 0
                    for chunk in iterator:
                        count += len(chunk)
                        yield chunk
                    self.sent += count
                    self.end()
                    return
            else:
                if self.state < OPEN:  # the body ended before any content: judged whole, empty
                    self._decide(b"")
                if self.state is not OWNED:
                    self.end()
                    return
        assert self.decision is not None
        if self.decision.replace_body:
            yield self.decision.replace_body

    def close(self) -> None:
        result, self.result = self.result, None
        if result is not None:
            _close(result)

    def _decide(self, whole: bytes | None) -> None:
        """Decide the held head on its first content (or whole body), and start the server's response."""
        if self.state is IDLE:
            raise AssertionError("the WSGI app returned without calling start_response")
        self._start(self.decide(whole))

    def _start(self, action: int) -> None:
        if action is SEND_FIXED:  # a copy: servers add their own fields to the list they are given
            decision = self.decision
            assert decision is not None
            self.server_write = self.server_start_response(decision.status_line, list(decision.headers), self.exc_info)
        else:
            self.server_write = self.server_start_response(self.status, self.headers, self.exc_info)  # type: ignore[arg-type]


class _Environ(Gateway):
    label = "WSGIMiddleware"
    head_event = "start_response"

    def request_line(self, environ: WSGIEnvironment) -> tuple[str, str]:
        path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        return str(environ.get("REQUEST_METHOD", "GET")), path

    def version(self, environ: WSGIEnvironment) -> str:
        return str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")).removeprefix("HTTP/")

    def request_headers(self, environ: WSGIEnvironment) -> list[tuple[str, str]]:
        headers = []
        for key, value in environ.items():
            if key.startswith("HTTP_") and isinstance(value, str):
                headers.append((key[5:].replace("_", "-").lower(), value))
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and isinstance(value, str) and value:
                headers.append((key.replace("_", "-").lower(), value))
        return headers

    def replay_line(self, environ: WSGIEnvironment) -> tuple[str, str] | None:
        if "HTTP_AUTHORIZATION" in environ or "HTTP_COOKIE" in environ or "HTTP_PROXY_AUTHORIZATION" in environ:
            return None
        path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        return str(environ.get("REQUEST_METHOD", "GET")), path


def _whole(result: Iterable[bytes]) -> bytes | None:
    """A list or tuple of bytes small enough to be judged whole, joined; else None."""
    if isinstance(result, list | tuple) and all(isinstance(chunk, bytes) for chunk in result) \
            and sum(len(chunk) for chunk in result) <= _MAX_WHOLE_BODY:
        return b"".join(result)
    return None


def _is_file_wrapper(environ: WSGIEnvironment, result: object) -> bool:
    file_wrapper = environ.get("wsgi.file_wrapper")
    return isinstance(file_wrapper, type) and isinstance(result, file_wrapper)


def _close(result: object) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()
