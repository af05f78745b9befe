"""Import hygiene: what importing statusguard costs, and which framework each entry point pulls in.

A user with only Flask installed must never meet an ImportError for Django: the CLI and the pytest
plugin import a framework's integration (``statusguard.contrib.<framework>``) only once that
framework is in play. And no module imports one that imports it back, even under TYPE_CHECKING or
inside a function.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
FRAMEWORKS = ("flask", "werkzeug", "django", "rest_framework", "starlette", "fastapi", "httpx", "asgiref")
INTEGRATIONS = ("statusguard.contrib.flask", "statusguard.contrib.django", "statusguard.contrib.starlette")


def run_python(code: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120,
        cwd=cwd, env={"PYTHONPATH": str(SRC), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_package_and_the_cli_import_no_framework() -> None:
    out = run_python(
        f"""
        import sys
        import statusguard, statusguard.cli, statusguard.contrib, statusguard.contrib._integration
        loaded = sorted(name for name in {FRAMEWORKS + INTEGRATIONS!r} if name in sys.modules)
        print(loaded)
        """
    )
    assert out.strip() == "[]"


def test_auditing_a_flask_app_needs_no_other_framework(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    (tmp_path / "sg_flask_only.py").write_text(
        textwrap.dedent(
            """
            from flask import Flask

            app = Flask(__name__)

            @app.get("/items/<int:item_id>")
            def item(item_id):
                return "one"
            """
        ),
        encoding="utf-8",
    )
    out = run_python(
        f"""
        import json, sys
        for blocked in ("django", "rest_framework", "starlette", "fastapi"):
            sys.modules[blocked] = None  # as if not installed: importing it raises ImportError
        from statusguard.cli import main
        code = main(["audit", "sg_flask_only:app", "--format", "json", "-o", "report.json"])
        report = json.load(open("report.json"))
        print(code in (0, 1), report["framework"], [r["route"] for r in report["routes"]])
        print(sorted(name for name in {INTEGRATIONS!r} if name in sys.modules))
        """,
        cwd=tmp_path,
    )
    assert out.splitlines() == [
        "True flask ['/items/<int:item_id>']",
        "['statusguard.contrib.flask']",
    ]


def _imports(path: Path, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Every statusguard module ``path`` imports, wherever the import statement sits."""
    found: set[str] = set()
    base = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base[: len(base) - (node.level - 1)] + ([node.module] if node.module else [])
                prefix = ".".join(parts)
            else:
                prefix = node.module or ""
            for alias in node.names:
                name = f"{prefix}.{alias.name}"
                found.add(name if name in known else prefix)
    return {name for name in found if name in known and name != module}


def test_no_import_circle() -> None:
    modules: dict[str, tuple[Path, bool]] = {}
    for path in (SRC / "statusguard").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    graph = {name: _imports(path, name, is_package, set(modules)) for name, (path, is_package) in modules.items()}
    assert graph["statusguard.cli.audit"], "the import graph is empty: the test would prove nothing"

    circles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        for imported in sorted(graph[name]):
            if imported in trail:
                circles.append([*trail[trail.index(imported):], imported])
            elif imported not in done:
                visit(imported, [*trail, imported])
        done.add(name)

    done: set[str] = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    assert circles == []


def _graph() -> dict[str, set[str]]:
    modules: dict[str, tuple[Path, bool]] = {}
    for path in (SRC / "statusguard").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return {name: _imports(path, name, is_package, set(modules)) for name, (path, is_package) in modules.items()}


# The layers of docs/architecture.md, from the bottom up: a module may import its own layer and the
# ones below it, never one above.
_LAYERS = [
    ("core", ("statusguard.core",)),
    ("runtime", ("statusguard.runtime",)),
    ("adapters", ("statusguard.wsgi", "statusguard.asgi", "statusguard.errors")),
    ("integrations", ("statusguard.contrib",)),
    ("surfaces", ("statusguard.cli", "statusguard.pytest_plugin", "statusguard._docs", "statusguard.demo")),
]


def _layer(module: str) -> int | None:
    for rank, (_, prefixes) in enumerate(_LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return rank
    return None


def test_each_layer_imports_only_the_layers_below_it() -> None:
    upward = [
        f"{module} ({_LAYERS[rank][0]}) imports {imported} ({_LAYERS[theirs][0]})"
        for module, imports in sorted(_graph().items())
        if (rank := _layer(module)) is not None
        for imported in sorted(imports)
        if (theirs := _layer(imported)) is not None and theirs > rank
    ]
    assert upward == []


def test_the_core_imports_nothing_outside_the_standard_library() -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    foreign = []
    for path in (SRC / "statusguard" / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else []
            )
            foreign += [f"{path.name}: {name}" for name in names if name.split(".")[0] not in stdlib]
    assert foreign == []


def test_no_module_is_too_long_to_read_in_one_sitting() -> None:
    long = {
        str(path.relative_to(SRC)): lines
        for path in (SRC / "statusguard").rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert long == {}


def test_the_adapters_only_translate_their_protocol() -> None:
    """wsgi.py and asgi.py hold no state machine of their own (runtime/session.py does): each reads
    in one sitting, like Starlette's gzip middleware."""
    for name in ("wsgi.py", "asgi.py"):
        lines = len((SRC / "statusguard" / name).read_text(encoding="utf-8").splitlines())
        assert lines <= 300, f"{name} has {lines} lines"
        assert "Inspection" not in (SRC / "statusguard" / name).read_text(encoding="utf-8"), name
