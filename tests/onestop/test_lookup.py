"""The public status lookup (code + last four digits of the phone, throttled per client address)
and the citizen's rating link."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext, ngettext, override

from onestop import services
from onestop.models import Dossier, DossierState, EventKind, Rating
from tests.onestop.test_public_pages import HOST, online_dossier, text_of

NOT_FOUND = "No dossier matches this code and phone number. Check both against your receipt and appointment slip."


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


class Visitor(Client):
    """An anonymous visitor from one address; the test body stays in the commune's schema."""

    def __init__(self, commune, address="203.113.1.1", **extra):
        super().__init__(HTTP_HOST=HOST, REMOTE_ADDR=address, **extra)
        self.commune = commune

    def request(self, **request):
        try:
            return super().request(**request)
        finally:
            connection.set_tenant(self.commune)


@pytest.fixture
def visitor(in_tule):
    return lambda address="203.113.1.1", **extra: Visitor(in_tule, address, **extra)


@pytest.fixture
def received(procedures, people):
    """A dossier received online and handed to the specialist (applicant phone 0912345678)."""
    dossier = online_dossier(people["citizen"], procedures["HT-01"], receive_by=people["onestop_officer"])
    return services.hand_over(dossier=dossier, user=people["onestop_officer"])


def without_tokens(text: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_the_code_and_the_right_digits_show_the_steps_and_the_appointment(received, visitor, people):
    client = visitor()
    form = text_of(client.get(f"/lookup/?code={received.code}"))
    assert f'value="{received.code}"' in form  # the QR code of form 1 leads here with the code filled in

    response = client.post("/lookup/", {"code": received.code.lower(), "phone_last4": "5678"})
    text = text_of(response)
    assert response.status_code == 200
    assert received.code in text and received.procedure.name in text
    local_due = timezone.localtime(received.due_at)
    assert local_due.strftime("%d/%m/%Y %H:%M") in text
    with override("vi"):
        assert str(DossierState(received.state).label) in text
        for kind in (EventKind.SUBMITTED, EventKind.RECEIVED, EventKind.HANDOVER):
            assert str(EventKind(kind).label) in text
    assert received.current_step.name in text
    # No official's name, no applicant's details on the public page.
    for person in ("onestop_officer", "specialist"):
        assert people[person].full_name not in text
    assert "0912345678" not in text and "nam@example.vn" not in text


def test_an_unknown_code_and_a_wrong_phone_get_the_same_answer(received, visitor):
    client = visitor()
    wrong_phone = client.post("/lookup/", {"code": received.code, "phone_last4": "1111"})
    unknown = client.post("/lookup/", {"code": received.code[:-1] + "9", "phone_last4": "1111"})
    assert wrong_phone.status_code == unknown.status_code == 200
    assert vi(NOT_FOUND) in text_of(wrong_phone)
    assert received.procedure.name not in text_of(wrong_phone)
    # The same page, apart from the code typed in.
    same = without_tokens(text_of(wrong_phone)).replace(received.code, "X")
    other = without_tokens(text_of(unknown)).replace(received.code[:-1] + "9", "X")
    assert same == other
    bad = client.post("/lookup/", {"code": received.code, "phone_last4": "56a8"})
    assert vi("Enter the last four digits of the phone number.") in text_of(bad)


def test_wrong_phones_from_many_addresses_do_not_lock_the_owner_out(received, visitor, settings):
    """Five wrong endings from five addresses used to lock the code for everyone for an hour."""
    settings.XASO_LOOKUP_MAX_FAILURES = 3
    for n in range(5):
        for digits in ("0001", "0002", "0003"):
            visitor(f"10.1.0.{n + 1}").post("/lookup/", {"code": received.code, "phone_last4": digits})
    right = visitor("10.1.0.9").post("/lookup/", {"code": received.code, "phone_last4": "5678"})
    assert right.status_code == 200 and received.procedure.name in text_of(right)
    # The address that typed the wrong endings is refused for this code, with the retry time.
    guesser = visitor("10.1.0.1").post("/lookup/", {"code": received.code, "phone_last4": "5678"})
    assert guesser.status_code == 429 and 0 < int(guesser["Retry-After"]) <= 3600
    assert received.procedure.name not in text_of(guesser)


def test_lookups_are_throttled_per_client_address(received, visitor, settings):
    settings.XASO_LOOKUP_RATE = "3/hour"
    client = visitor("198.51.100.7")
    for _ in range(3):
        assert client.get(f"/lookup/?code={received.code}").status_code == 200  # showing the form is free
    for digits in ("1111", "2222", "5678"):
        assert client.post("/lookup/", {"code": received.code, "phone_last4": digits}).status_code == 200
    blocked = client.post("/lookup/", {"code": received.code, "phone_last4": "5678"})
    assert blocked.status_code == 429
    retry = int(blocked["Retry-After"])
    assert 0 < retry <= 3600
    minutes = max(1, (retry + 59) // 60)
    with override("vi"):
        message = ngettext(
            "Too many lookups were made from this connection. Try again in %(counter)s minute.",
            "Too many lookups were made from this connection. Try again in %(counter)s minutes.", minutes,
        ) % {"counter": minutes}
    assert message in text_of(blocked)
    assert received.procedure.name not in text_of(blocked)
    # A forwarded-for header does not open a new budget; another address has its own.
    forged = visitor("198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert forged.post("/lookup/", {"code": received.code, "phone_last4": "5678"}).status_code == 429
    fresh = visitor("198.51.100.8").post("/lookup/", {"code": received.code, "phone_last4": "5678"})
    assert fresh.status_code == 200 and received.procedure.name in text_of(fresh)


def test_a_draft_is_not_found_by_the_lookup(procedures, people, visitor):
    draft = services.save_draft(citizen=people["citizen"], procedure=procedures["HT-01"],
                                applicant={"name": "Hoàng Văn Nam", "phone": "0912345678"}, form_data={})
    assert draft.code is None
    response = visitor().post("/lookup/", {"code": f"#{draft.pk}", "phone_last4": "5678"})
    assert response.status_code == 200 and vi(NOT_FOUND) in text_of(response)


# --- rating -----------------------------------------------------------------------------------------

@pytest.fixture
def at_the_desk(procedures, people):
    """A dossier received at the desk (no citizen account), handed to the specialist."""
    from tests.onestop.helpers import received_dossier

    return services.hand_over(dossier=received_dossier(procedures["HT-01"], people["onestop_officer"]),
                              user=people["onestop_officer"])


def test_the_rating_is_taken_once_after_the_result(at_the_desk, visitor):
    received = at_the_desk
    client = visitor()
    url = f"/rate/{received.rating_token}/"
    early = text_of(client.get(url))
    assert vi("The service can be rated once the result is ready.") in early and 'name="score"' not in early
    assert client.post(url, {"score": "3"}).status_code == 200
    assert not Rating.objects.exists()

    Dossier.objects.filter(pk=received.pk).update(state=DossierState.RESULT_READY, completed_at=timezone.now())
    form = text_of(client.get(url))
    assert 'name="score"' in form and received.procedure.name in form
    invalid = client.post(url, {"score": "7"})
    assert invalid.status_code == 200 and not Rating.objects.exists()
    thanks = client.post(url, {"score": "3", "comment": "Cán bộ hướng dẫn tận tình."})
    assert vi("Your rating has been recorded. It helps the commune improve its service.") in text_of(thanks)
    rating = Rating.objects.get(dossier=received)
    assert (rating.score, rating.comment) == (3, "Cán bộ hướng dẫn tận tình.")

    again = client.post(url, {"score": "1"})
    assert vi("This dossier has already been rated. Thank you.") in text_of(again)
    assert Rating.objects.get(dossier=received).score == 3
    assert client.get("/rate/00000000-0000-4000-8000-000000000000/").status_code == 404
    assert client.get("/rate/not-a-token/").status_code == 404
