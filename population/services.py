"""Writes on the residents' registry: villages, households, residents, file import and export,
and the access log. Every write runs in a transaction and validates before it saves."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from population import spreadsheet, validators
from population.ethnicities import NAMES as ETHNICITY_NAMES
from population.ethnicities import code_for_name
from population.models import AccessLog, Household, Relation, Resident, Village
from population.selectors import residents_for_export
from population.spreadsheet import HEADERS, RowError
from core.phones import mask_phone
from core.text import clean_text, fold


# --- access log -------------------------------------------------------------------------------

def log_access(user, *, action: str, channel: str, object_type: str, object_id="", description: str = "") -> AccessLog:
    return AccessLog.objects.create(
        user=user if getattr(user, "pk", None) else None,
        username=getattr(user, "username", "") or "",
        action=action, channel=channel, object_type=object_type,
        object_id=str(object_id or ""), description=description[:2000],
    )


# --- villages ---------------------------------------------------------------------------------

@transaction.atomic
def save_village(village: Village) -> Village:
    village.name = clean_text(village.name)
    village.full_clean()
    village.save()
    return village


@transaction.atomic
def delete_village(village: Village) -> None:
    if village.households.exists():
        raise ValidationError(_("This village still has households: move or remove them first."))
    village.delete()


# --- households -------------------------------------------------------------------------------

def _normalize_household_phone(household: Household) -> None:
    normalized = validators.normalize_phone(household.phone)
    if normalized is not None:
        household.phone = normalized


@transaction.atomic
def save_household(household: Household) -> Household:
    _normalize_household_phone(household)
    household.full_clean()
    try:
        with transaction.atomic():
            household.save()
    except IntegrityError:
        raise ValidationError({"code": _("Another household already has this code or address code.")})
    return household


@transaction.atomic
def delete_household(household: Household) -> None:
    if household.members.exists():
        raise ValidationError(_("This household still has residents: move or remove them first."))
    household.delete()


# --- residents --------------------------------------------------------------------------------

@transaction.atomic
def save_resident(resident: Resident) -> Resident:
    """Create or update a resident; keeps the household's head in step with the relation."""
    normalized = validators.normalize_phone(resident.phone)
    if normalized is not None:
        resident.phone = normalized
    resident.full_clean()
    household = Household.objects.select_for_update().get(pk=resident.household_id)
    previous = Resident.objects.filter(pk=resident.pk).values("household_id", "relation").first() if resident.pk else None
    if resident.relation == Relation.HEAD and household.head_id not in (None, resident.pk):
        raise ValidationError({"relation": _("This household already has a head.")})
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError:
        raise ValidationError({"personal_id": _("Another resident already has this ID number.")})
    if previous and previous["relation"] == Relation.HEAD and (
        previous["household_id"] != resident.household_id or resident.relation != Relation.HEAD
    ):
        Household.objects.filter(pk=previous["household_id"], head_id=resident.pk).update(head=None)
    if resident.relation == Relation.HEAD and household.head_id != resident.pk:
        household.head = resident
        household.save(update_fields=["head"])
    return resident


@transaction.atomic
def delete_resident(resident: Resident) -> None:
    Household.objects.filter(head_id=resident.pk).update(head=None)
    resident.delete()


# --- export -----------------------------------------------------------------------------------

def export_rows(queryset, *, full_ids: dict[int, str] | None, mask_phones: bool = False):
    """The export's rows; ``full_ids`` ({pk: number}, from ``population.reveal.reveal_ids``) for
    the officials who get full numbers, None for masked ones."""
    phone = mask_phone if mask_phones else (lambda value: value)
    for r in residents_for_export(queryset).iterator(chunk_size=2000):
        h = r.household
        yield {
            "household_code": h.code, "village": h.village.name, "address": h.address,
            "household_phone": phone(h.phone), "full_name": r.full_name, "birth_date": r.birth_date,
            "sex": spreadsheet.SEX_VALUES.get(r.sex, ""), "ethnicity": ETHNICITY_NAMES.get(r.ethnicity, ""),
            "personal_id": r.masked_id if full_ids is None else full_ids.get(r.pk, ""),
            "relation": spreadsheet.RELATION_VALUES.get(r.relation, ""), "phone": phone(r.phone),
        }


def export_residents(queryset, *, user, channel: str, mask_ids: bool, mask_phones: bool = False,
                     parameters: str = "") -> bytes:
    """The residents of ``queryset`` as an .xlsx file; the export is logged with its row count.

    Full ID numbers go only to the officials who keep the registry (see
    ``permissions.sees_full_id_in_export``): they need them to correct and re-import the file;
    they are read through ``population.reveal``, which logs them. Supervising units get phone
    numbers masked as well (``mask_phones``).
    """
    from population.reveal import reveal_ids

    count = queryset.count()
    full_ids = None if mask_ids else reveal_ids(
        queryset, user, purpose=_("export to Excel"), channel="api" if channel == "api" else "page")
    data = spreadsheet.write_xlsx(export_rows(queryset, full_ids=full_ids, mask_phones=mask_phones))
    log_access(
        user, action=AccessLog.Action.EXPORT, channel=channel, object_type="resident",
        description=_("%(count)d rows; ID numbers %(ids)s; filters: %(params)s") % {
            "count": count, "ids": _("masked") if mask_ids else _("in full"), "params": parameters or "-"},
    )
    return data


# --- import -----------------------------------------------------------------------------------

@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    households_created: int = 0
    residents_created: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _validate_rows(table: spreadsheet.Table, report: ImportReport):
    villages = {fold(v.name): v for v in Village.objects.all()}
    known_villages = ", ".join(sorted(v.name for v in villages.values())) or _("(none)")
    existing = {h.code: h for h in Household.objects.all()}
    planned_households: dict[str, dict] = {}
    planned_residents: list[tuple[int, str, Resident]] = []
    ids_in_file: dict[str, int] = {}

    def err(row, key, message):
        report.errors.append(RowError(row, HEADERS.get(key, ""), message))

    for number, values in table.rows:
        text = {k: spreadsheet.cell_text(values.get(k), digits=12 if k == "personal_id" else None) for k in HEADERS}
        code = text["household_code"]
        if not code:
            err(number, "household_code", _("The household code is required."))
        elif len(code) > Household._meta.get_field("code").max_length:
            err(number, "household_code", _("The household code is too long."))
        village = villages.get(fold(text["village"]))
        if village is None:
            err(number, "village", _("Unknown village “%(name)s”. The villages of the commune are: %(known)s.") % {
                "name": text["village"], "known": known_villages})
        household_phone, phone_errors = validators.check_phone("household_phone", text["household_phone"])
        for key, message in phone_errors:
            err(number, key, message)
        if code and village is not None:
            plan = planned_households.setdefault(code, {
                "village": village, "address": text["address"], "phone": household_phone, "first_row": number, "head_row": None,
            })
            if code in existing and existing[code].village_id != village.pk:
                err(number, "village", _("Household %(code)s belongs to village %(village)s.") % {
                    "code": code, "village": existing[code].village.name})
            elif plan["village"] != village:
                err(number, "village", _("Another row of household %(code)s names another village.") % {"code": code})
            elif text["address"] and plan["address"] and text["address"] != plan["address"]:
                err(number, "address", _("Another row of household %(code)s has another address.") % {"code": code})
            plan["address"] = plan["address"] or text["address"]
            plan["phone"] = plan["phone"] or household_phone

        try:
            birth_date = spreadsheet.parse_date(values.get("birth_date"))
        except ValueError:
            birth_date = None
            err(number, "birth_date", _("Enter the birth date as dd/mm/yyyy, e.g. 03/04/2026."))
        else:
            if birth_date is None:
                err(number, "birth_date", _("The birth date is required."))
        sex = spreadsheet.sex_from_text(text["sex"])
        if sex is None:
            err(number, "sex", _("Write Nam or Nữ."))
        ethnicity = code_for_name(text["ethnicity"])
        if ethnicity is None:
            err(number, "ethnicity", _("Unknown ethnic group “%(name)s”.") % {"name": text["ethnicity"]})
        relation = spreadsheet.relation_from_text(text["relation"])
        if relation is None:
            err(number, "relation", _("Unknown relation “%(value)s”. Write one of: %(values)s.") % {
                "value": text["relation"], "values": ", ".join(spreadsheet.RELATION_VALUES.values())})
        phone, phone_errors = validators.check_phone("phone", text["phone"])
        for key, message in phone_errors:
            err(number, key, message)
        personal_id = text["personal_id"] or None
        for key, message in validators.check_resident(personal_id=personal_id, birth_date=birth_date, sex=sex):
            err(number, key, message)
        if personal_id:
            if personal_id in ids_in_file:
                err(number, "personal_id", _("The same ID number is on row %(row)d.") % {"row": ids_in_file[personal_id]})
            else:
                ids_in_file[personal_id] = number
        if relation == Relation.HEAD and code in planned_households:
            plan = planned_households[code]
            if plan["head_row"] is not None:
                err(number, "relation", _("Household %(code)s already has a head on row %(row)d.") % {"code": code, "row": plan["head_row"]})
            elif code in existing and existing[code].head_id:
                err(number, "relation", _("Household %(code)s already has a head.") % {"code": code})
            plan["head_row"] = number
        resident = Resident(
            full_name=text["full_name"], birth_date=birth_date, sex=sex or "", ethnicity=ethnicity or "",
            personal_id=personal_id, relation=relation or "", phone=phone if not phone_errors else "",
        )
        resident.normalize()
        if not resident.full_name:
            err(number, "full_name", _("The full name is required."))
        elif len(resident.full_name) > Resident._meta.get_field("full_name").max_length:
            err(number, "full_name", _("The full name is too long."))
        planned_residents.append((number, code, resident))

    taken = set(Resident.objects.filter(personal_id__in=list(ids_in_file)).values_list("personal_id", flat=True))
    for personal_id in sorted(taken, key=ids_in_file.get):
        err(ids_in_file[personal_id], "personal_id", _("A resident of the commune already has this ID number."))
    for code, plan in planned_households.items():
        if code not in existing and len(plan["address"]) > Household._meta.get_field("address").max_length:
            err(plan["first_row"], "address", _("The address is too long."))
    report.errors.sort(key=lambda e: (e.row, list(HEADERS.values()).index(e.column) if e.column in HEADERS.values() else -1))
    return existing, planned_households, planned_residents


def import_residents(upload) -> ImportReport:
    """Import a residents' file: either every row is saved, or nothing is and the report lists
    every problem with its row and column."""
    report = ImportReport()
    try:
        table = spreadsheet.read_table(upload)
    except spreadsheet.FileRejected as exc:
        report.errors.append(RowError(0, "", exc.message))
        return report
    report.errors.extend(table.errors)
    if report.errors:
        return report
    report.rows = len(table.rows)
    existing, planned_households, planned_residents = _validate_rows(table, report)
    if report.errors:
        return report
    try:
        with transaction.atomic():
            new = [
                Household(code=code, village=plan["village"], address=plan["address"], phone=plan["phone"])
                for code, plan in planned_households.items() if code not in existing
            ]
            created = {h.code: h for h in bulk_create_with_history(new, Household, batch_size=1000)}
            if len(created) != len(new) or any(h.pk is None for h in created.values()):
                created = {h.code: h for h in Household.objects.filter(code__in=[h.code for h in new])}
            by_code = {**existing, **created}
            residents = []
            for _number, code, resident in planned_residents:
                resident.household = by_code[code]
                residents.append(resident)
            saved = bulk_create_with_history(residents, Resident, batch_size=1000)
            heads = {r.household_id: r for r in saved if r.relation == Relation.HEAD}
            if any(r.pk is None for r in heads.values()):
                heads = {r.household_id: r for r in Resident.objects.filter(
                    household__in=by_code.values(), relation=Relation.HEAD)}
            changed = []
            for household in by_code.values():
                if household.pk in heads and household.head_id is None:
                    household.head = heads[household.pk]
                    changed.append(household)
            bulk_update_with_history(changed, Household, ["head"], batch_size=1000)
    except IntegrityError:
        report.errors.append(RowError(0, "", _("Another user changed the registry during the import; nothing was saved. Try again.")))
        return report
    report.households_created = len(new)
    report.residents_created = len(planned_residents)
    return report
