"""The services never import Textual (DESIGN.md "Layers"): import-linter's contracts, an AST scan
that names the offending file and line, and a fresh interpreter that imports every service module."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "idconsole"
SERVICES = ("api", "changes", "config", "identity", "sandbox")
FORBIDDEN = ("textual", "idconsole.tui")


def _service_files() -> list[Path]:
    # untrusted.py (visible()) is shared by both faces and sits in no layer: it must stay Textual-free too
    files = [PACKAGE / "workspace.py", PACKAGE / "untrusted.py", PACKAGE / "errors.py"]
    for name in SERVICES:
        files += sorted((PACKAGE / name).rglob("*.py"))
    return files


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def _imports(path: Path) -> list[tuple[int, str]]:
    package = _module_of(path) if path.name == "__init__.py" else _module_of(path).rpartition(".")[0]
    return _imports_in(path.read_text(encoding="utf-8"), package, str(path))


def _imports_in(source: str, package: str, filename: str = "<probe>") -> list[tuple[int, str]]:
    """Every module a file imports, anywhere in it (functions, TYPE_CHECKING blocks, import_module)."""
    tree = ast.parse(source, filename=filename)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                if isinstance(node.args[0].value, str):
                    found.append((node.lineno, node.args[0].value))
    return found


def test_the_scan_sees_every_service_package():
    files = _service_files()
    for name in SERVICES:
        assert any(f.parent.name == name or name in f.relative_to(PACKAGE).parts for f in files), name
    assert any(f.name == "workspace.py" for f in files)


def test_services_never_import_textual_ast_scan():
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _service_files()
        for line, module in _imports(path)
        if _forbidden(module)
    ]
    assert not offences, "Services must not import Textual or the TUI:\n" + "\n".join(offences)


def test_the_ast_scan_catches_hidden_imports():
    code = (
        "import importlib\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from textual.app import App\n"
        "def f():\n    import textual.widgets\n"
        "    from ..tui import app\n"
        "    importlib.import_module('textual.content')\n"
    )
    found = {m for _, m in _imports_in(code, "idconsole.config")}
    assert {"textual.app", "textual.widgets", "idconsole.tui", "textual.content"} <= found
    assert all(_forbidden(m) for m in ("textual.app", "textual.widgets", "idconsole.tui.app", "textual.content"))
    assert not _forbidden("textualize") and not _forbidden("idconsole.tuition")


def test_import_linter_contracts_are_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    command = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        pytest.fail("lint-imports (import-linter) is not installed: pip install -e '.[dev]'")
    output = result.stdout + result.stderr
    if "include_external_packages" in output:
        pytest.fail("pyproject's [tool.importlinter] must set include_external_packages = true "
                    "(the Textual contract names an external package):\n" + output[-2000:])
    assert result.returncode == 0, output[-4000:]
    assert "Services never import Textual KEPT" in output
    assert "Layers point down KEPT" in output


def test_importing_every_service_module_loads_no_textual():
    modules = ["idconsole.workspace"]
    for path in _service_files():
        module = _module_of(path)
        if module not in modules:
            modules.append(module)
    script = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'idconsole.tui')))\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"importing the services loaded: {result.stdout}{result.stderr[-3000:]}"


def test_only_the_cli_and_the_workspace_import_the_sandbox():
    """The emulator is reached through workspace.py (demo, reset, serve): no screen, command or service
    imports it, not even inside a function."""
    allowed = {PACKAGE / "cli.py", PACKAGE / "workspace.py"}
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in allowed and (PACKAGE / "sandbox") not in path.parents
        for line, module in _imports(path)
        if module == "idconsole.sandbox" or module.startswith("idconsole.sandbox.")
    ]
    assert offences == []


def test_one_engine_module_does_not_load_the_whole_engine():
    """A screen needs `changes.shared_devices` before the first frame; the package's names load on first
    use, so that does not pull in the plan, the apply and with them httpx (start-up)."""
    code = ("import sys, idconsole.changes.shared_devices\n"
            "assert 'httpx' not in sys.modules and 'idconsole.changes.plan' not in sys.modules, 'eager'\n"
            "import idconsole.changes as c\n"
            "assert sorted(c.__all__) == sorted(c._WHERE)\n"
            "assert all(getattr(c, name) is not None for name in c.__all__)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
