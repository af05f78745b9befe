"""Patching a test client's module as it is imported, so that the plugin imports no framework itself."""

from __future__ import annotations

import importlib.abc
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

__all__ = ["PostImportHook"]

_log = logging.getLogger("statusguard")


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


class PostImportHook(importlib.abc.MetaPathFinder):
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
