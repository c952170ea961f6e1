"""ICD-10 (Phân loại quốc tế bệnh tật, Vietnam uses the WHO ICD-10 with a Vietnamese translation):
the chapters and blocks, and the codes a commune station uses most, shipped as data under
``health/data/`` with their source; a full list may be imported (``XASO_ICD10_FILE``).

Rows keep the code only (``"I10"``, ``"J06.9"``); ``lookup`` says whether a code is known and
gives its titles. Read once per process.
"""
from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from core.text import fold

DATA = Path(__file__).resolve().parent / "data"
CODE_RE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,2})?$")


@dataclass(frozen=True)
class Code:
    code: str
    title_vi: str
    title_en: str
    common: bool = False

    @property
    def label(self) -> str:
        return f"{self.code} – {self.title_vi}"


def normalize(code: str) -> str:
    """``" i10 "`` → ``"I10"``; ``"j069"`` → ``"J06.9"`` (the dot after three characters)."""
    code = re.sub(r"\s+", "", str(code or "")).upper()
    if len(code) > 3 and "." not in code:
        code = f"{code[:3]}.{code[3:]}"
    return code


def _read(path: Path, common: bool) -> dict[str, Code]:
    found: dict[str, Code] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(line for line in handle if not line.startswith("#")):
            code = normalize(row["code"])
            if CODE_RE.match(code):
                found[code] = Code(code, row["title_vi"].strip(), row.get("title_en", "").strip(), common)
    return found


@functools.lru_cache(maxsize=1)
def codes() -> dict[str, Code]:
    """Every known code: the shipped common codes, and the imported full list if one is set."""
    found: dict[str, Code] = {}
    extra = getattr(settings, "XASO_ICD10_FILE", "")
    if extra and Path(extra).exists():
        found.update(_read(Path(extra), common=False))
    found.update(_read(DATA / "icd10_common.csv", common=True))
    return found


def lookup(code: str) -> Code | None:
    return codes().get(normalize(code))


def is_known(code: str) -> bool:
    return lookup(code) is not None


def search(text: str, limit: int = 20) -> list[Code]:
    """Codes whose code begins with ``text`` or whose title holds its words (accents ignored),
    the common ones first."""
    text = (text or "").strip()
    if not text:
        return []
    code = normalize(text)
    words = fold(text).split()
    hits = [c for c in codes().values()
            if c.code.startswith(code) or all(w in fold(f"{c.title_vi} {c.title_en}") for w in words)]
    hits.sort(key=lambda c: (not c.common, c.code))
    return hits[:limit]


# --- chapters and blocks ------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """A chapter (``key`` "IX") or a block (``key`` "I10-I15") of ICD-10: the three-character
    categories from ``first`` to ``last``."""

    key: str
    first: str
    last: str
    title_vi: str
    title_en: str
    chapter: str = ""

    def holds(self, code: str) -> bool:
        return self.first <= normalize(code)[:3] <= self.last

    @property
    def label(self) -> str:
        return f"{self.key} – {self.title_vi}"


def _rows(name: str):
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(line for line in handle if not line.startswith("#"))


@functools.lru_cache(maxsize=1)
def chapters() -> list[Group]:
    """The 22 chapters (``icd10_chapters.csv``), in the order of the classification."""
    return [Group(row["chapter"], row["first"], row["last"], row["title_vi"].strip(), row["title_en"].strip(),
                  chapter=row["chapter"]) for row in _rows("icd10_chapters.csv")]


@functools.lru_cache(maxsize=1)
def blocks() -> list[Group]:
    """The blocks (``icd10_blocks.csv``), each with its chapter."""
    return [Group(f"{row['first']}-{row['last']}", row["first"], row["last"], row["title_vi"].strip(),
                  row["title_en"].strip(), chapter=row["chapter"]) for row in _rows("icd10_blocks.csv")]


def chapter_of(code: str) -> Group | None:
    return next((c for c in chapters() if c.holds(code)), None)


def block_of(code: str) -> Group | None:
    return next((b for b in blocks() if b.holds(code)), None)
