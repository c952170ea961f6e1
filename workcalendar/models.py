"""The official working-day calendar (public schema: the same days off for every commune).

* ``CalendarYear``: one row per year whose official notice (thông báo nghỉ lễ, Tết) is known,
  with its confidence. A confirmed or secondary year uses its ``DayOverride`` rows as the whole
  schedule; an unconfirmed year (or a year without a row) uses the Labour Code computation of
  ``workcalendar.holidays`` with its overrides on top.
* ``DayOverride``: one day off or one worked day (ngày làm bù, a worked Saturday) that beats the
  computation.
* ``StatutoryHoliday``: a yearly holiday added by law outside the Labour Code 2019 Art. 112 list,
  valid from a date (Ngày Văn hóa Việt Nam, 24 November, from 1 July 2026).
"""
from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Confidence(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    SECONDARY = "secondary", _("Secondary source")
    UNCONFIRMED = "unconfirmed", _("Unconfirmed")


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(
        _("year"), unique=True, validators=[MinValueValidator(1901), MaxValueValidator(2099)]
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Confidence.choices, default=Confidence.UNCONFIRMED,
        help_text=_("Confirmed or secondary: the days listed below are the whole schedule. "
                    "Unconfirmed: the days are computed from the Labour Code and the days below are applied on top."),
    )
    notice = models.CharField(_("notice reference"), max_length=200, blank=True)
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)

    @property
    def uses_overrides_only(self) -> bool:
        return self.status in (Confidence.CONFIRMED, Confidence.SECONDARY)


class DayOverride(models.Model):
    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("Day off")
        WORKING_DAY = "working_day", _("Working day")

    calendar_year = models.ForeignKey(
        CalendarYear, verbose_name=_("year"), on_delete=models.CASCADE, related_name="overrides"
    )
    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    source = models.TextField(_("source"), blank=True)
    confidence = models.CharField(
        _("confidence"), max_length=20, choices=Confidence.choices, default=Confidence.CONFIRMED
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("day override")
        verbose_name_plural = _("day overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.get_kind_display()}"

    def clean(self):
        super().clean()
        if self.date and self.calendar_year_id and self.date.year != self.calendar_year.year:
            raise ValidationError(
                {"date": _("The date must fall in %(year)s.") % {"year": self.calendar_year.year}}
            )


class StatutoryHoliday(models.Model):
    """A fixed solar-date holiday outside the Labour Code Art. 112 list, valid from a date."""

    name = models.CharField(_("name"), max_length=200)
    month = models.PositiveSmallIntegerField(_("month"), validators=[MinValueValidator(1), MaxValueValidator(12)])
    day = models.PositiveSmallIntegerField(_("day"), validators=[MinValueValidator(1), MaxValueValidator(31)])
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    compensated = models.BooleanField(
        _("made up when on a weekly rest day"), default=False,
        help_text=_("Labour Code Art. 111(3) gives the next working day off (nghỉ bù) only for the Art. 112(1) holidays."),
    )
    source = models.TextField(_("source"), blank=True)
    confidence = models.CharField(
        _("confidence"), max_length=20, choices=Confidence.choices, default=Confidence.SECONDARY
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("statutory holiday")
        verbose_name_plural = _("statutory holidays")
        ordering = ["month", "day"]
        constraints = [
            models.UniqueConstraint(fields=["month", "day", "valid_from"], name="workcalendar_statutory_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day:02d}/{self.month:02d} {self.name}"

    def clean(self):
        super().clean()
        if self.month and self.day:
            try:
                datetime.date(2024, self.month, self.day)  # a leap year: 29/02 is allowed
            except ValueError:
                raise ValidationError({"day": _("This day does not exist in this month.")})
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end must not be before the start.")})

    def date_in(self, year: int) -> datetime.date | None:
        try:
            date = datetime.date(year, self.month, self.day)
        except ValueError:
            return None
        if date < self.valid_from or (self.valid_until and date > self.valid_until):
            return None
        return date
