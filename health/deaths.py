"""Deaths reported to the station (tử vong), for the monthly report: one per resident, on a day
neither before the birth nor in the future, with the cause coded in ICD-10 when it is known.

Recording a death is a write of personal health data: health staff only, in one transaction;
``record_death`` is the only writer.
"""
from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import clean_text, fold
from health import icd10, permissions
from health.models import Death

MAX_PLACE = 200
SEARCH_LIMIT = 20


def find_residents(text: str, limit: int = SEARCH_LIMIT):
    """Residents whose name holds the words typed (accents ignored), for choosing whose death
    to record; None when nothing was typed."""
    from population.models import Resident

    words = fold(text or "").split()[:6]
    if not words:
        return None
    query = Q()
    for word in words:
        query &= Q(search_name__contains=word)
    return list(Resident.objects.filter(query).select_related("household__village")
                .order_by("search_name", "pk")[:limit])


def check_death(resident, died_on, cause: str = "", place: str = "", *, today: datetime.date | None = None) -> dict:
    """The cleaned fields, or a ValidationError naming each bad one."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    cause = icd10.normalize(cause) if (cause or "").strip() else ""
    place = clean_text(place or "")
    if not isinstance(died_on, datetime.date):
        errors["died_on"] = _("Enter the date of death as dd/mm/yyyy.")
    elif died_on > today:
        errors["died_on"] = _("The date of death cannot be in the future.")
    elif died_on < resident.birth_date:
        errors["died_on"] = _("The date of death cannot be before the birth date (%(date)s).") % {
            "date": f"{resident.birth_date:%d/%m/%Y}"}
    if cause and not icd10.is_known(cause):
        errors["cause_icd10"] = _("Unknown ICD-10 code: %(code)s.") % {"code": cause}
    if len(place) > MAX_PLACE:
        errors["place"] = _("At most %(count)s characters.") % {"count": MAX_PLACE}
    if Death.objects.filter(resident=resident).exists():
        errors["__all__"] = _("The death of this resident is already recorded.")
    if errors:
        raise ValidationError(errors)
    return {"died_on": died_on, "cause_icd10": cause, "place": place}


def record_death(user, resident, died_on, cause: str = "", place: str = "") -> Death:
    permissions.require(user, "record.write")
    with transaction.atomic():
        fields = check_death(resident, died_on, cause, place)
        try:
            with transaction.atomic():
                return Death.objects.create(resident=resident, staff=user, **fields)
        except IntegrityError:  # recorded by someone else at the same moment
            raise ValidationError({"__all__": _("The death of this resident is already recorded.")})


def deaths_of_month(month: datetime.date):
    from health.reports import last_day

    return (Death.objects.filter(died_on__gte=month, died_on__lte=last_day(month))
            .select_related("resident__household__village").order_by("died_on", "pk"))
