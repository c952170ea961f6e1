"""'03/04/2026' is 3 April everywhere: Django's vi locale has no input formats of its own."""
import datetime

from django import forms
from django.utils import formats, translation
from rest_framework import serializers


class DateForm(forms.Form):
    day = forms.DateField()


class DateSerializer(serializers.Serializer):
    day = serializers.DateField()


def test_form_reads_day_first_in_vietnamese():
    with translation.override("vi"):
        form = DateForm({"day": "03/04/2026"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["day"] == datetime.date(2026, 4, 3)


def test_form_reads_day_first_in_english_too():
    with translation.override("en"):
        form = DateForm({"day": "03/04/2026"})
        assert form.is_valid()
        assert form.cleaned_data["day"] == datetime.date(2026, 4, 3)


def test_impossible_date_is_a_vietnamese_error():
    with translation.override("vi"):
        form = DateForm({"day": "31/02/2026"})
        assert not form.is_valid()
        assert form.errors["day"] == ["Nhập một ngày hợp lệ."]


def test_api_reads_day_first():
    serializer = DateSerializer(data={"day": "03/04/2026"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["day"] == datetime.date(2026, 4, 3)
    assert DateSerializer(data={"day": "2026-04-03"}).is_valid()


def test_dates_and_money_are_shown_the_vietnamese_way():
    with translation.override("vi"):
        assert formats.date_format(datetime.date(2026, 4, 3), "SHORT_DATE_FORMAT") == "03/04/2026"
        assert formats.number_format(1234000, use_l10n=True, force_grouping=True) == "1.234.000"
