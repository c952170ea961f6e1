"""The personal health record form (mẫu hồ sơ quản lý sức khỏe cá nhân phục vụ chăm sóc sức khỏe
ban đầu, Decision 831/QĐ-BYT of 11 March 2017): its field list, each field with the form's part
it comes from, and the staff's form that follows those parts.

The Decision's form has four parts, which we could confirm from published summaries of its text:

* I. administrative information (thông tin hành chính): name, birth date, sex, ID number and
  the like; here they come from the registry's resident and are not typed again;
* II. history and factors related to health (tiền sử và các yếu tố liên quan đến sức khỏe):
  status at birth, risk factors, past illnesses and allergies, disabilities, operations, family
  history;
* III. vaccination (tiêm chủng): the vaccination part of the app keeps the doses;
* IV. clinical and paraclinical examination (khám lâm sàng và cận lâm sàng): the visits part
  keeps the examinations.

Not confirmed against the form's own pages (only summaries of it were at hand): the exact place
of blood group and Rh, occupation, health insurance card and first clinic within part I; the
latrine type among the risk factors; the answer lists of tobacco, alcohol, drugs and physical
activity; and whether chronic conditions carry their ICD-10 code on the paper form (the station
codes them in ICD-10 as the Ministry's reporting asks). Each field below says ``confirmed=False``
where that is so.
"""
from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from health.models import HealthRecord


@dataclass(frozen=True)
class Section:
    key: str
    number: str
    title: str
    title_vi: str  # the form's own heading, printed on the PDF beside the translated title


@dataclass(frozen=True)
class Field:
    name: str  # HealthRecord's field
    section: str
    confirmed: bool = True


SECTIONS = [
    Section("admin", "I", _("Administrative information"), "Thông tin hành chính"),
    Section("birth", "II.1", _("Status at birth"), "Tình trạng lúc sinh"),
    Section("risks", "II.2", _("Risk factors"), "Yếu tố nguy cơ đối với sức khỏe cá nhân"),
    Section("allergies", "II.3", _("Past illnesses and allergies"), "Tiền sử bệnh tật, dị ứng"),
    Section("disabilities", "II.4", _("Disabilities"), "Khuyết tật"),
    Section("operations", "II.5", _("Operations"), "Tiền sử phẫu thuật"),
    Section("family", "II.6", _("Family history"), "Tiền sử gia đình"),
]

FIELDS = [
    Field("opened_on", "admin", confirmed=False),
    Field("blood_group", "admin", confirmed=False),
    Field("rh", "admin", confirmed=False),
    Field("occupation", "admin", confirmed=False),
    Field("insurance_number", "admin", confirmed=False),
    Field("insurance_valid_from", "admin", confirmed=False),
    Field("insurance_valid_until", "admin", confirmed=False),
    Field("insurance_clinic", "admin", confirmed=False),
    Field("birth_weight_grams", "birth"),
    Field("birth_length_cm", "birth"),
    Field("birth_notes", "birth"),
    Field("smoking", "risks", confirmed=False),
    Field("drinking", "risks", confirmed=False),
    Field("drug_use", "risks", confirmed=False),
    Field("physical_activity", "risks", confirmed=False),
    Field("exposures", "risks"),
    Field("latrine", "risks", confirmed=False),
    Field("other_risks", "risks"),
    Field("allergy_drugs", "allergies"),
    Field("allergy_chemicals", "allergies"),
    Field("allergy_food", "allergies"),
    Field("allergy_other", "allergies"),
    Field("disabilities", "disabilities"),
    Field("personal_history", "operations", confirmed=False),
    Field("family_history", "family"),
    Field("note", "family", confirmed=False),
]

FIELD_NAMES = [f.name for f in FIELDS]
DATE_FIELDS = ("opened_on", "insurance_valid_from", "insurance_valid_until")


def _display(record, name: str) -> str:
    value = getattr(record, name)
    if value is None or value == "":
        return ""
    getter = getattr(record, f"get_{name}_display", None)
    if getter is not None:
        return str(getter())
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if name in DATE_FIELDS:
        return value.strftime("%d/%m/%Y")
    return str(value)


def sections_for(record) -> list[dict]:
    """The record's filled fields by the form's parts, for its page and its PDF:
    [{"title", "title_vi", "number", "rows": [(label, value)]}]."""
    meta = HealthRecord._meta
    result = []
    for section in SECTIONS:
        rows = [(str(meta.get_field(f.name).verbose_name).capitalize(), _display(record, f.name))
                for f in FIELDS if f.section == section.key]
        result.append({"title": section.title, "title_vi": section.title_vi, "number": section.number,
                       "rows": rows})
    return result


class RecordForm(forms.ModelForm):
    """The record's fields, in the order of the form's parts (dates typed dd/mm/yyyy)."""

    opened_on = forms.DateField(label=_("Opened on"))
    insurance_valid_from = forms.DateField(label=_("Insurance valid from"), required=False)
    insurance_valid_until = forms.DateField(label=_("Insurance valid until"), required=False)
    insurance_number = forms.CharField(label=_("Health insurance card number"), max_length=20, required=False,
                                       help_text=_("15 characters, e.g. GD4151234567890"))
    drug_use = forms.NullBooleanField(label=_("Uses drugs"), required=False)

    class Meta:
        model = HealthRecord
        fields = FIELD_NAMES
        widgets = {
            "personal_history": forms.Textarea(attrs={"rows": 3}),
            "family_history": forms.Textarea(attrs={"rows": 3}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, resident=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.resident = resident or (self.instance.resident if self.instance.pk else None)

    def grouped(self) -> list[dict]:
        """The bound fields by the form's parts, for the template."""
        return [{"title": s.title, "number": s.number,
                 "fields": [self[f.name] for f in FIELDS if f.section == s.key]} for s in SECTIONS]

    def clean(self):
        from health.records import check_record

        data = super().clean()
        for field, message in check_record(data, resident=self.resident):
            if field in self.fields and field not in self._errors:
                self.add_error(field, message)
        return data
