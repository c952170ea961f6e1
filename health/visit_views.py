"""The station's pages for visits (``/health/visits/…``), for its health staff only.

* ``visits``: the visits of a day (``?day=dd/mm/yyyy``, today by default) or a month
  (``?month=2026-11``), or of a range (``?from=…&to=…``, what the inbox's referral line opens),
  filtered by payment, by diagnosis code and to the referred ones, with their counts.
* ``visit_new``: the desk's form. First the record (a search by name, accents ignored; the
  resident's age shown), then one form: date and time, reason, examination, vital signs,
  diagnoses by ICD-10 (the common codes offered as a datalist, refined by ``icd10_search``),
  prescription lines, treatment, referral and payment, written in one transaction
  (``health.visits.create_visit``). A refusal shows the form again with what was typed.
* ``visit``: one visit; ``visit_edit``: its correction on its own day, or the reason why not.
* ``icd10_search``: the ``<option>``s of the codes matching ``q`` (no personal data).

Every page that shows a resident's visit, name or age writes an access log line
(``health.access``): a read of the record for one record, a search for a list.
"""
from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communes.permissions import page_guard
from core import periods
from health import access, drugs, icd10, permissions, visits, vitals
from health.models import HealthRecord, Payment, Visit

page_requires = page_guard(permissions.require)
PAGE_SIZE = 50
DIAGNOSIS_ROWS = 4
PRESCRIPTION_ROWS = 5
DATE_HELP = gettext_lazy("Enter a date as dd/mm/yyyy, for example 07/12/2026.")


def _date_field(**kwargs) -> forms.DateField:
    return forms.DateField(
        input_formats=get_format("DATE_INPUT_FORMATS", lang="vi", use_l10n=True),
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric",
                                                        "autocomplete": "off"}),
        error_messages={"invalid": DATE_HELP, "required": gettext_lazy("Enter the date of the visit.")}, **kwargs)


def _number_widget(decimal: bool):
    return forms.TextInput(attrs={"inputmode": "decimal" if decimal else "numeric", "autocomplete": "off",
                                  "class": "width-5"})


class VisitForm(forms.Form):
    """The desk's form: the model's fields, and fixed rows for diagnoses and prescription lines
    (no script needed; empty rows are ignored)."""

    visit_date = _date_field(label=gettext_lazy("Date of the visit"))
    visit_time = forms.TimeField(
        label=gettext_lazy("Time"), input_formats=["%H:%M", "%H:%M:%S", "%Hh%M", "%H.%M"],
        widget=forms.TimeInput(format="%H:%M", attrs={"placeholder": "hh:mm", "inputmode": "numeric",
                                                      "class": "width-5"}),
        error_messages={"invalid": gettext_lazy("Enter a time as hh:mm, for example 08:30."),
                        "required": gettext_lazy("Enter the time of the visit.")})
    reason = forms.CharField(label=gettext_lazy("Reason for the visit"), max_length=300,
                             error_messages={"required": gettext_lazy("Give the reason for the visit.")})
    examination = forms.CharField(label=gettext_lazy("Examination notes"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    temperature_c = forms.CharField(label=gettext_lazy("Temperature (°C)"), required=False, max_length=8,
                                    widget=_number_widget(True))
    pulse = forms.CharField(label=gettext_lazy("Pulse (beats/min)"), required=False, max_length=8,
                            widget=_number_widget(False))
    systolic = forms.CharField(label=gettext_lazy("Blood pressure, systolic (mmHg)"), required=False, max_length=8,
                               widget=_number_widget(False))
    diastolic = forms.CharField(label=gettext_lazy("Blood pressure, diastolic (mmHg)"), required=False,
                                max_length=8, widget=_number_widget(False))
    respiratory_rate = forms.CharField(label=gettext_lazy("Breaths per minute"), required=False, max_length=8,
                                       widget=_number_widget(False))
    spo2 = forms.CharField(label=gettext_lazy("SpO2 (%)"), required=False, max_length=8, widget=_number_widget(False))
    weight_kg = forms.CharField(label=gettext_lazy("Weight (kg)"), required=False, max_length=8,
                                widget=_number_widget(True))
    height_cm = forms.CharField(label=gettext_lazy("Height (cm)"), required=False, max_length=8,
                                widget=_number_widget(True))
    dx_main = forms.TypedChoiceField(
        label=gettext_lazy("Main diagnosis"), coerce=int, initial=1, required=False,
        choices=[(n, n) for n in range(1, DIAGNOSIS_ROWS + 1)], widget=forms.RadioSelect)
    treatment = forms.CharField(label=gettext_lazy("Treatment"), required=False, max_length=5000,
                                widget=forms.Textarea(attrs={"rows": 2}))
    referred = forms.BooleanField(label=gettext_lazy("Referred to a higher level"), required=False)
    referred_to = forms.CharField(label=gettext_lazy("Referred to"), required=False, max_length=200,
                                  help_text=gettext_lazy("For example: Trung tâm Y tế huyện Văn Chấn."))
    referral_reason = forms.CharField(label=gettext_lazy("Reason for the referral"), required=False, max_length=300)
    payment = forms.ChoiceField(label=gettext_lazy("Paid by"), choices=Payment.choices, initial=Payment.INSURANCE,
                                widget=forms.RadioSelect,
                                error_messages={"required": gettext_lazy("Choose how the visit is paid.")})

    VITALS = vitals.FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        drug_choices = [("", gettext_lazy("— written out —")), *drugs.choices()]
        for n in range(1, DIAGNOSIS_ROWS + 1):
            self.fields[f"dx_{n}"] = forms.CharField(
                label=_("Diagnosis %(n)s (ICD-10)") % {"n": n}, required=False, max_length=12,
                widget=forms.TextInput(attrs={"list": "icd10-codes", "autocomplete": "off", "class": "width-10",
                                              "placeholder": "J06.9"}))
        for n in range(1, PRESCRIPTION_ROWS + 1):
            self.fields[f"rx_drug_{n}"] = forms.ChoiceField(label=_("Drug"), choices=drug_choices, required=False)
            self.fields[f"rx_text_{n}"] = forms.CharField(label=_("or medicine written out"), required=False,
                                                          max_length=200)
            self.fields[f"rx_dose_{n}"] = forms.CharField(label=_("Dose"), required=False, max_length=200)
            self.fields[f"rx_days_{n}"] = forms.IntegerField(
                label=_("Days"), required=False, min_value=1, max_value=365,
                widget=forms.NumberInput(attrs={"class": "width-5"}))
            self.fields[f"rx_qty_{n}"] = forms.IntegerField(
                label=_("Quantity"), required=False, min_value=1, max_value=10000,
                widget=forms.NumberInput(attrs={"class": "width-5"}))

    def diagnosis_rows(self):
        return [(n, self[f"dx_{n}"]) for n in range(1, DIAGNOSIS_ROWS + 1)]

    def prescription_rows(self):
        return [(n, [self[f"rx_{part}_{n}"] for part in ("drug", "text", "dose", "days", "qty")])
                for n in range(1, PRESCRIPTION_ROWS + 1)]

    def vital_fields(self):
        return [self[name] for name in self.VITALS]

    def clean(self):
        data = super().clean()
        for name in self.VITALS:
            raw = str(data.get(name) or "").strip().replace(" ", "")
            if not raw:
                data[name] = None
                continue
            try:
                number = Decimal(raw.replace(",", "."))
                if not number.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                self.add_error(name, _("Enter a number, for example 37,5."))
                continue
            if name not in vitals.DECIMALS and number != number.to_integral_value():
                self.add_error(name, _("Enter a whole number."))
                continue
            data[name] = number if name in vitals.DECIMALS else int(number)
        return data

    def visit_data(self, record) -> visits.VisitData:
        data = self.cleaned_data
        moment = None
        if data.get("visit_date") and data.get("visit_time"):
            moment = timezone.make_aware(datetime.datetime.combine(data["visit_date"], data["visit_time"]))
        main = data.get("dx_main") or 1
        diagnoses = [visits.DiagnosisLine(data.get(f"dx_{n}") or "", n == main)
                     for n in range(1, DIAGNOSIS_ROWS + 1) if (data.get(f"dx_{n}") or "").strip()]
        if diagnoses and not any(d.primary for d in diagnoses):
            # The main mark on an empty row: the first code typed is the main one.
            diagnoses[0].primary = True
        lines = [visits.PrescriptionLine(data.get(f"rx_drug_{n}") or "", data.get(f"rx_text_{n}") or "",
                                         data.get(f"rx_dose_{n}") or "", data.get(f"rx_days_{n}"),
                                         data.get(f"rx_qty_{n}")) for n in range(1, PRESCRIPTION_ROWS + 1)]
        return visits.VisitData(
            record=record, visited_at=moment, reason=data.get("reason") or "",
            examination=data.get("examination") or "", vitals={k: data.get(k) for k in self.VITALS},
            diagnoses=diagnoses, prescriptions=lines, treatment=data.get("treatment") or "",
            referred=bool(data.get("referred")), referred_to=data.get("referred_to") or "",
            referral_reason=data.get("referral_reason") or "", payment=data.get("payment") or "")

    def show_refusal(self, exc: ValidationError) -> None:
        """The service's messages beside the fields they concern."""
        where = {"visited_at": "visit_date", "diagnoses": "dx_1", "prescriptions": "rx_drug_1"}
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, errors in exc.message_dict.items():
            name = where.get(key, key)
            self.add_error(name if name in self.fields and name not in self.errors else None, errors)


def initial_for(visit: Visit) -> dict:
    local = timezone.localtime(visit.visited_at)
    initial = {"visit_date": local.date(), "visit_time": local.time().replace(second=0, microsecond=0),
               "reason": visit.reason, "examination": visit.examination, "treatment": visit.treatment,
               "referred": visit.referred, "referred_to": visit.referred_to,
               "referral_reason": visit.referral_reason, "payment": visit.payment}
    for name in vitals.FIELDS:
        value = getattr(visit, name)
        initial[name] = "" if value is None else str(value).replace(".", ",")
    for n, diagnosis in enumerate(visit.diagnoses.all()[:DIAGNOSIS_ROWS], start=1):
        initial[f"dx_{n}"] = diagnosis.icd10
        if diagnosis.primary:
            initial["dx_main"] = n
    for n, line in enumerate(visit.prescriptions.all()[:PRESCRIPTION_ROWS], start=1):
        initial.update({f"rx_drug_{n}": line.drug_code, f"rx_text_{n}": "" if line.drug_code else line.text,
                        f"rx_dose_{n}": line.dose, f"rx_days_{n}": line.days, f"rx_qty_{n}": line.quantity})
    return initial


def _record_or_none(value):
    try:
        pk = int(str(value or ""))
    except ValueError:
        return None
    if not 0 < pk < 2**63:
        return None
    return HealthRecord.objects.select_related("resident", "resident__household__village").filter(pk=pk).first()


def _record_context(record, today) -> dict:
    resident = record.resident
    return {"record": record, "resident": resident, "age": visits.age_text(resident.birth_date, today),
            "insurance_ok": visits.insurance_valid(record, today)}


def _form_context(form) -> dict:
    return {"form": form, "common_codes": sorted(icd10.codes().values(), key=lambda c: (not c.common, c.code))[:400]}


@page_requires("record.write")
def visit_new(request):
    today = timezone.localdate()
    record = _record_or_none(request.POST.get("record") if request.method == "POST" else request.GET.get("record"))
    if record is None:
        query = str(request.GET.get("q") or "").strip()[:100]
        found = list(visits.find_records(query)) if query else []
        if query:
            access.log_search(request.user, query=f"visit entry: {query}")
        rows = [(r, visits.age_text(r.resident.birth_date, today)) for r in found]
        return render(request, "health/visits/choose_record.html", {"query": query, "rows": rows})
    access.log_read(request.user, record, what="record (visit entry)")
    if request.method == "POST":
        form = VisitForm(request.POST)
        if form.is_valid():
            try:
                visit = visits.create_visit(request.user, form.visit_data(record))
            except ValidationError as exc:
                form.show_refusal(exc)
            else:
                messages.success(request, _("The visit is recorded."))
                return HttpResponseRedirect(reverse("health:visit", args=[visit.pk]))
    else:
        now = timezone.localtime()
        form = VisitForm(initial={"visit_date": now.date(), "visit_time": now.time().replace(second=0, microsecond=0)})
    return render(request, "health/visits/form.html", {
        **_record_context(record, today), **_form_context(form), "editing": None})


def _visit_or_404(pk) -> Visit:
    visit = (Visit.objects.select_related("record__resident__household__village")
             .prefetch_related("diagnoses", "prescriptions").filter(pk=pk).first())
    if visit is None:
        raise Http404
    return visit


@page_requires("record.read")
def visit_detail(request, pk: int):
    visit = _visit_or_404(pk)
    access.log_read(request.user, visit.record, what="visit")
    diagnoses = [(d, icd10.lookup(d.icd10)) for d in visit.diagnoses.all()]
    shown_vitals = [(vitals.RANGES[name], getattr(visit, name)) for name in vitals.FIELDS
                    if getattr(visit, name) is not None]
    return render(request, "health/visits/detail.html", {
        "visit": visit, "resident": visit.record.resident, "diagnoses": diagnoses, "vitals": shown_vitals,
        "age": visits.age_text(visit.record.resident.birth_date, visits.local_date(visit.visited_at)),
        "edit_refusal": visits.edit_refusal(visit), "drugs": drugs.drugs()})


@page_requires("record.write")
def visit_edit(request, pk: int):
    visit = _visit_or_404(pk)
    record = visit.record
    access.log_read(request.user, record, what="visit (correction)")
    refusal = visits.edit_refusal(visit)
    if refusal:
        return render(request, "health/visits/not_editable.html", {"visit": visit, "reason": refusal}, status=409)
    if request.method == "POST":
        form = VisitForm(request.POST)
        if form.is_valid():
            try:
                visits.update_visit(request.user, visit, form.visit_data(record))
            except ValidationError as exc:
                form.show_refusal(exc)
            else:
                messages.success(request, _("The visit is corrected."))
                return HttpResponseRedirect(reverse("health:visit", args=[visit.pk]))
    else:
        form = VisitForm(initial=initial_for(visit))
    return render(request, "health/visits/form.html", {
        **_record_context(record, timezone.localdate()), **_form_context(form), "editing": visit})


class PeriodForm(forms.Form):
    day = _date_field(label=gettext_lazy("Day"), required=False)
    month = forms.RegexField(label=gettext_lazy("Month"), regex=r"^\d{4}-\d{1,2}$", required=False,
                             widget=forms.TextInput(attrs={"type": "month"}),
                             error_messages={"invalid": gettext_lazy("Choose a month.")})
    date_from = _date_field(label=gettext_lazy("From"), required=False)
    date_to = _date_field(label=gettext_lazy("To"), required=False)
    payment = forms.ChoiceField(label=gettext_lazy("Paid by"), required=False,
                                choices=[("", gettext_lazy("All")), *Payment.choices])
    code = forms.CharField(label=gettext_lazy("Diagnosis code"), required=False, max_length=8,
                           widget=forms.TextInput(attrs={"list": "icd10-codes", "class": "width-10",
                                                         "placeholder": "J06"}))
    referred = forms.BooleanField(label=gettext_lazy("Referred only"), required=False)

    def period(self, today):
        """(first day, last day, label) asked, today when nothing valid is asked."""
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("date_from") or data.get("date_to"):
            first = data.get("date_from") or data.get("date_to")
            last = max(data.get("date_to") or first, first)
            if (last - first).days > 366:
                last = first + datetime.timedelta(days=366)
            return first, last, _("From %(start)s to %(end)s") % {"start": first.strftime("%d/%m/%Y"),
                                                                  "end": last.strftime("%d/%m/%Y")}
        if data.get("month"):
            period = periods.parse(data["month"])
            if period is not None and period.kind == "month":
                return period.date_from, period.date_to, period.label
        day = data.get("day") or today
        return day, day, _("Day %(day)s") % {"day": day.strftime("%d/%m/%Y")}


@page_requires("record.read")
def visit_list(request):
    today = timezone.localdate()
    form = PeriodForm(request.GET or None)
    first, last, label = form.period(today)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    payment, code = data.get("payment") or "", icd10.normalize(data.get("code") or "")[:8]
    rows = visits.visits_between(first, last, payment=payment, code=code, referred=True if data.get("referred") else None)
    figures = visits.counts(rows)
    page = Paginator(rows.order_by("visited_at", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    access.log_search(request.user, query=f"visits {first:%d/%m/%Y}–{last:%d/%m/%Y}"
                                         f"{' ' + payment if payment else ''}{' ' + code if code else ''}")
    items = [(v, visits.main_code(v), visits.age_years(v.record.resident.birth_date, visits.local_date(v.visited_at)))
             for v in page.object_list]
    keep = {k: v for k, v in request.GET.items() if k != "page"}
    return render(request, "health/visits/list.html", {
        "form": form, "label": label, "figures": figures, "page": page, "items": items,
        "keep": urlencode(keep), "common_codes": [c for c in icd10.codes().values() if c.common],
        "day_links": _day_links(first, last, today)})


def _day_links(first, last, today) -> dict:
    if first != last:
        return {}
    return {"previous": (first - datetime.timedelta(days=1)).strftime("%d/%m/%Y"),
            "next": (first + datetime.timedelta(days=1)).strftime("%d/%m/%Y") if first < today else "",
            "month": f"{first:%Y-%m}"}


@page_requires("record.write")
def icd10_search(request):
    """The matching codes as ``<option>``s of the form's datalist (htmx), or a short list."""
    query = str(request.GET.get("q") or next((v for k, v in request.GET.items() if k.startswith("dx_")), "")
                or request.GET.get("code") or "").strip()[:60]
    return render(request, "health/visits/_icd10_options.html", {"codes": icd10.search(query, limit=30),
                                                                 "query": query})


def record_visits_url(record) -> str:
    return f"{reverse('health:visit_new')}?{urlencode({'record': record.pk})}"
