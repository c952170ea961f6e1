"""The shared layers know no tenant app: the project's own shared apps (``settings.SHARED_APPS``
that are folders of this repository: communes, core, jobs, workcalendar, truststore, published)
import none of the tenant apps (``settings.TENANT_APPS``: the outbox, population, notifications,
signatures, documents, onestop, broadcasting, ecommerce and every app added later), not even
inside a function. The apps plug in through ``communes.modules`` and ``published.topics``."""
from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = tuple(app for app in settings.SHARED_APPS if "." not in app and (ROOT / app / "__init__.py").exists())
TENANT_APPS = {app.split(".")[0] for app in settings.TENANT_APPS
               if app not in settings.SHARED_APPS and not app.startswith("tests.")}


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


def test_the_layers_come_from_the_settings():
    assert {"communes", "core", "jobs", "workcalendar", "truststore", "published"} <= set(SHARED)
    assert {"outbox", "population", "documents", "onestop", "broadcasting"} <= TENANT_APPS
    assert not set(SHARED) & TENANT_APPS


def test_the_scan_finds_an_import_hidden_in_a_function(tmp_path):
    (tmp_path / "communes").mkdir()
    (tmp_path / "communes" / "views.py").write_text(
        "def home(request):\n    from onestop.public_views import public_home\n    return public_home(request)\n")
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "x.py").write_text("import importlib\nimportlib.import_module('documents.models')\n")
    for package in SHARED:
        (tmp_path / package).mkdir(exist_ok=True)
    assert boundary_breaches(tmp_path) == [
        "communes/views.py:2 imports onestop.public_views", "core/x.py:2 imports documents.models"]
