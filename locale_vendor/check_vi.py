"""Check locale_vendor/vi/LC_MESSAGES/django.po.

Run:  python locale_vendor/check_vi.py   (from the project root, venv active)

* msgfmt --check must pass, no fuzzy entries, header must be right;
* every msgid of Django REST framework (its English catalogue
  rest_framework/locale/en/LC_MESSAGES/django.mo plus the gettext calls and
  {% trans %} tags of its source, which hold a few more) and of django-filter
  (its de catalogue's msgids plus its source; it ships no en catalogue)
  has a non-empty msgstr;
* placeholders ({...}, %(name)s, %s, %d) are the same in msgid and msgstr;
* every string is NFC.
Exits 1 on any problem.
"""

import ast
import gettext
import pathlib
import re
import subprocess
import sys
import tempfile
import unicodedata

import django_filters
import rest_framework

HERE = pathlib.Path(__file__).resolve().parent
PO = HERE / "vi" / "LC_MESSAGES" / "django.po"
DRF = pathlib.Path(rest_framework.__file__).parent
DFL = pathlib.Path(django_filters.__file__).parent

PLACEHOLDER = re.compile(
    r"\{[^{}]*\}"  # str.format: {format}, {code_point:X}, {}
    r"|%\([^)]+\)[#0 +-]*\d*(?:\.\d+)?[sdrifgxX]"  # %(name)s
    r"|%[#0 +-]*\d*(?:\.\d+)?[sdrifgxX]"  # %s, %d
)
GETTEXT_FUNCS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy",
                 "pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}
TRANS_TAG = re.compile(r"""\{%\s*trans(?:late)?\s+(["'])(.*?)\1""")


def placeholders(s):
    return sorted(set(PLACEHOLDER.findall(s)))


def parse_po(path):
    """Tiny .po reader: list of dicts with msgctxt/msgid/msgid_plural/msgstr*/flags."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        d, cur = {"flags": []}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                d["flags"] += [f.strip() for f in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif m := re.match(r'(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")\s*$', line):
                cur = m.group(1)
                d[cur] = ast.literal_eval(m.group(2))
            elif line.startswith('"'):
                d[cur] += ast.literal_eval(line)
        if "msgid" in d:
            entries.append(d)
    return entries


def source_msgids(pkg):
    """msgids of the gettext calls and {% trans %} tags in a package's source."""
    ids = set()
    for py in pkg.rglob("*.py"):
        if "migrations" in py.parts:
            continue
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
                if name in GETTEXT_FUNCS:
                    args = node.args[1:] if name.startswith(("p", "np")) else node.args
                    for a in args[:2]:
                        if isinstance(a, ast.Constant) and isinstance(a.value, str):
                            ids.add(a.value)
    for html in pkg.rglob("*.html"):
        ids.update(m.group(2) for m in TRANS_TAG.finditer(html.read_text(encoding="utf-8")))
    return ids


def drf_msgids():
    en = gettext.GNUTranslations(open(DRF / "locale/en/LC_MESSAGES/django.mo", "rb"))
    from_mo = {k for k in en._catalog if isinstance(k, str) and k}
    return from_mo | source_msgids(DRF), from_mo


def dfl_msgids():
    # django-filter ships no English catalogue: use the msgids of its German .po
    # (generated from the same source) plus the source itself.
    po = {d["msgid"] for d in parse_po(DFL / "locale/de/LC_MESSAGES/django.po") if d["msgid"]}
    return po | source_msgids(DFL), po


def main():
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        mo = pathlib.Path(tmp) / "django.mo"
        r = subprocess.run(["msgfmt", "--check", "--statistics", "-o", str(mo), str(PO)],
                           capture_output=True, text=True)
        print("msgfmt:", (r.stdout + r.stderr).strip())
        if r.returncode:
            problems.append("msgfmt --check failed")
        else:
            cat = gettext.GNUTranslations(open(mo, "rb"))
            print("header Plural-Forms:", cat.info().get("plural-forms"), "| Language:", cat.info().get("language"))
            if cat.info().get("plural-forms") != "nplurals=1; plural=0;" or cat.info().get("language") != "vi":
                problems.append("bad header")

    entries = parse_po(PO)
    header, entries = entries[0], entries[1:]
    if "charset=UTF-8" not in header.get("msgstr", ""):
        problems.append("header charset is not UTF-8")
    by_id = {}
    for d in entries:
        if "fuzzy" in d["flags"]:
            problems.append("fuzzy: %r" % d["msgid"])
        k = (d.get("msgctxt"), d["msgid"])
        if k in by_id:
            problems.append("duplicate msgid: %r" % d["msgid"])
        by_id[k] = d
        strs = [v for kk, v in d.items() if kk.startswith("msgstr")]
        if not strs or not all(strs):
            problems.append("empty msgstr: %r" % d["msgid"])
        source = d.get("msgid_plural", d["msgid"])
        for s in strs:
            if placeholders(s) != placeholders(source):
                problems.append("placeholders differ: %r %s != %s"
                                % (d["msgid"], placeholders(s), placeholders(source)))
        for s in [d["msgid"], *strs]:
            if unicodedata.normalize("NFC", s) != s:
                problems.append("not NFC: %r" % s)

    ours = {m for (_ctx, m) in by_id}
    drf, drf_mo = drf_msgids()
    dfl, dfl_po = dfl_msgids()
    for name, ids in (("DRF", drf), ("django-filter", dfl)):
        missing = sorted(ids - ours)
        for m in missing:
            problems.append("%s msgid missing: %r" % (name, m))
        print("%s msgids: %d, translated here: %d, missing: %d"
              % (name, len(ids), len(ids & ours), len(missing)))
    print("  (DRF en catalogue: %d msgids; source adds %d: %s)"
          % (len(drf_mo), len(drf - drf_mo), sorted(drf - drf_mo)))
    print("  (django-filter de catalogue: %d msgids; source adds %d: %s)"
          % (len(dfl_po), len(dfl - dfl_po), sorted(dfl - dfl_po)))
    print("entries in catalogue: %d (plural: %d, with msgctxt: %d)"
          % (len(entries), sum("msgid_plural" in d for d in entries),
             sum("msgctxt" in d for d in entries)))
    print("entries not from DRF / django-filter (Django core/auth/admin): %d"
          % len(ours - drf - dfl))
    for p in problems:
        print("PROBLEM:", p)
    print("OK" if not problems else "%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
