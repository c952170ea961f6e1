"""The shared layers know no tenant app: communes, core, jobs, workcalendar and truststore import
none of population, notifications, signatures, documents, onestop, broadcasting (not even inside
a function). The apps plug in through ``communes.modules``."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ("communes", "core", "jobs", "workcalendar", "truststore")
TENANT_APPS = {"population", "notifications", "signatures", "documents", "onestop", "broadcasting"}


def imported_modules(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            yield node.lineno, str(node.args[0].value)


def boundary_breaches(root: Path = ROOT) -> list[str]:
    breaches = []
    for package in SHARED:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, module in imported_modules(tree):
                if module.split(".")[0] in TENANT_APPS:
                    breaches.append(f"{path.relative_to(root)}:{line} imports {module}")
    return breaches


def test_shared_layers_import_no_tenant_app():
    assert boundary_breaches() == []


def test_the_scan_finds_an_import_hidden_in_a_function(tmp_path):
    (tmp_path / "communes").mkdir()
    (tmp_path / "communes" / "views.py").write_text(
        "def home(request):\n    from onestop.public_views import public_home\n    return public_home(request)\n")
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "x.py").write_text("import importlib\nimportlib.import_module('documents.models')\n")
    for package in SHARED[2:]:
        (tmp_path / package).mkdir()
    assert boundary_breaches(tmp_path) == [
        "communes/views.py:2 imports onestop.public_views", "core/x.py:2 imports documents.models"]
