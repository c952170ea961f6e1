"""The station's monthly report (báo cáo tháng của trạm y tế xã): aggregate figures only, never a
name nor an ID number.

Layout. Circular 37/2019/TT-BYT (chế độ báo cáo thống kê ngành y tế) sets the commune-level
statistical forms in its Annex II. The exact rows and numbers of those forms could not be
confirmed here, so the layout below is the project's own, grouped after the themes those forms
report: visits, immunisation, chronic diseases, births, deaths, maternal care and child
nutrition. ``FORMS_NOTE`` says so on the page, the PDF and the workbook.

Every section is a handful of aggregate queries over the whole commune (never a query per
person), so that a commune of 8,000 residents and a year of visits is reported in well under a
second. Ages are counted in whole years on the day of the event (the visit, the death, the
measurement), in Vietnam time.

* Visits: by age group (under 5, 5–14, 15–59, 60 and over), by sex, by payment (insurance, paid,
  free) and referrals upward.
* Immunisation: doses given per vaccine and dose number; children fully immunised in the period
  (the day the last dose due before 12 months was given falls in the period, before the first
  birthday) over the children of the registry turning 1 in the period, and over those turning 1
  in the period's year (year to date).
* New chronic cases: conditions diagnosed in the period, by programme and ICD-10 chapter letter.
* Births: pregnancies ended with a live birth (and the children born alive), and residents of
  the registry born in the period.
* Deaths (``Death``): by age group and sex.
* Pregnant women under care on the last day; antenatal visits in the period.
* Children under 5 weighed in the period, and how many of them were underweight, stunted or
  wasted at one measurement of the period at least.
"""
from __future__ import annotations

import calendar
import datetime
import re

from django.core.exceptions import ValidationError
from django.db.models import Count, DateField, F, Func, IntegerField, Max, Q, Sum
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from health.models import (
    AntenatalVisit, ChronicCondition, Death, GrowthMeasurement, Payment, Pregnancy, Vaccination, Visit,
)

FORMS_NOTE = gettext_lazy(
    "Layout of the project, grouped after the themes of the commune health station's statistical forms "
    "(Circular 37/2019/TT-BYT, Annex II); the forms' own row numbers were not confirmed.")

AGE_GROUPS = (
    ("under_5", gettext_lazy("Under 5"), 0, 5),
    ("5_14", gettext_lazy("5 to 14"), 5, 15),
    ("15_59", gettext_lazy("15 to 59"), 15, 60),
    ("60_plus", gettext_lazy("60 and over"), 60, None),
)
SEXES = (("male", gettext_lazy("Male")), ("female", gettext_lazy("Female")))
PROGRAMMES = (
    ("hypertension", gettext_lazy("Hypertension")),
    ("diabetes", gettext_lazy("Diabetes")),
    ("none", gettext_lazy("No programme")),
)

_MONTH_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_MONTH_VN = re.compile(r"^\s*(\d{1,2})/(\d{4})\s*$")


class AgeYears(Func):
    """Whole years between a birth date and a day (PostgreSQL ``age``)."""

    output_field = IntegerField()
    template = "EXTRACT(YEAR FROM AGE(%(expressions)s))::integer"
    arg_joiner = ", "


class FirstBirthday(Func):
    output_field = DateField()
    template = "(%(expressions)s + INTERVAL '1 year')::date"


def parse_month(value) -> datetime.date:
    """The first day of the month written ``2026-11`` or ``11/2026``; this month when empty."""
    if value in (None, ""):
        return timezone.localdate().replace(day=1)
    text = value if isinstance(value, str) else ""
    year = number = None
    match = _MONTH_ISO.match(text)
    if match:
        year, number = int(match.group(1)), int(match.group(2))
    else:
        match = _MONTH_VN.match(text)
        if match:
            number, year = int(match.group(1)), int(match.group(2))
    if year is None or not 1 <= number <= 12 or not 2000 <= year <= 2200:
        raise ValidationError({"month": [ValidationError(
            _("Enter a month as yyyy-mm (e.g. 2026-11) or mm/yyyy."), code="invalid_month")]})
    return datetime.date(year, number, 1)


def last_day(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _bounds(date_from: datetime.date, date_to: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.datetime.combine(date_from, datetime.time()), tz)
    end = timezone.make_aware(datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time()), tz)
    return start, end


def _age_filters(field: str = "age") -> dict[str, Q]:
    filters = {}
    for key, _label, low, high in AGE_GROUPS:
        condition = Q(**{f"{field}__gte": low})
        if high is not None:
            condition &= Q(**{f"{field}__lt": high})
        filters[key] = condition
    return filters


def full_immunisation_doses() -> frozenset[tuple[str, int]]:
    """The (vaccine, dose) pairs a child must have to be fully immunised: every dose of the
    Expanded Programme's schedule (``health.schedule``, kept as data) whose recommended age is
    under 12 months (in Vietnam: BCG and hepatitis B at birth, the 5-in-1 and polio at 2, 3 and 4
    months, IPV, measles at 9 months)."""
    from health.schedule import Span, get_schedule

    year = Span(12, "m").approx_days
    return frozenset((vaccine.code, dose.number) for vaccine in get_schedule().vaccines for dose in vaccine.doses
                     if dose.age.approx_days < year)


def _share(part: int, whole: int):
    return round(part / whole, 4) if whole else None


def visits_section(date_from, date_to) -> dict:
    start, end = _bounds(date_from, date_to)
    ages = _age_filters()
    aggregates = {"total": Count("pk"), "referred": Count("pk", filter=Q(referred=True))}
    aggregates.update({f"age_{key}": Count("pk", filter=condition) for key, condition in ages.items()})
    aggregates.update({f"sex_{key}": Count("pk", filter=Q(record__resident__sex=key)) for key, _l in SEXES})
    aggregates.update({f"pay_{value}": Count("pk", filter=Q(payment=value)) for value in Payment.values})
    row = (Visit.objects.filter(visited_at__gte=start, visited_at__lt=end)
           .annotate(age=AgeYears(TruncDate("visited_at"), F("record__resident__birth_date")))
           .aggregate(**aggregates))
    return {
        "total": row["total"], "referred": row["referred"],
        "by_age": {key: row[f"age_{key}"] for key, *_rest in AGE_GROUPS},
        "by_sex": {key: row[f"sex_{key}"] for key, _l in SEXES},
        "by_payment": {value: row[f"pay_{value}"] for value in Payment.values},
    }


def vaccination_section(date_from, date_to) -> dict:
    from population.models import Resident

    doses = list(Vaccination.objects.filter(given_on__gte=date_from, given_on__lte=date_to)
                 .values("vaccine", "dose").annotate(count=Count("pk")).order_by("vaccine", "dose"))
    required = full_immunisation_doses()
    pairs = Q()
    for vaccine, dose in required:
        pairs |= Q(vaccine=vaccine, dose=dose)
    year_start = date_from.replace(month=1, day=1)
    completed = (Vaccination.objects.filter(pairs if required else Q(pk__in=[]))
                 .values("record").annotate(n=Count("pk"), last=Max("given_on"),
                                            first_birthday=FirstBirthday(F("record__resident__birth_date")))
                 .filter(n=len(required), last__lt=F("first_birthday"), last__gte=year_start, last__lte=date_to)
                 .aggregate(period=Count("record", filter=Q(last__gte=date_from)), year=Count("record")))
    # Children turning 1 in the period: born one year before it (29 February counts on 28 February).
    born_from = _year_before(date_from)
    born_to = _year_before(date_to)
    year_end = date_from.replace(month=12, day=31)
    cohorts = Resident.objects.aggregate(
        period=Count("pk", filter=Q(birth_date__gte=born_from, birth_date__lte=born_to)),
        year=Count("pk", filter=Q(birth_date__gte=_year_before(year_start), birth_date__lte=_year_before(year_end))),
    )
    return {
        "doses": [{"vaccine": row["vaccine"], "dose": row["dose"], "count": row["count"]} for row in doses],
        "doses_total": sum(row["count"] for row in doses),
        "fully_immunised": completed["period"], "turning_one": cohorts["period"],
        "coverage": _share(completed["period"], cohorts["period"]),
        "fully_immunised_year": completed["year"], "turning_one_year": cohorts["year"],
        "coverage_year": _share(completed["year"], cohorts["year"]),
        "required_doses": len(required),
    }


def _year_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def chronic_section(date_from, date_to) -> dict:
    rows = ChronicCondition.objects.filter(diagnosed_on__gte=date_from, diagnosed_on__lte=date_to)
    by_programme = rows.aggregate(
        total=Count("pk"), hypertension=Count("pk", filter=Q(programme="hypertension")),
        diabetes=Count("pk", filter=Q(programme="diabetes")), none=Count("pk", filter=Q(programme="")))
    chapters = list(rows.annotate(letter=Substr("icd10", 1, 1)).values("letter").annotate(count=Count("pk"))
                    .order_by("letter"))
    return {
        "total": by_programme["total"],
        "by_programme": {key: by_programme[key] for key, _l in PROGRAMMES},
        "by_letter": {row["letter"]: row["count"] for row in chapters},
    }


def births_section(date_from, date_to) -> dict:
    from population.models import Resident

    ended = Pregnancy.objects.filter(outcome=Pregnancy.Outcome.LIVE_BIRTH, ended_on__gte=date_from,
                                     ended_on__lte=date_to).aggregate(deliveries=Count("pk"), children=Sum("children"))
    born = Resident.objects.filter(birth_date__gte=date_from, birth_date__lte=date_to).aggregate(
        total=Count("pk"), male=Count("pk", filter=Q(sex="male")), female=Count("pk", filter=Q(sex="female")))
    return {"deliveries": ended["deliveries"], "born_alive": int(ended["children"] or 0),
            "residents_born": born["total"], "residents_born_male": born["male"],
            "residents_born_female": born["female"]}


def deaths_section(date_from, date_to) -> dict:
    ages = _age_filters()
    aggregates = {"total": Count("pk")}
    aggregates.update({f"age_{key}": Count("pk", filter=condition) for key, condition in ages.items()})
    aggregates.update({f"sex_{key}": Count("pk", filter=Q(resident__sex=key)) for key, _l in SEXES})
    aggregates["under_1"] = Count("pk", filter=Q(age__lt=1))
    row = (Death.objects.filter(died_on__gte=date_from, died_on__lte=date_to)
           .annotate(age=AgeYears(F("died_on"), F("resident__birth_date"))).aggregate(**aggregates))
    return {"total": row["total"], "under_1": row["under_1"],
            "by_age": {key: row[f"age_{key}"] for key, *_rest in AGE_GROUPS},
            "by_sex": {key: row[f"sex_{key}"] for key, _l in SEXES}}


def maternal_section(date_from, date_to) -> dict:
    under_care = Pregnancy.objects.filter(registered_on__lte=date_to).filter(
        Q(outcome="") | Q(ended_on__gt=date_to)).count()
    visits = AntenatalVisit.objects.filter(visited_on__gte=date_from, visited_on__lte=date_to).aggregate(
        visits=Count("pk"), women=Count("pregnancy", distinct=True))
    return {"under_care": under_care, "antenatal_visits": visits["visits"], "women_seen": visits["women"]}


def growth_section(date_from, date_to) -> dict:
    row = (GrowthMeasurement.objects.filter(measured_on__gte=date_from, measured_on__lte=date_to)
           .annotate(age=AgeYears(F("measured_on"), F("record__resident__birth_date"))).filter(age__lt=5)
           .aggregate(weighed=Count("record", distinct=True),
                      underweight=Count("record", distinct=True, filter=Q(underweight=True)),
                      stunted=Count("record", distinct=True, filter=Q(stunted=True)),
                      wasted=Count("record", distinct=True, filter=Q(wasted=True))))
    row["underweight_share"] = _share(row["underweight"], row["weighed"])
    row["stunted_share"] = _share(row["stunted"], row["weighed"])
    return row


def period_report(date_from: datetime.date, date_to: datetime.date) -> dict:
    """Every figure of the report between two days (both included)."""
    return {
        "date_from": date_from, "date_to": date_to,
        "visits": visits_section(date_from, date_to),
        "vaccination": vaccination_section(date_from, date_to),
        "chronic": chronic_section(date_from, date_to),
        "births": births_section(date_from, date_to),
        "deaths": deaths_section(date_from, date_to),
        "maternal": maternal_section(date_from, date_to),
        "growth": growth_section(date_from, date_to),
    }


def monthly_report(month: datetime.date | str) -> dict:
    """The report of a month (any day of it, or ``2026-11`` / ``11/2026``)."""
    first = parse_month(month) if isinstance(month, str) else month.replace(day=1)
    return period_report(first, last_day(first))


def flat(report: dict) -> dict[str, int | float | None]:
    """The report as flat keys of plain numbers (the facts sent upward)."""
    visits, vaccination, chronic = report["visits"], report["vaccination"], report["chronic"]
    births, deaths, maternal, growth = report["births"], report["deaths"], report["maternal"], report["growth"]
    figures: dict = {"visits": visits["total"], "visits_referred": visits["referred"]}
    figures.update({f"visits_age_{key}": value for key, value in visits["by_age"].items()})
    figures.update({f"visits_{key}": value for key, value in visits["by_sex"].items()})
    figures.update({f"visits_{key}": value for key, value in visits["by_payment"].items()})
    figures["doses_given"] = vaccination["doses_total"]
    for row in vaccination["doses"]:
        figures[f"doses_{row['vaccine'].lower()}_{row['dose']}"] = row["count"]
    figures.update({
        "fully_immunised": vaccination["fully_immunised"], "turning_one": vaccination["turning_one"],
        "fully_immunised_year": vaccination["fully_immunised_year"],
        "turning_one_year": vaccination["turning_one_year"],
        "chronic_new": chronic["total"],
    })
    figures.update({f"chronic_new_{key}": value for key, value in chronic["by_programme"].items()})
    figures.update({f"chronic_new_chapter_{letter.lower()}": value for letter, value in chronic["by_letter"].items()})
    figures.update({
        "deliveries_live": births["deliveries"], "born_alive": births["born_alive"],
        "births_in_registry": births["residents_born"], "deaths": deaths["total"], "deaths_under_1": deaths["under_1"],
    })
    figures.update({f"deaths_age_{key}": value for key, value in deaths["by_age"].items()})
    figures.update({f"deaths_{key}": value for key, value in deaths["by_sex"].items()})
    figures.update({
        "pregnant_under_care": maternal["under_care"], "antenatal_visits": maternal["antenatal_visits"],
        "children_weighed": growth["weighed"], "children_underweight": growth["underweight"],
        "children_stunted": growth["stunted"], "children_wasted": growth["wasted"],
    })
    return figures
