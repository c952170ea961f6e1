"""The small drug list of a prescription line (danh mục thuốc của trạm y tế): the medicines a
commune station dispenses most, shipped as ``health/data/drugs.csv`` with its source in the
file's header and read once per process. A line names a drug of the list by its code or writes
the medicine out as free text."""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from core.text import fold

DATA = Path(__file__).resolve().parent / "data" / "drugs.csv"


@dataclass(frozen=True)
class Drug:
    code: str
    name: str
    strength: str
    form: str
    unit: str

    @property
    def label(self) -> str:
        """What a prescription line keeps as its text: 'Paracetamol 500 mg (viên nén)'."""
        return f"{self.name} {self.strength} ({self.form})"


@functools.lru_cache(maxsize=1)
def drugs() -> dict[str, Drug]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["code"].strip(): Drug(row["code"].strip(), row["name"].strip(), row["strength"].strip(),
                                          row["form"].strip(), row["unit"].strip()) for row in rows}


def lookup(code: str) -> Drug | None:
    return drugs().get(str(code or "").strip().upper())


def search(text: str, limit: int = 20) -> list[Drug]:
    words = fold(text).split()
    found = [d for d in drugs().values() if all(w in fold(f"{d.code} {d.name} {d.strength}") for w in words)]
    return sorted(found, key=lambda d: fold(d.name))[:limit]


def choices() -> list[tuple[str, str]]:
    return [(d.code, d.label) for d in sorted(drugs().values(), key=lambda d: fold(d.label))]
