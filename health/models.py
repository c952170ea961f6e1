"""The commune health station's register (trạm y tế xã): residents' personal health records,
visits, vaccinations, the programmes' follow-up, deaths, and residents' questions to the doctor.

Tenant models: each commune's schema holds its own rows. A record belongs to a resident of the
registry (``population.Resident``, and so to the 12-digit personal ID number); users (public
schema) are kept as plain ids or foreign keys without a database constraint.

Health data is sensitive (Decree 13/2023/NĐ-CP): only the commune's health staff and the person
read a record, and every read and export is written to ``population.AccessLog``
(``health.access``).

Reference data is not kept in these tables but shipped as files under ``health/data/`` and read
once per process: the ICD-10 chapters, blocks and the codes a commune station uses most
(``health.icd10``), a small drug list (``health.drugs``), the Expanded Programme on Immunization
schedule (``health.schedule``) and the WHO Child Growth Standards (``health.growth``). Rows keep
the codes (``"I10"``, ``"BCG"``), checked against those lists when written.

* ``HealthRecord``: the personal health record (hồ sơ sức khỏe cá nhân, Decision 831/QĐ-BYT),
  one per resident; ``ChronicCondition``: its conditions with an ICD-10 code.
* ``CitizenLink``: a citizen account allowed to read a resident's record (the person, linked by
  personal ID number and birth date, or by the station).
* ``Visit`` (lượt khám) with its ``VisitDiagnosis`` and ``Prescription`` lines.
* ``Vaccination``: a dose given; ``VaccinationReminder``: an SMS sent to the household for a dose
  due in a month (sent once).
* ``Reading``: a blood pressure or glucose reading of the hypertension and diabetes programmes.
* ``Pregnancy`` (theo dõi thai) with its ``AntenatalVisit``s (khám thai).
* ``GrowthMeasurement``: a child's weight and height, with the WHO z-scores of its day.
* ``Death``: a resident's death reported to the station (for the monthly report).
* ``Question``: a resident's question to the doctor and its answer (hỏi đáp với bác sĩ).
* ``RecordImport``: an import of records from an .xlsx file (rows, errors, what was written).
"""
from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.history import tenant_history

USER = settings.AUTH_USER_MODEL


def _user_field(verbose_name, related_name="+", **kwargs):
    """A reference to a (public, global) user from a commune's table: no database constraint."""
    return models.ForeignKey(USER, verbose_name=verbose_name, null=True, blank=True, on_delete=models.DO_NOTHING,
                             related_name=related_name, db_constraint=False, **kwargs)


class BloodGroup(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    AB = "AB", "AB"
    O = "O", "O"  # noqa: E741
    UNKNOWN = "", _("Not known")


class Rh(models.TextChoices):
    POSITIVE = "+", _("Rh positive")
    NEGATIVE = "-", _("Rh negative")
    UNKNOWN = "", _("Not known")


class Smoking(models.TextChoices):
    NEVER = "never", _("Never")
    CURRENT = "current", _("Smokes")
    FORMER = "former", _("Stopped")
    UNKNOWN = "", _("Not asked")


class Drinking(models.TextChoices):
    NO = "no", _("No or rarely")
    REGULAR = "regular", _("Drinks regularly")
    FORMER = "former", _("Stopped")
    UNKNOWN = "", _("Not asked")


class Activity(models.TextChoices):
    ACTIVE = "active", _("Physically active")
    LOW = "low", _("Little physical activity")
    UNKNOWN = "", _("Not asked")


class HealthRecord(models.Model):
    """A resident's personal health record (hồ sơ sức khỏe cá nhân, Decision 831/QĐ-BYT).

    The fields follow the form's sections (identification comes from the registry's resident):
    blood group, history at birth, risk factors, disabilities, allergies, personal and family
    history, health insurance. ``health.record_form`` lists each field with the section of the form
    it comes from, and says which ones could not be confirmed against the form's text.
    """

    resident = models.OneToOneField(
        "population.Resident", verbose_name=_("resident"), on_delete=models.PROTECT, related_name="health_record",
        error_messages={"unique": _("This resident already has a health record.")},
    )
    opened_on = models.DateField(_("opened on"))
    blood_group = models.CharField(_("blood group"), max_length=2, choices=BloodGroup.choices, blank=True)
    rh = models.CharField(_("Rh factor"), max_length=1, choices=Rh.choices, blank=True)
    # At birth (for a child): how the birth went, weight and length.
    birth_weight_grams = models.PositiveIntegerField(
        _("birth weight (g)"), null=True, blank=True, validators=[MinValueValidator(300), MaxValueValidator(7000)])
    birth_length_cm = models.DecimalField(
        _("birth length (cm)"), max_digits=4, decimal_places=1, null=True, blank=True,
        validators=[MinValueValidator(20), MaxValueValidator(70)])
    birth_notes = models.CharField(_("at birth"), max_length=300, blank=True,
                                   help_text=_("e.g. normal delivery, caesarean, premature, asphyxia, birth defects"))
    # Risk factors.
    smoking = models.CharField(_("tobacco"), max_length=10, choices=Smoking.choices, blank=True)
    drinking = models.CharField(_("alcohol"), max_length=10, choices=Drinking.choices, blank=True)
    drug_use = models.BooleanField(_("uses drugs"), null=True, blank=True)
    physical_activity = models.CharField(_("physical activity"), max_length=10, choices=Activity.choices,
                                         blank=True)
    exposures = models.CharField(_("harmful exposures at home or at work"), max_length=300, blank=True)
    latrine = models.CharField(_("household latrine"), max_length=100, blank=True)
    other_risks = models.CharField(_("other risk factors"), max_length=300, blank=True)
    # Disabilities and allergies.
    disabilities = models.CharField(_("disabilities"), max_length=300, blank=True,
                                    help_text=_("hearing, sight, hands, legs, spine, cleft lip or palate, other"))
    allergy_drugs = models.CharField(_("allergies to medicines"), max_length=300, blank=True)
    allergy_chemicals = models.CharField(_("allergies to chemicals or cosmetics"), max_length=300, blank=True)
    allergy_food = models.CharField(_("allergies to food"), max_length=300, blank=True)
    allergy_other = models.CharField(_("other allergies"), max_length=300, blank=True)
    # History.
    personal_history = models.TextField(_("past illnesses and operations"), blank=True)
    family_history = models.TextField(_("family history"), blank=True,
                                      help_text=_("illnesses of parents, brothers and sisters, and children"))
    # Health insurance (bảo hiểm y tế): the card's code and validity, and the registered clinic.
    insurance_number = models.CharField(_("health insurance card number"), max_length=15, blank=True)
    insurance_valid_from = models.DateField(_("insurance valid from"), null=True, blank=True)
    insurance_valid_until = models.DateField(_("insurance valid until"), null=True, blank=True)
    insurance_clinic = models.CharField(_("registered first clinic"), max_length=200, blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("health record")
        verbose_name_plural = _("health records")
        ordering = ["resident__search_name", "pk"]

    def __str__(self) -> str:
        return str(self.resident)


class ChronicCondition(models.Model):
    """A chronic condition of a record, coded in ICD-10; ``programme`` puts it under the station's
    follow-up (hypertension, diabetes)."""

    class Programme(models.TextChoices):
        NONE = "", _("No programme")
        HYPERTENSION = "hypertension", _("Hypertension")
        DIABETES = "diabetes", _("Diabetes")

    record = models.ForeignKey(HealthRecord, verbose_name=_("health record"), on_delete=models.CASCADE,
                               related_name="conditions")
    icd10 = models.CharField(_("ICD-10 code"), max_length=8)
    diagnosed_on = models.DateField(_("diagnosed on"))
    programme = models.CharField(_("programme"), max_length=20, choices=Programme.choices, blank=True)
    active = models.BooleanField(_("under follow-up"), default=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("chronic condition")
        verbose_name_plural = _("chronic conditions")
        ordering = ["diagnosed_on", "pk"]
        constraints = [models.UniqueConstraint(fields=["record", "icd10"], name="health_condition_once")]
        indexes = [models.Index(fields=["programme", "diagnosed_on"])]


class CitizenLink(models.Model):
    """A citizen account allowed to read a resident's record: the person, who linked their account
    with the personal ID number and birth date, or whom the station linked."""

    class Method(models.TextChoices):
        ID_AND_BIRTH_DATE = "id_birth", _("Personal ID number and birth date")
        STATION = "station", _("Linked by the health station")

    user = _user_field(_("citizen account"), related_name="+")
    resident = models.ForeignKey("population.Resident", verbose_name=_("resident"), on_delete=models.CASCADE,
                                 related_name="health_links")
    method = models.CharField(_("linked by"), max_length=10, choices=Method.choices)
    linked_by = _user_field(_("linked by staff"))
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("link of a citizen account")
        verbose_name_plural = _("links of citizen accounts")
        constraints = [models.UniqueConstraint(fields=["user", "resident"], name="health_link_once")]


class Payment(models.TextChoices):
    INSURANCE = "insurance", _("Health insurance")
    PAID = "paid", _("Paid by the patient")
    FREE = "free", _("Free (programme)")


class Visit(models.Model):
    """A visit to the station (lượt khám): reason, examination, vital signs, diagnoses, treatment,
    referral and how it was paid."""

    record = models.ForeignKey(HealthRecord, verbose_name=_("health record"), on_delete=models.PROTECT,
                               related_name="visits")
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    reason = models.CharField(_("reason for the visit"), max_length=300)
    examination = models.TextField(_("examination notes"), blank=True)
    temperature_c = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True)
    pulse = models.PositiveSmallIntegerField(_("pulse (beats/min)"), null=True, blank=True)
    systolic = models.PositiveSmallIntegerField(_("systolic blood pressure (mmHg)"), null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(_("diastolic blood pressure (mmHg)"), null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(_("breaths per minute"), null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(_("oxygen saturation (%)"), null=True, blank=True)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=5, decimal_places=2, null=True, blank=True)
    height_cm = models.DecimalField(_("height (cm)"), max_digits=4, decimal_places=1, null=True, blank=True)
    treatment = models.TextField(_("treatment"), blank=True)
    referred = models.BooleanField(_("referred to a higher level"), default=False)
    referred_to = models.CharField(_("referred to"), max_length=200, blank=True)
    referral_reason = models.CharField(_("reason for the referral"), max_length=300, blank=True)
    payment = models.CharField(_("paid by"), max_length=10, choices=Payment.choices, default=Payment.INSURANCE)
    staff = _user_field(_("examined by"))
    staff_name = models.CharField(_("examined by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-pk"]


class VisitDiagnosis(models.Model):
    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="diagnoses")
    icd10 = models.CharField(_("ICD-10 code"), max_length=8, db_index=True)
    primary = models.BooleanField(_("main diagnosis"), default=False)

    class Meta:
        verbose_name = _("diagnosis")
        verbose_name_plural = _("diagnoses")
        ordering = ["-primary", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "icd10"], name="health_diagnosis_once"),
            models.UniqueConstraint(fields=["visit"], condition=models.Q(primary=True), name="health_one_main_diagnosis"),
        ]


class Prescription(models.Model):
    """A line of a visit's prescription: a drug of the list (``drug_code``) or written out."""

    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="prescriptions")
    drug_code = models.CharField(_("drug"), max_length=20, blank=True)
    text = models.CharField(_("medicine"), max_length=200)
    dose = models.CharField(_("dose"), max_length=200, blank=True, help_text=_("e.g. 1 tablet twice a day"))
    days = models.PositiveSmallIntegerField(_("days"), null=True, blank=True,
                                            validators=[MinValueValidator(1), MaxValueValidator(365)])
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True,
                                           validators=[MinValueValidator(1), MaxValueValidator(10000)])

    class Meta:
        verbose_name = _("prescription line")
        verbose_name_plural = _("prescription lines")
        ordering = ["pk"]


class Vaccination(models.Model):
    """A dose given (tiêm chủng): the vaccine of the schedule (``health.schedule``) and its dose
    number. A dose given elsewhere is recorded with its place."""

    record = models.ForeignKey(HealthRecord, verbose_name=_("health record"), on_delete=models.PROTECT,
                               related_name="vaccinations")
    vaccine = models.CharField(_("vaccine"), max_length=20)
    dose = models.PositiveSmallIntegerField(_("dose"), validators=[MinValueValidator(1), MaxValueValidator(10)])
    given_on = models.DateField(_("given on"), db_index=True)
    lot_number = models.CharField(_("lot number"), max_length=50, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    reaction = models.CharField(_("reaction after the dose"), max_length=300, blank=True)
    staff = _user_field(_("recorded by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("vaccination")
        verbose_name_plural = _("vaccinations")
        ordering = ["given_on", "pk"]
        constraints = [models.UniqueConstraint(fields=["record", "vaccine", "dose"], name="health_dose_once")]


class VaccinationReminder(models.Model):
    """An SMS to a child's household for a dose due in ``month`` (the first day of the month):
    sent once per dose and month, whatever the retries."""

    record = models.ForeignKey(HealthRecord, verbose_name=_("health record"), on_delete=models.CASCADE,
                               related_name="vaccination_reminders")
    vaccine = models.CharField(_("vaccine"), max_length=20)
    dose = models.PositiveSmallIntegerField(_("dose"))
    month = models.DateField(_("month"))
    phone = models.CharField(_("phone"), max_length=10)
    notification_id = models.BigIntegerField(_("notification"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("vaccination reminder")
        verbose_name_plural = _("vaccination reminders")
        constraints = [models.UniqueConstraint(fields=["record", "vaccine", "dose", "month"],
                                               name="health_reminder_once")]


class Reading(models.Model):
    """A reading of the hypertension or diabetes follow-up: blood pressure (mmHg) or blood
    glucose (mmol/l, fasting or not)."""

    record = models.ForeignKey(HealthRecord, verbose_name=_("health record"), on_delete=models.CASCADE,
                               related_name="readings")
    taken_on = models.DateField(_("taken on"), db_index=True)
    systolic = models.PositiveSmallIntegerField(_("systolic blood pressure (mmHg)"), null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(_("diastolic blood pressure (mmHg)"), null=True, blank=True)
    glucose_mmol = models.DecimalField(_("blood glucose (mmol/l)"), max_digits=4, decimal_places=1, null=True,
                                       blank=True)
    fasting = models.BooleanField(_("fasting"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    staff = _user_field(_("recorded by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        ordering = ["taken_on", "pk"]


class Pregnancy(models.Model):
    """A pregnancy under the station's care (quản lý thai): the expected delivery date is the last
    menstrual period plus 280 days (Naegele's rule) unless an ultrasound date is entered."""

    class Outcome(models.TextChoices):
        ONGOING = "", _("Ongoing")
        LIVE_BIRTH = "live_birth", _("Live birth")
        STILLBIRTH = "stillbirth", _("Stillbirth")
        MISCARRIAGE = "miscarriage", _("Miscarriage")
        TERMINATION = "termination", _("Termination")

    record = models.ForeignKey(HealthRecord, verbose_name=_("health record"), on_delete=models.PROTECT,
                               related_name="pregnancies")
    last_period = models.DateField(_("first day of the last menstrual period"), null=True, blank=True)
    expected_delivery = models.DateField(_("expected delivery date"))
    gravida = models.PositiveSmallIntegerField(_("pregnancies so far (this one included)"), default=1,
                                               validators=[MinValueValidator(1), MaxValueValidator(20)])
    para = models.PositiveSmallIntegerField(_("births so far"), default=0, validators=[MaxValueValidator(20)])
    risk_notes = models.CharField(_("risks"), max_length=300, blank=True)
    registered_on = models.DateField(_("registered on"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True, db_index=True)
    children = models.PositiveSmallIntegerField(_("children born alive"), default=0, validators=[MaxValueValidator(6)])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("pregnancy")
        verbose_name_plural = _("pregnancies")
        ordering = ["-registered_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["record"], condition=models.Q(outcome=""),
                                               name="health_one_ongoing_pregnancy")]

    @staticmethod
    def naegele(last_period: datetime.date) -> datetime.date:
        return last_period + datetime.timedelta(days=280)


class AntenatalVisit(models.Model):
    """An antenatal check (khám thai)."""

    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.CASCADE,
                                  related_name="antenatal_visits")
    visited_on = models.DateField(_("visited on"), db_index=True)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=5, decimal_places=2, null=True, blank=True)
    systolic = models.PositiveSmallIntegerField(_("systolic blood pressure (mmHg)"), null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(_("diastolic blood pressure (mmHg)"), null=True, blank=True)
    fundal_height_cm = models.PositiveSmallIntegerField(_("fundal height (cm)"), null=True, blank=True)
    tetanus_dose = models.PositiveSmallIntegerField(_("tetanus vaccine dose"), null=True, blank=True,
                                                    validators=[MinValueValidator(1), MaxValueValidator(5)])
    notes = models.TextField(_("notes"), blank=True)
    staff = _user_field(_("examined by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("antenatal visit")
        verbose_name_plural = _("antenatal visits")
        ordering = ["visited_on", "pk"]


class GrowthMeasurement(models.Model):
    """A child's weight and length or height (children under 5), with the WHO Child Growth
    Standards' z-scores of the child's age that day (``health.growth``): underweight,
    stunting and wasting below −2 SD."""

    record = models.ForeignKey(HealthRecord, verbose_name=_("health record"), on_delete=models.CASCADE,
                               related_name="growth")
    measured_on = models.DateField(_("measured on"), db_index=True)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=4, decimal_places=2,
                                    validators=[MinValueValidator(1), MaxValueValidator(40)])
    height_cm = models.DecimalField(_("length or height (cm)"), max_digits=4, decimal_places=1, null=True,
                                    blank=True, validators=[MinValueValidator(40), MaxValueValidator(130)])
    weight_for_age_z = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    height_for_age_z = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    weight_for_height_z = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    underweight = models.BooleanField(_("underweight"), default=False)
    stunted = models.BooleanField(_("stunted"), default=False)
    wasted = models.BooleanField(_("wasted"), default=False)
    staff = _user_field(_("measured by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("growth measurement")
        verbose_name_plural = _("growth measurements")
        ordering = ["measured_on", "pk"]
        constraints = [models.UniqueConstraint(fields=["record", "measured_on"], name="health_growth_once_a_day")]


class Death(models.Model):
    """A resident's death reported to the station (for the monthly report's deaths)."""

    resident = models.OneToOneField("population.Resident", verbose_name=_("resident"), on_delete=models.PROTECT,
                                    related_name="death")
    died_on = models.DateField(_("died on"), db_index=True)
    cause_icd10 = models.CharField(_("cause (ICD-10)"), max_length=8, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    staff = _user_field(_("recorded by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("death")
        verbose_name_plural = _("deaths")
        ordering = ["-died_on", "-pk"]


class Question(models.Model):
    """A resident's question to the doctor (hỏi đáp với bác sĩ). Private questions are read by the
    health staff and the asker only; a question its asker offered for publication may be
    published by the staff, as the staff's anonymised wording (``public_title``, ``public_body``)
    with the answer, never with the asker's name."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for an answer")
        ANSWERED = "answered", _("Answered")
        PUBLISHED = "published", _("Answered and published")
        DECLINED = "declined", _("Not answered here")

    asker = _user_field(_("asked by"))
    title = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("question"))
    wants_public = models.BooleanField(_("may be published without my name"), default=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.WAITING,
                             db_index=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = _user_field(_("answered by"))
    answered_by_name = models.CharField(_("answered by"), max_length=150, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    public_title = models.CharField(_("published subject"), max_length=200, blank=True)
    public_body = models.TextField(_("published question"), blank=True)
    search_text = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True, db_index=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("question to the doctor")
        verbose_name_plural = _("questions to the doctor")
        ordering = ["-created_at", "-pk"]


class RecordImport(models.Model):
    """An import of health records from an .xlsx file: checked first (every row, with the reasons
    of the rows refused), then written as the officer chose: the good rows, or none while any row
    is refused."""

    class State(models.TextChoices):
        CHECKED = "checked", _("Checked")
        WRITTEN = "written", _("Written")
        CANCELLED = "cancelled", _("Cancelled")

    class Mode(models.TextChoices):
        GOOD_ROWS = "good_rows", _("Write the good rows, leave the refused ones")
        ALL_OR_NOTHING = "all", _("Write nothing while a row is refused")

    file_name = models.CharField(_("file"), max_length=200)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.CHECKED)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    good_rows = models.PositiveIntegerField(_("good rows"), default=0)
    errors = models.JSONField(_("refused rows"), default=list, blank=True)  # [{"row": 7, "field": …, "message": …}]
    payload = models.JSONField(default=list, blank=True)  # the good rows, as checked, until written
    written = models.PositiveIntegerField(_("records written"), default=0)
    user = _user_field(_("imported by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import of health records")
        verbose_name_plural = _("imports of health records")
        ordering = ["-created_at", "-pk"]
