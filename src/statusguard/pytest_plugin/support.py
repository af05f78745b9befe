"""The working part of the pytest plugin: imported only once ``--statusguard`` (or the ini option) switches
it on, and by the ``statusguard`` fixture. ``pytest_plugin`` itself imports nothing of statusguard's.

Theory of operation:
- ``Guard`` patches, for the session only, the places where the common test clients call the app:
  ``httpx.ASGITransport.handle_async_request``, ``httpx.WSGITransport.handle_request``,
  ``starlette.testclient._TestClientTransport.handle_request``, ``werkzeug.test.run_wsgi_app`` (Flask's
  test client), and ``django.test.client.conditional_content_removal`` (the Django test client's
  imitation of a server, so the check sees the response before HEAD/204/304 bodies are stripped).
  A module already imported is patched at session start; one imported later is patched as it is
  imported (a post-import hook on ``sys.meta_path``), so the plugin imports no framework itself.
  Everything is undone at the end of the session.
- The app is wrapped in an ``ASGIMiddleware``/``WSGIMiddleware`` in ``log`` mode whose ``on_violation``
  records into the process-wide ``Recorder``: the app behaves as it would without the plugin, and the
  plugin decides afterwards, at teardown, whether the test fails. A wrapper is a shallow copy of one
  template middleware (the policy is built once) and wraps only the call in progress: the client's
  own objects are never changed (the transport is shallow-copied for the call).
- An app that already runs statusguard (a middleware of ours anywhere in its chain, Starlette's
  ``user_middleware``, or ``statusguard.*`` in Django's ``MIDDLEWARE``) is not wrapped again: what its
  middleware reports reaches the recorder through ``Reporter.report``, patched for the session.
- The recorder attributes a violation to the test that is running when the response is checked, in
  whatever thread (Starlette's TestClient runs the app in an anyio portal thread): one current test
  for the process, under a lock, set at setup and cleared at teardown.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
import functools
import importlib.abc
import json
import logging
import sys
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any, Final, Literal, overload

import pytest

from ..asgi import ASGIMiddleware
from ..core.model import Violation, escape
from ..core.phrases import reason_phrase
from ..core.policy import Action, Policy
from ..core.rules import RULES
from ..runtime.report import SENSITIVE_FIELDS, Reporter, ViolationContext, redact
from ..runtime.session import Inspection
from ..wsgi import WSGIMiddleware

__all__ = ["Guard", "Record", "Recorder", "SessionPlugin", "StatusGuardFixture", "TestState", "marker_options"]

MODES: Final = ("strict", "log", "off")
PLUGIN_NAME: Final = "statusguard-session"
_MARK: Final = "_statusguard_pytest"  # set on every function and class this module puts in place
_MAX_RECORDS = 1000  # per test: a loop of a million bad requests must not eat the memory
_MAX_EXCHANGES = 500
_MAX_HEADERS_SHOWN = 16
_SETTLED = ("fixed", "quiet", "raised")  # what an app's own statusguard middleware already dealt with

_log = logging.getLogger("statusguard")


# -- what is recorded -------------------------------------------------------------------------------


@dataclass(eq=False)
class Record:
    """One violation seen during a test, with the request and response it belongs to."""

    violation: Violation
    nodeid: str | None
    method: str
    path: str
    action: str  # from ViolationContext: "logged" for the plugin's own checks
    headers: tuple[tuple[str, str], ...] | None  # the response's, when the plugin saw them
    expected: bool = False
    outcome: str = "reported"  # "failed", "expected", "reported", or an action in _SETTLED

    @property
    def rule(self) -> str:
        return self.violation.rule

    @property
    def level(self) -> str:
        return self.violation.level

    @property
    def status(self) -> int:
        return self.violation.status

    @property
    def message(self) -> str:
        return self.violation.message

    @property
    def reference(self) -> str:
        return self.violation.reference

    @property
    def hint(self) -> str:
        return self.violation.hint

    def to_json(self) -> dict[str, object]:
        return {
            "nodeid": self.nodeid,
            "rule": self.rule,
            "level": self.level,
            "status": self.status,
            "method": self.method,
            "path": self.path,
            "message": self.message,
            "reference": self.reference,
            "action": self.action,
            "outcome": self.outcome,
        }

    def __repr__(self) -> str:
        return f"<statusguard {self.rule} {self.method} {escape(self.path, 60)} -> {self.status}>"


@dataclass(eq=False)
class TestState:
    """What the recorder knows about the test that is running."""

    __test__ = False  # not a test class, whatever its name says

    nodeid: str
    mode: str  # the test's effective mode: strict, log or off
    ignore: tuple[str, ...] = ()
    records: list[Record] = field(default_factory=list)
    exchanges: list[tuple[str, str, int, tuple[tuple[str, str], ...]]] = field(default_factory=list)
    dropped: int = 0  # records beyond _MAX_RECORDS

    def ignores(self, rule: str) -> bool:
        return any(fnmatch.fnmatchcase(rule, pattern) for pattern in self.ignore)


class Recorder:
    """Process-wide and thread-safe: the app may run in another thread than the test."""

    def __init__(self, ignore: Sequence[str] = ()) -> None:
        self.lock = threading.Lock()
        self.ignore = tuple(ignore)
        self.current: TestState | None = None
        self.finished: list[TestState] = []  # the tests that recorded something
        self.outside: list[Record] = []  # responses checked while no test was running
        self.responses = 0

    def start(self, state: TestState) -> None:
        with self.lock:
            self.current = state

    def finish(self) -> TestState | None:
        with self.lock:
            state, self.current = self.current, None
            if state is not None and state.records:
                self.finished.append(state)
        return state

    def exchange(self, method: str, path: str, status: int, headers: Iterable[tuple[str, str]]) -> None:
        """A response the plugin checks: counted, and its headers kept for the failure report."""
        shown = tuple(
            (name, "[redacted]" if name.lower() in SENSITIVE_FIELDS else escape(value, 100))
            for name, value in headers
        )
        with self.lock:
            self.responses += 1
            state = self.current
            if state is not None and len(state.exchanges) < _MAX_EXCHANGES:
                state.exchanges.append((method, path, status, shown))

    def on_violation(self, violation: Violation, context: ViolationContext) -> None:
        """The ``on_violation`` hook of the plugin's middlewares (and of the patched Reporter)."""
        if any(fnmatch.fnmatchcase(violation.rule, pattern) for pattern in self.ignore):
            return
        rule = RULES.get(violation.rule)
        if rule is not None and rule.quiet:
            return  # what every stack does and every server repairs (a HEAD body): not the app's bug
        with self.lock:
            state = self.current
            headers = None
            if state is not None:
                if state.mode == "off" or state.ignores(violation.rule):
                    return
                # The response's headers, for the report: the latest exchange of this request (by method,
                # path and status; by method and status alone if the adapter spells the path otherwise).
                key = (context.method, context.path, violation.status)
                for method, path, status, shown in reversed(state.exchanges):
                    if (method, path, status) == key:
                        headers = shown
                        break
                    if headers is None and (method, status) == (key[0], key[2]):
                        headers = shown
            record = Record(
                violation, state.nodeid if state is not None else None, context.method, context.path,
                context.action, headers,
            )
            target = state.records if state is not None else self.outside
            if len(target) < _MAX_RECORDS:
                target.append(record)
            elif state is not None:
                state.dropped += 1

    def all_records(self) -> list[Record]:
        with self.lock:
            return [r for state in self.finished for r in state.records] + list(self.outside)


# -- the wrappers -----------------------------------------------------------------------------------


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


# The loader's exec_module runs the module's own code, so its frame sits between the module and whoever
# imported it. A warning the module issues at import with stacklevel=2 (Starlette's TestClient does)
# must still be attributed to the importing line, as without the plugin: the warnings machinery skips
# frames whose file name contains "importlib" and "_bootstrap", so the function is compiled under one.
_EXEC_MODULE_SOURCE = """
def exec_module(self, module):
    loader = self._loader
    spec = getattr(module, "__spec__", None)
    if spec is not None:
        spec.loader = loader
    module.__loader__ = loader
    loader.exec_module(module)
    self._patch(module)
"""


def _compile_exec_module() -> Callable[..., Any]:
    namespace: dict[str, Any] = {}
    exec(compile(_EXEC_MODULE_SOURCE, "<statusguard: importlib _bootstrap post-import hook>", "exec"), namespace)
    function: Callable[..., Any] = namespace["exec_module"]
    return function


class _HookedLoader(importlib.abc.Loader):
    """Runs the original loader, then patches the fresh module, then gets out of the way."""

    def __init__(self, loader: Any, hook: Callable[[ModuleType], None]) -> None:
        self._loader = loader
        self._hook = hook

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    exec_module: Callable[..., Any] = _compile_exec_module()

    def _patch(self, module: ModuleType) -> None:
        try:
            self._hook(module)
        except Exception:
            _log.exception("statusguard: could not patch %s for the pytest plugin", module.__name__)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _PostImportHook(importlib.abc.MetaPathFinder):
    """Patches a test client's module when the test suite imports it (the plugin imports none itself)."""

    def __init__(self, hooks: dict[str, Callable[[ModuleType], None]]) -> None:
        self.hooks = hooks
        self._local = threading.local()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        hook = self.hooks.get(fullname)
        if hook is None or getattr(self._local, "busy", False):
            return None
        self._local.busy = True
        try:
            for finder in sys.meta_path:
                if finder is self:
                    continue
                find_spec = getattr(finder, "find_spec", None)
                if find_spec is None:
                    continue
                spec: ModuleSpec | None = find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            self._local.busy = False
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        del self.hooks[fullname]
        spec.loader = _HookedLoader(spec.loader, hook)
        return spec


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
        self._policy = Policy("log")
        self._reporter = Reporter(log=quiet, on_violation=recorder.on_violation)
        self._own_reporters = {id(self._asgi.reporter), id(self._wsgi.reporter), id(self._reporter)}
        self._undo: list[Callable[[], None]] = []
        self._hook: _PostImportHook | None = None
        self._failed: set[str] = set()
        self.patched: list[str] = []
        self.installed = False

    # -- install / uninstall ----------------------------------------------------------------------
    def install(self) -> None:
        if self.installed:
            return
        self.installed = True
        self._patch_reporter()
        pending: dict[str, Callable[[ModuleType], None]] = {}
        for name, patcher in (
            ("httpx", self._patch_httpx),
            ("starlette.testclient", self._patch_starlette),
            ("werkzeug.test", self._patch_werkzeug),
            ("django.test.client", self._patch_django),
        ):
            module = sys.modules.get(name)
            if module is not None:
                patcher(module)
            else:
                pending[name] = patcher
        if pending:
            self._hook = _PostImportHook(pending)
            sys.meta_path.insert(0, self._hook)

    def uninstall(self) -> None:
        if self._hook is not None:
            with suppress(ValueError):
                sys.meta_path.remove(self._hook)
            self._hook = None
        while self._undo:
            self._undo.pop()()
        self.installed = False

    def _replace(self, owner: Any, name: str, new: Any) -> None:
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

    def _sync_method(self, original: Callable[..., Any], wrap: Callable[[Any], Any]) -> Callable[..., Any]:
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

        self._replace(Reporter, "report", report)

    def _patch_httpx(self, module: ModuleType) -> None:
        for class_name, method_name, wrap, is_async in (
            ("ASGITransport", "handle_async_request", self.wrap_asgi, True),
            ("WSGITransport", "handle_request", self.wrap_wsgi, False),
        ):
            cls = getattr(module, class_name, None)
            original = getattr(cls, method_name, None) if isinstance(cls, type) else None
            if original is None or getattr(original, _MARK, False):
                continue
            new = self._async_method(original, wrap) if is_async else self._sync_method(original, wrap)
            self._replace(cls, method_name, new)
            self.patched.append(f"httpx.{class_name}")

    def _patch_starlette(self, module: ModuleType) -> None:
        cls = getattr(module, "_TestClientTransport", None)
        original = getattr(cls, "handle_request", None) if isinstance(cls, type) else None
        if original is None or getattr(original, _MARK, False):
            return
        self._replace(cls, "handle_request", self._sync_method(original, self.wrap_asgi))
        self.patched.append("starlette TestClient")

    def _patch_werkzeug(self, module: ModuleType) -> None:
        original = getattr(module, "run_wsgi_app", None)
        if original is None or getattr(original, _MARK, False):
            return
        guard = self

        @functools.wraps(original)
        def run_wsgi_app(app: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                checked = app if already_guarded(app) else guard.wrap_wsgi(app)
            except Exception as exc:
                guard.internal_error("werkzeug.test.run_wsgi_app", exc)
                checked = app
            return original(checked, *args, **kwargs)

        self._replace(module, "run_wsgi_app", run_wsgi_app)
        self.patched.append("werkzeug/Flask test client")

    def _patch_django(self, module: ModuleType) -> None:
        original = getattr(module, "conditional_content_removal", None)
        if original is None or getattr(original, _MARK, False):
            return
        guard = self

        @functools.wraps(original)
        def conditional_content_removal(request: Any, response: Any) -> Any:
            # The test client's stand-in for a server (it strips HEAD/1xx/204/304 bodies): check first.
            try:
                guard.check_django(request, response)
            except Exception as exc:
                guard.internal_error("django.test.client", exc)
            return original(request, response)

        self._replace(module, "conditional_content_removal", conditional_content_removal)
        self.patched.append("Django test client")

    def check_django(self, request: Any, response: Any) -> None:
        """Check a Django response as Django's WSGI/ASGI handler would send it."""
        conf = sys.modules.get("django.conf")
        settings = getattr(conf, "settings", None)
        try:
            middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
        except Exception:  # settings not configured: no request could have got here, but do not fail it
            middleware = []
        if any(isinstance(entry, str) and entry.startswith("statusguard.") for entry in middleware):
            return  # the app's own statusguard middleware checks it (and the patched Reporter records it)
        status = int(response.status_code)
        headers = [(str(name), str(value)) for name, value in response.items()]
        cookies = getattr(response, "cookies", None)
        if cookies:
            headers += [("Set-Cookie", cookie.output(header="").strip()) for cookie in cookies.values()]
        gateway: Literal["wsgi", "asgi"] = "asgi" if hasattr(request, "scope") else "wsgi"
        method = str(request.method or "GET").upper()
        path = str(request.path)
        meta = getattr(request, "META", {})
        http_version = str(meta.get("SERVER_PROTOCOL", "HTTP/1.1")).removeprefix("HTTP/")
        self.recorder.exchange(method, path, status, headers)
        inspection = Inspection(
            self._policy, self._reporter, method=method, path=path,
            request_headers=[(str(name).lower(), str(value)) for name, value in request.headers.items()],
            http_version=http_version, gateway=gateway,
        )
        inspection.begin(f"{status} {response.reason_phrase}" if gateway == "wsgi" else status, headers)
        if getattr(response, "streaming", False):
            inspection.decide(None, None)  # not consumed here: the rules that need the content stay silent
        else:
            inspection.decide(bytes(response.content), None, complete=True)


# -- the pytest side --------------------------------------------------------------------------------


def validate_rules(patterns: Iterable[object], where: str) -> tuple[str, ...]:
    """Rule ids and globs over them; anything else is a ValueError naming the closest ids."""
    valid: list[str] = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise ValueError(f"{where}: {pattern!r} is not a rule id (a str such as '405-allow')")
        if pattern in RULES or (
            any(char in pattern for char in "*?[") and any(fnmatch.fnmatchcase(rule, pattern) for rule in RULES)
        ):
            valid.append(pattern)
            continue
        close = difflib.get_close_matches(pattern, list(RULES), n=3)
        suggestion = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"{where}: {pattern!r} is not a statusguard rule id nor a glob matching one{suggestion} "
            "(`statusguard rules` lists them)"
        )
    return tuple(valid)


def marker_options(*, ignore: str | Iterable[str] = (), mode: str | None = None) -> tuple[tuple[str, ...], str | None]:
    """The keyword-only signature of ``@pytest.mark.statusguard(ignore=[...], mode="log")``."""
    if isinstance(ignore, str):
        ignore = (ignore,)
    rules = validate_rules(ignore, "ignore")
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode={mode!r} is not a statusguard mode; valid modes: {', '.join(MODES)}")
    return rules, mode


def _item_options(item: pytest.Item, default_mode: str) -> tuple[str, tuple[str, ...]]:
    mode: str | None = None
    ignore: list[str] = []
    for mark in item.iter_markers("statusguard"):  # the closest first
        rules, marked_mode = marker_options(*mark.args, **mark.kwargs)
        ignore.extend(rules)
        if mode is None:
            mode = marked_mode
    return mode or default_mode, tuple(ignore)


_CALL_PASSED = pytest.StashKey[bool]()


class SessionPlugin:
    """Registered by ``pytest_plugin`` only when statusguard is on: every runtime hook lives here."""

    def __init__(
        self, config: pytest.Config, mode: str, source: str, report: str | None, ignore: Sequence[str]
    ) -> None:
        self.config = config
        self.mode = mode
        self.source = source
        self.report_path = Path(config.invocation_params.dir, report) if report else None
        worker = getattr(config, "workerinput", None)  # pytest-xdist: one file per worker, not one clobbered
        if self.report_path is not None and isinstance(worker, dict) and "workerid" in worker:
            path = self.report_path
            self.report_path = path.with_name(f"{path.stem}.{worker['workerid']}{path.suffix}")
        self.ignore = validate_rules(ignore, "statusguard_ignore")
        self.recorder = Recorder(self.ignore)
        self.guard = Guard(self.recorder)
        self._strict = Policy("strict")

    # -- session ----------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.guard.install()

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return [
            f"statusguard: {self.mode} mode (from {self.source}); checking responses of the httpx ASGI/WSGI "
            "transports, Starlette's TestClient, the werkzeug/Flask and Django test clients"
        ]

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        for item in items:
            for mark in item.iter_markers("statusguard"):
                try:
                    marker_options(*mark.args, **mark.kwargs)
                except (TypeError, ValueError) as exc:
                    raise pytest.UsageError(
                        f"{item.nodeid}: @pytest.mark.statusguard: {exc} "
                        "(valid: @pytest.mark.statusguard(ignore=['RULE-ID', ...], mode='strict'|'log'|'off'))"
                    ) from None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.guard.uninstall()
        if self.report_path is not None:
            self.report_path.parent.mkdir(parents=True, exist_ok=True)
            self.report_path.write_text(json.dumps(self.json_report(), indent=2) + "\n", encoding="utf-8")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.guard.uninstall()

    # -- tests ------------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        mode, ignore = _item_options(item, self.mode)
        self.recorder.start(TestState(item.nodeid, mode, ignore))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call" or (report.when == "setup" and not report.passed):
            item.stash[_CALL_PASSED] = report.passed and not hasattr(report, "wasxfail")
            state = self.recorder.current
            if report.failed and state is not None and state.records:
                self._settle(state)
                report.sections.append(("statusguard", self.format(state, state.records, failing=False)))
        return report

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        try:
            yield
        finally:
            state = self.recorder.finish()
            if state is not None:
                self._settle(state)
        if state is not None and item.stash.get(_CALL_PASSED, False):
            failing = [record for record in state.records if record.outcome == "failed"]
            if failing:
                pytest.fail(self.format(state, failing, failing=True), pytrace=False)

    def _settle(self, state: TestState) -> None:
        with self.recorder.lock:
            for record in state.records:
                record.outcome = self._outcome(state, record)

    def _outcome(self, state: TestState, record: Record) -> str:
        if record.expected:
            return "expected"
        if record.action in _SETTLED:
            return record.action
        rule = RULES.get(record.rule)
        if state.mode == "strict" and rule is not None and self._strict.action(rule, record.status) is Action.RAISE:
            return "failed"
        return "reported"

    # -- reporting --------------------------------------------------------------------------------
    def format(self, state: TestState, records: Sequence[Record], *, failing: bool) -> str:
        count = len(records)
        plural = "s" if count != 1 else ""
        if failing:
            lines = [
                f"statusguard: {count} status-code violation{plural} in the responses of this test ({state.mode} mode):"
            ]
        else:
            lines = [f"statusguard saw {count} status-code violation{plural} in the responses of this test:"]
        groups: dict[tuple[str, str, int, tuple[tuple[str, str], ...] | None], list[Record]] = {}
        for record in records:
            groups.setdefault((record.method, record.path, record.status, record.headers), []).append(record)
        for (method, path, status, headers), group in groups.items():
            lines.append("")
            lines.append(f"  {escape(method, 16)} {escape(path, 200)} -> {status} {reason_phrase(status)}")
            if headers is not None:
                shown = "; ".join(f"{name}: {value}" for name, value in headers[:_MAX_HEADERS_SHOWN]) or "(none)"
                more = f" (and {len(headers) - _MAX_HEADERS_SHOWN} more)" if len(headers) > _MAX_HEADERS_SHOWN else ""
                lines.append(f"    response headers: {shown}{more}")
            for record in group:
                note = "" if record.outcome in ("failed", "reported") else f" [{record.outcome}]"
                message = escape(record.message, 300)
                lines.append(f"    [{record.rule}] {record.level} ({record.reference}): {message}{note}")
                lines.append(f"        fix: {record.hint}")
        if state.dropped:
            lines.append(f"  ... and {state.dropped} more violations not kept")
        if failing:
            rules = sorted({record.rule for record in records})
            example = ", ".join(repr(rule) for rule in rules)
            lines += [
                "",
                "If the test means it, say so (statusguard fails MUST and SHOULD violations in strict mode):",
                f"  - around the request: `with statusguard.expect({example}):` (the `statusguard` fixture);",
                f"  - on the test: `@pytest.mark.statusguard(ignore=[{example}])`, "
                "or mode=\"log\" to report without failing;",
                "  - for the whole run: `statusguard = log` in the ini file or `--statusguard=log` "
                f"(`statusguard_ignore = {' '.join(rules)}` ignores the rules everywhere).",
                f"`statusguard explain {rules[0]}` says why the rule exists.",
            ]
        return "\n".join(lines)

    def counts(self) -> Counter[str]:
        return Counter(record.rule for record in self.recorder.all_records())

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
    ) -> None:
        records = self.recorder.all_records()
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "statusguard")
        tests = len(self.recorder.finished)
        outcomes = Counter(record.outcome for record in records)
        detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        write(
            f"{self.mode} mode: {self.recorder.responses} response{'s' if self.recorder.responses != 1 else ''} "
            f"checked, {len(records)} violation{'s' if len(records) != 1 else ''}"
            + (f" in {tests} test{'s' if tests != 1 else ''} ({detail})" if records else "")
        )
        if records:
            levels = {record.rule: record.level for record in records}
            width = max(len(rule) for rule in levels)
            for rule, count in self.counts().most_common():
                write(f"  {rule:<{width}}  {levels[rule]:<10}  {count}")
        if self.report_path is not None:
            write(f"JSON report: {self.report_path}")

    def json_report(self) -> dict[str, object]:
        records = self.recorder.all_records()
        tests: dict[str | None, list[dict[str, object]]] = {}
        for record in records:
            tests.setdefault(record.nodeid, []).append(record.to_json())
        return {
            "version": 1,
            "mode": self.mode,
            "responses_checked": self.recorder.responses,
            "total": len(records),
            "counts": dict(self.counts().most_common()),
            "tests": [{"nodeid": nodeid, "violations": found} for nodeid, found in tests.items()],
        }


class StatusGuardFixture(Sequence[Record]):
    """The ``statusguard`` fixture: the violations recorded in this test so far, and ``expect()``."""

    def __init__(self, plugin: SessionPlugin | None, nodeid: str) -> None:
        self._plugin = plugin
        state = plugin.recorder.current if plugin is not None else None
        self._state = state if state is not None and state.nodeid == nodeid else None

    @property
    def enabled(self) -> bool:
        """Is statusguard checking this test's responses (``--statusguard`` on, the test not marked off)?"""
        return self._state is not None and self._state.mode != "off"

    @property
    def mode(self) -> str:
        """This test's effective mode: ``strict``, ``log`` or ``off``."""
        return self._state.mode if self._state is not None else "off"

    def _records(self) -> list[Record]:
        if self._plugin is None or self._state is None:
            return []
        with self._plugin.recorder.lock:
            return list(self._state.records)

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        return self._records()[index]

    def __len__(self) -> int:
        return len(self._records())

    def __iter__(self) -> Iterator[Record]:
        return iter(self._records())

    def __repr__(self) -> str:
        return f"<statusguard fixture ({self.mode}): {self._records()!r}>"

    @property
    def rules(self) -> list[str]:
        """The rule ids of the violations so far, in order (with repeats)."""
        return [record.rule for record in self._records()]

    @property
    def violations(self) -> list[Violation]:
        return [record.violation for record in self._records()]

    @contextmanager
    def expect(self, *rules: str) -> Iterator[list[Record]]:
        """Assert that the block causes a violation of each rule (ids or globs); they then do not fail the test.

        Yields a list that holds the matching records once the block is over. A no-op when statusguard
        is not checking this test (``--statusguard`` not given, or ``mode="off"``).
        """
        if not rules:
            raise TypeError("expect() needs at least one rule id, e.g. statusguard.expect('405-allow')")
        patterns = validate_rules(rules, "expect()")
        matched: list[Record] = []
        if not self.enabled or self._plugin is None or self._state is None:
            yield matched
            return
        state, lock = self._state, self._plugin.recorder.lock
        with lock:
            start = len(state.records)
        yield matched
        missing = []
        with lock:
            new = state.records[start:]
            for pattern in patterns:
                found = [record for record in new if fnmatch.fnmatchcase(record.rule, pattern)]
                if not found:
                    missing.append(pattern)
                for record in found:
                    record.expected = True
                    if record not in matched:
                        matched.append(record)
        if missing:
            seen = ", ".join(sorted({record.rule for record in new})) or "none"
            pytest.fail(
                f"statusguard.expect(): no violation of {', '.join(missing)} in the block "
                f"(violations seen in the block: {seen})",
                pytrace=False,
            )
