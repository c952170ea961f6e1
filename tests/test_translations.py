"""The Vietnamese catalogue is complete: every msgid in the source has a translation."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"
IGNORE = {".venv", "node_modules", "staticfiles", "media", ".git", "locale", "locale_vendor", "tests", "bench"}


def parse_po(path: Path) -> dict[tuple[str, str], tuple[str, bool]]:
    """{(msgctxt, msgid): (msgstr, fuzzy)}; plural entries keyed by msgid with msgstr[0]."""
    entries: dict = {}
    text = path.read_text(encoding="utf-8")
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if "msgid" not in fields or fields["msgid"] == "":
            continue
        msgstr = fields.get("msgstr", fields.get("msgstr[0]", ""))
        entries[(fields.get("msgctxt", ""), fields["msgid"])] = (msgstr, fuzzy)
    return entries


def test_every_msgid_in_the_catalogue_is_translated():
    entries = parse_po(CATALOGUE)
    assert len(entries) > 100
    missing = [msgid for (ctx, msgid), (msgstr, fuzzy) in entries.items() if not msgstr or fuzzy]
    assert not missing, f"untranslated or fuzzy: {missing[:20]}"
    not_nfc = [s for s, _f in entries.values() if unicodedata.normalize("NFC", s) != s]
    assert not not_nfc


def test_catalogue_covers_every_string_of_the_source(tmp_path):
    """Extract the strings of the current source into a scratch copy and compare."""
    assert shutil.which("xgettext"), "gettext is missing: bin/test installs Debian's gettext package"
    copy = tmp_path / "src"

    def ignore(directory, names):
        return [n for n in names if n in IGNORE or n == "__pycache__"]

    shutil.copytree(ROOT, copy, ignore=ignore)
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "vi", "--no-obsolete", "-v", "0"],
        cwd=copy, check=True, capture_output=True,
    )
    extracted = parse_po(copy / "locale" / "vi" / "LC_MESSAGES" / "django.po")
    ours = parse_po(CATALOGUE)
    missing = sorted(msgid for key, (_s, _f) in extracted.items() for msgid in [key[1]] if key not in ours or not ours[key][0])
    assert len(extracted) > 100
    assert not missing, f"{len(missing)} strings of the source have no Vietnamese translation: {missing[:30]}"


def test_the_interface_speaks_vietnamese_by_default(db, client_for):
    response = client_for("localhost").get("/accounts/login/")
    assert response["Content-Language"] == "vi"
    assert "Đăng nhập" in response.content.decode()
    with translation.override("vi"):
        from communes.models import Role

        assert str(Role.CLERK.label) == "Văn thư"


def test_vietnamese_whatever_the_browser_asks_until_the_user_chooses(db, client_for):
    client = client_for("localhost")
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Đăng nhập" in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Log in" in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "vi", "next": "/accounts/login/"})
    assert "Đăng nhập" in client.get("/accounts/login/").content.decode()


# The names under which makemessages finds strings: xgettext's own keywords for Python plus the
# ones Django's makemessages adds. A string marked through another alias is never extracted.
EXTRACTED_NAMES = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext",
                   "pgettext_lazy", "npgettext", "npgettext_lazy"}


def test_translation_functions_are_imported_under_names_that_makemessages_extracts():
    import ast

    wrong = []
    for path in ROOT.rglob("*.py"):
        if any(part in IGNORE for part in path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                wrong += [f"{path.relative_to(ROOT)}: {alias.name} as {alias.asname}" for alias in node.names
                          if alias.name in EXTRACTED_NAMES and alias.asname and alias.asname not in EXTRACTED_NAMES]
    assert not wrong, f"strings marked through these names are never extracted: {wrong}"
