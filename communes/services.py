"""Writes on communes: loading the official code list and creating communes."""
from __future__ import annotations

import csv
import re
import time
import unicodedata
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from communes.models import AdministrativeUnit, Commune, Domain, LegacyWard, SupervisingUnit

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value.strip())


def _read_csv(name: str) -> list[dict]:
    with open(FIXTURES / name, encoding="utf-8", newline="") as handle:
        return [{k: _nfc(v) for k, v in row.items()} for row in csv.DictReader(handle)]


@transaction.atomic
def load_administrative_units(with_legacy: bool = True) -> dict:
    """Load (or refresh) the official province and commune list and the province units."""
    provinces = _read_csv("provinces.csv")
    communes = _read_csv("communes.csv")
    for row in provinces:
        AdministrativeUnit.objects.update_or_create(
            code=row["province_code"],
            defaults={"name": row["province_name"], "kind": row["province_kind"], "level": "province", "province_code": row["province_code"]},
        )
        SupervisingUnit.objects.update_or_create(
            code=row["province_code"],
            defaults={"name": row["province_name"], "kind": SupervisingUnit.Kind.PROVINCE, "province_kind": row["province_kind"]},
        )
    existing = set(AdministrativeUnit.objects.filter(level="commune").values_list("code", flat=True))
    AdministrativeUnit.objects.bulk_create([
        AdministrativeUnit(code=r["commune_code"], name=r["commune_name"], kind=r["commune_kind"], level="commune", province_code=r["province_code"])
        for r in communes if r["commune_code"] not in existing
    ], batch_size=1000)
    legacy = 0
    if with_legacy and not LegacyWard.objects.exists():
        rows = _read_csv("legacy_wards.csv")
        LegacyWard.objects.bulk_create([LegacyWard(**r) for r in rows], batch_size=2000)
        legacy = len(rows)
    return {"provinces": len(provinces), "communes": len(communes), "legacy_wards": legacy}


HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def schema_name_for(code: str) -> str:
    return f"c_{code}"


def derived_agency_code(code: str) -> str:
    """The agency identifier of a commune whose province has not assigned one (QCVN 102:2016
    codes such as ``000.25.16.H38`` are assigned by the province, not computable): ``000.00.X``
    and the 5-digit official commune code, 13 characters as the exchange's OrganId, unique
    because the official code is, and never the shape of an assigned code (``X`` where an
    assigned code has digits)."""
    return f"000.00.X{code}"


def create_commune(*, code: str, name: str, domain: str, kind: str = Commune.Kind.COMMUNE,
                   province_code: str | None = None, unit: SupervisingUnit | None = None, **fields) -> tuple[Commune, float]:
    """Create a commune with its schema and its host. Returns the commune and the seconds taken."""
    if not (len(code) == 5 and code.isdigit()):
        raise ValidationError({"code": _("The commune code has exactly 5 digits.")})
    if Commune.objects.filter(code=code).exists():
        raise ValidationError({"code": _("A commune with this code already exists.")})
    domain = domain.strip().lower()
    if not HOST_RE.match(domain):
        raise ValidationError({"domain": _("Enter a host name such as tule.example.gov.vn.")})
    if Domain.objects.filter(domain=domain).exists():
        raise ValidationError({"domain": _("This host is already used by another commune.")})
    if unit is None and province_code:
        unit = SupervisingUnit.objects.filter(code=province_code).first()
        if unit is None:
            official = AdministrativeUnit.objects.filter(code=province_code, level="province").first()
            if official is None:
                raise ValidationError({"province": _("Unknown province code.")})
            unit = SupervisingUnit.objects.create(code=official.code, name=official.name, province_kind=official.kind)
    # Unique in the installation (constraint): it prefixes dossier codes, names the commune in
    # document exchange and is the VietQR purpose. An assigned code may be given instead.
    fields["agency_code"] = (fields.get("agency_code") or "").strip() or derived_agency_code(code)
    started = time.perf_counter()
    commune = Commune(code=code, name=_nfc(name), kind=kind, supervising_unit=unit, schema_name=schema_name_for(code), **fields)
    commune.full_clean(exclude=["schema_name"])
    commune.save()  # creates the schema (clone of the template, or migrations)
    try:
        with transaction.atomic():
            Domain.objects.create(domain=domain, tenant=commune, is_primary=True)
    except Exception:
        # No commune without its host: undo the row and the schema made a moment ago.
        from communes.provisioning import drop_schema

        Commune.objects.filter(pk=commune.pk).delete()
        drop_schema(commune.schema_name)
        raise
    return commune, time.perf_counter() - started
