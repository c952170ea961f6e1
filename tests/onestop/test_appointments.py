"""Every date the desk gives or accepts as an appointment is a working day: the appointment of
form 1 (whenever the dossier came in), the one moved by a supplement pause, and the new date of
form 4 (refused on a weekend or a day off, through the service, the officer's page and the API,
with the nearest working day named)."""
from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from onestop import services
from onestop.deadlines import appointment
from onestop.models import Dossier, Extension
from workcalendar.services import is_working_day, to_local

from .helpers import TZ, at, received_dossier

HOST = "tule.localhost"
JSON = {"content_type": "application/json"}
SUNDAY = datetime.datetime(2027, 1, 10, 10, 0, tzinfo=TZ)  # Sunday 10/01/2027
SATURDAY = datetime.date(2027, 1, 9)
NEW_YEAR = datetime.date(2027, 1, 1)  # Friday, Tết Dương lịch


@pytest.fixture
def dossier(procedures, people):
    return received_dossier(procedures["HT-04"], people["onestop_officer"])


def _refusal(call) -> str:
    with translation.override("vi"), pytest.raises(ValidationError) as refused:
        call()
    assert refused.value.message_dict.keys() == {"new_due_at"}
    return refused.value.message_dict["new_due_at"][0]


def test_form_4_refuses_a_new_date_on_a_weekend_or_a_day_off(dossier, people):
    officer = people["onestop_officer"]
    for value in (SUNDAY, "10/01/2027 10:00", "2027-01-10T10:00", SATURDAY, "09/01/2027"):
        message = _refusal(lambda: services.extend(dossier=dossier, user=officer, new_due_at=value,
                                                   reason="Cần xác minh thêm"))
        assert message == "Ngày hẹn phải là ngày làm việc; ngày làm việc gần nhất là 11/01/2027.", value
    assert not is_working_day(NEW_YEAR)
    message = _refusal(lambda: services.extend(dossier=dossier, user=officer, new_due_at=NEW_YEAR, reason="Chậm"))
    assert message == "Ngày hẹn phải là ngày làm việc; ngày làm việc gần nhất là 04/01/2027."
    dossier.refresh_from_db()
    assert dossier.extended_due_at is None and not dossier.extensions.exists()
    assert not dossier.forms.filter(kind="4").exists()


def test_form_4_on_a_working_day_and_a_date_alone_is_the_end_of_that_day(dossier, people):
    monday = datetime.datetime(2027, 1, 11, tzinfo=TZ)  # what the form's field gives for '11/01/2027'
    extended = services.extend(dossier=dossier, user=people["onestop_officer"], new_due_at=monday,
                               reason="Cần xác minh thêm")
    assert to_local(extended.extended_due_at) == datetime.datetime(2027, 1, 11, 17, 0, tzinfo=TZ)
    extended = services.extend(dossier=dossier, user=people["onestop_officer"], new_due_at="12/01/2027 10:30",
                               reason="Cần xác minh thêm")
    assert to_local(extended.extended_due_at) == datetime.datetime(2027, 1, 12, 10, 30, tzinfo=TZ)


def test_the_officers_page_and_the_api_refuse_a_sunday_with_the_nearest_working_day(dossier, people, client_for, tule):
    url = f"/onestop/dossiers/{dossier.pk}/extend/"
    page = client_for(HOST, people["onestop_officer"]).post(
        url, {"new_due_at": "10/01/2027 10:00", "reason": "Cần xác minh thêm"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 400
    assert "ngày làm việc gần nhất là 11/01/2027" in page.content.decode()
    api = client_for(HOST, people["onestop_officer"]).post(
        f"/api/v1/onestop/dossiers/{dossier.pk}/extend/", {"new_due_at": "10/01/2027", "reason": "Chậm"}, **JSON)
    assert api.status_code == 400 and "new_due_at" in api.json()["fields"]
    assert api.json()["code"] == "not_working_day"
    with tenant_context(tule):
        assert Dossier.objects.get(pk=dossier.pk).extended_due_at is None
        assert not Extension.objects.filter(dossier_id=dossier.pk).exists()


def test_every_appointment_given_at_receipt_is_a_working_day(procedures):
    """Receipts at every hour of a fortnight around New Year (weekend, holiday, after the
    cut-off), for a same-day, a one-day and a several-day procedure."""
    start = datetime.datetime(2026, 12, 28, 6, 0, tzinfo=TZ)
    moments = [start + datetime.timedelta(hours=h) for h in range(0, 14 * 24, 5)]
    for code in ("CT-01", "HT-01", "HT-04"):
        for moment in moments:
            due = to_local(appointment(procedures[code], moment))
            assert is_working_day(due.date()), (code, moment, due)
            pauses = [(moment + datetime.timedelta(hours=2), moment + datetime.timedelta(hours=50))]
            moved = to_local(appointment(procedures[code], moment, pauses))
            assert is_working_day(moved.date()), (code, moment, moved)


def test_the_appointment_after_a_supplement_is_a_working_day(dossier, people, monkeypatch):
    dossier = services.hand_over(dossier=dossier, user=people["onestop_officer"], to_user_id=people["specialist"].pk)
    monkeypatch.setattr(services, "now", lambda: at("08/01/2027", "16:00"))  # a Friday afternoon
    dossier = services.request_supplement(dossier=dossier, user=people["specialist"], items=["Tờ khai"])
    monkeypatch.setattr(services, "now", lambda: at("10/01/2027", "09:00"))  # brought on Sunday
    dossier = services.supplement_arrived(dossier=dossier, user=people["onestop_officer"])
    assert is_working_day(to_local(dossier.due_at).date())
