"""Putting the plugin's checks into the test clients for the session, and taking them out again.

Theory of operation:
- ``Guard`` patches, for the session only, the places where the common test clients call the app.
  httpx's ``ASGITransport.handle_async_request`` and ``WSGITransport.handle_request`` are patched
  here (httpx belongs to no framework); each framework's own test client is patched by its
  integration's ``patch_test_client`` (``statusguard.contrib.<framework>``: Starlette's
  TestClient transport, ``werkzeug.test.run_wsgi_app`` for Flask's test client, and
  ``django.test.client.conditional_content_removal`` for Django's, where the check sees the
  response before HEAD/204/304 bodies are stripped). A module already imported is patched at
  session start; one imported later is patched as it is imported (``importhook``), so neither the
  plugin nor an integration is imported for a framework the test suite does not use. Everything is
  undone at the end of the session.
- The app is wrapped in an ``ASGIMiddleware``/``WSGIMiddleware`` in ``log`` mode whose ``on_violation``
  records into the process-wide ``Recorder``: the app behaves as it would without the plugin, and the
  plugin decides afterwards, at teardown, whether the test fails. A wrapper is a shallow copy of one
  template middleware (the policy is built once) and wraps only the call in progress: the client's
  own objects are never changed (the transport is shallow-copied for the call).
- An app that already runs statusguard (a middleware of ours anywhere in its chain, or declared in
  a ``user_middleware`` list as Starlette's is) is not wrapped again: what its middleware reports
  reaches the recorder through ``Reporter.report``, patched for the session.
"""

from __future__ import annotations

import copy
import functools
import logging
import sys
from collections.abc import Callable, Iterable
from contextlib import suppress
from types import ModuleType
from typing import Any, Final

from ..asgi import ASGIMiddleware
from ..contrib import _integration
from ..core.model import Violation
from ..core.policy import Policy
from ..runtime.report import Reporter, ViolationContext, redact
from ..wsgi import WSGIMiddleware
from .importhook import PostImportHook
from .recorder import Recorder

__all__ = ["Guard", "already_guarded"]

_MARK: Final = "_statusguard_pytest"  # set on every function and class this module puts in place

_log = logging.getLogger("statusguard")


def _asgi_path(scope: dict[str, Any]) -> str:
    """As ASGIMiddleware reports it: ``path`` includes ``root_path`` in current servers, not in older ones."""
    path, root = scope.get("path"), scope.get("root_path") or ""
    if not isinstance(path, str):
        return "?"
    return path if not isinstance(root, str) or path.startswith(root) else root + path


class _ASGICapture:
    """Inside the plugin's ASGIMiddleware: notes the status and headers the app sends. Changes nothing."""

    _statusguard_pytest = True

    def __init__(self, app: Any, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not isinstance(scope, dict) or scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        recorder = self.recorder

        async def capture(message: Any) -> None:
            if isinstance(message, dict) and message.get("type") == "http.response.start":
                try:
                    path = _asgi_path(scope)
                    status = message.get("status")
                    headers = [
                        (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
                        for name, value in message.get("headers") or ()
                    ]
                    method = str(scope.get("method", "GET")).upper()
                    recorder.exchange(method, path, status if isinstance(status, int) else 0, headers)
                except Exception:  # a malformed message is the middleware's to report, not ours
                    pass
            await send(message)

        await self.app(scope, receive, capture)


class _WSGICapture:
    """Inside the plugin's WSGIMiddleware: notes the status and headers the app starts. Changes nothing."""

    _statusguard_pytest = True

    def __init__(self, app: Any, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    def __call__(self, environ: Any, start_response: Any) -> Any:
        recorder = self.recorder

        def capture(status: Any, headers: Any, exc_info: Any = None) -> Any:
            try:
                code = int(str(status)[:3])
            except ValueError:
                code = 0
            with suppress(Exception):  # malformed headers are the middleware's to report, not ours
                recorder.exchange(
                    str(environ.get("REQUEST_METHOD", "GET")).upper(),
                    str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")),
                    code, [(str(name), str(value)) for name, value in headers],
                )
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return self.app(environ, capture)


def _is_statusguard_class(cls: type) -> bool:
    module = str(getattr(cls, "__module__", ""))
    return (module == "statusguard" or module.startswith("statusguard.")) and (
        "Middleware" in cls.__name__ or bool(getattr(cls, _MARK, False))
    )


_CHILD_ATTRS = ("app", "wsgi_app", "application", "_app", "middleware_stack", "__wrapped__")


def already_guarded(app: object) -> bool:
    """Does statusguard already run in this app (anywhere along the ``.app`` chain)?"""
    stack: list[object] = [app]
    seen: set[int] = set()
    while stack and len(seen) < 64:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ASGIMiddleware | WSGIMiddleware) or _is_statusguard_class(type(node)):
            return True
        try:
            namespace = getattr(node, "__dict__", None)
            owner = getattr(node, "__self__", None)
        except Exception:
            continue
        if isinstance(namespace, dict):
            stack.extend(namespace[attr] for attr in _CHILD_ATTRS if namespace.get(attr) is not None)
            user_middleware = namespace.get("user_middleware")  # Starlette, FastAPI: built on first call
            if isinstance(user_middleware, list | tuple):
                for entry in user_middleware:
                    cls = getattr(entry, "cls", None)
                    if isinstance(cls, type) and (
                        issubclass(cls, ASGIMiddleware | WSGIMiddleware) or _is_statusguard_class(cls)
                    ):
                        return True
        if owner is not None and not isinstance(owner, ModuleType):  # a bound method: Flask's app.wsgi_app
            stack.append(owner)
        if isinstance(node, functools.partial):
            stack.append(node.func)
    return False


def _quiet_logger() -> logging.Logger:
    """A logger for the plugin's middlewares: violations are the plugin's to report (so they do not
    show up in ``caplog``), statusguard's internal errors still reach the ``statusguard`` logger."""
    log = logging.Logger("statusguard.pytest")
    log.parent = _log
    log.addFilter(lambda record: not hasattr(record, "rule"))
    return log

def _never_called(*args: Any) -> Any:  # the template middlewares' app: every wrapper sets its own
    raise AssertionError("statusguard's pytest template middleware was called")


class Guard:
    """Puts the plugin's checks into the test clients for the session, and takes them out again."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        quiet = _quiet_logger()
        self._asgi = ASGIMiddleware(_never_called, mode="log", on_violation=recorder.on_violation)
        self._wsgi = WSGIMiddleware(_never_called, mode="log", on_violation=recorder.on_violation)
        self._asgi.reporter.log = self._wsgi.reporter.log = quiet
        self.policy = Policy("log")  # for the responses a framework's hook checks itself (Django's)
        self.reporter = Reporter(log=quiet, on_violation=recorder.on_violation)
        self._own_reporters = {id(self._asgi.reporter), id(self._wsgi.reporter), id(self.reporter)}
        self._undo: list[Callable[[], None]] = []
        self._hook: PostImportHook | None = None
        self._failed: set[str] = set()
        self.patched: list[str] = []
        self.installed = False

    # -- install / uninstall ----------------------------------------------------------------------
    def install(self) -> None:
        if self.installed:
            return
        self.installed = True
        self._patch_reporter()
        patchers: dict[str, Callable[[ModuleType], None]] = {"httpx": self._patch_httpx}
        for name, integration in _integration.test_client_hooks().items():
            patchers[name] = functools.partial(self._patch_framework, integration)
        pending: dict[str, Callable[[ModuleType], None]] = {}
        for name, patcher in patchers.items():
            module = sys.modules.get(name)
            if module is not None:
                patcher(module)
            else:
                pending[name] = patcher
        if pending:
            self._hook = PostImportHook(pending)
            sys.meta_path.insert(0, self._hook)

    def uninstall(self) -> None:
        if self._hook is not None:
            with suppress(ValueError):
                sys.meta_path.remove(self._hook)
            self._hook = None
        while self._undo:
            self._undo.pop()()
        self.installed = False

    def replace(self, owner: Any, name: str, new: Any) -> None:
        if isinstance(owner, type):
            had = name in owner.__dict__
            old = owner.__dict__.get(name)
        else:
            had, old = True, getattr(owner, name)
        setattr(new, _MARK, True)
        setattr(owner, name, new)

        def undo() -> None:
            if had:
                setattr(owner, name, old)
            else:
                delattr(owner, name)

        self._undo.append(undo)

    def internal_error(self, where: str, exc: BaseException) -> None:
        if where not in self._failed:
            self._failed.add(where)
            _log.error(
                "statusguard: internal error of the pytest plugin in %s; the response is not checked",
                where, exc_info=(type(exc), exc, exc.__traceback__),
            )

    # -- wrapping ---------------------------------------------------------------------------------
    def wrap_asgi(self, app: Any) -> Any:
        middleware = copy.copy(self._asgi)
        middleware.app = _ASGICapture(app, self.recorder)
        return middleware

    def wrap_wsgi(self, app: Any) -> Any:
        middleware = copy.copy(self._wsgi)
        middleware.app = _WSGICapture(app, self.recorder)
        return middleware

    def _shadow(self, transport: Any, wrap: Callable[[Any], Any]) -> Any:
        """The transport for this one call: a shallow copy whose ``app`` is wrapped (or itself)."""
        try:
            app = transport.app
            if already_guarded(app):
                return transport
            shadow = copy.copy(transport)
            shadow.app = wrap(app)
            return shadow
        except Exception as exc:
            self.internal_error(type(transport).__name__, exc)
            return transport

    def sync_method(self, original: Callable[..., Any], wrap: Callable[[Any], Any]) -> Callable[..., Any]:
        shadow = self._shadow

        @functools.wraps(original)
        def method(transport: Any, *args: Any, **kwargs: Any) -> Any:
            return original(shadow(transport, wrap), *args, **kwargs)

        return method

    def _async_method(self, original: Callable[..., Any], wrap: Callable[[Any], Any]) -> Callable[..., Any]:
        shadow = self._shadow

        @functools.wraps(original)
        async def method(transport: Any, *args: Any, **kwargs: Any) -> Any:
            return await original(shadow(transport, wrap), *args, **kwargs)

        return method

    # -- the patches --------------------------------------------------------------------------------
    def _patch_reporter(self) -> None:
        original = Reporter.report
        own, record = self._own_reporters, self.recorder.on_violation

        @functools.wraps(original)
        def report(
            reporter: Reporter, violation: Violation, context: ViolationContext, secrets: Iterable[str] = ()
        ) -> None:
            secrets = list(secrets)
            original(reporter, violation, context, secrets)
            if id(reporter) not in own:  # an app's own statusguard middleware: record what it saw and did
                record(violation._replace(message=redact(violation.message, secrets)), context)

        self.replace(Reporter, "report", report)

    def _patch_httpx(self, module: ModuleType) -> None:
        for class_name, method_name, wrap, is_async in (
            ("ASGITransport", "handle_async_request", self.wrap_asgi, True),
            ("WSGITransport", "handle_request", self.wrap_wsgi, False),
        ):
            cls = getattr(module, class_name, None)
            original = getattr(cls, method_name, None) if isinstance(cls, type) else None
            if original is None or getattr(original, _MARK, False):
                continue
            new = self._async_method(original, wrap) if is_async else self.sync_method(original, wrap)
            self.replace(cls, method_name, new)
            self.patched.append(f"httpx.{class_name}")

    def _patch_framework(self, integration: _integration.Integration, module: ModuleType) -> None:
        """Let the framework's integration patch its test client (``patch_test_client``)."""
        label = integration.load().patch_test_client(module, self)
        if label is not None:
            self.patched.append(label)

    # -- what a framework's test-client hook may use (contrib._integration.PluginGuard) -------------
    def already_guarded(self, app: object) -> bool:
        return already_guarded(app)

    def is_ours(self, function: object) -> bool:
        return bool(getattr(function, _MARK, False))

    def exchange(self, method: str, path: str, status: int, headers: Iterable[tuple[str, str]]) -> None:
        self.recorder.exchange(method, path, status, headers)
