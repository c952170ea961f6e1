"""A commune's administrator stays inside the commune: it never adds, sees or resets a user who
belongs to another commune, to a supervising unit or to the installation's operators."""
from __future__ import annotations

import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.utils.translation import gettext, override

from communes import second_factor as sf
from communes.models import Membership, Role, SupervisingUnit, TotpDevice

HOST = "tule.localhost"
ADD = "/admin/communes/membership/add/"
CHANGELIST = "/admin/communes/membership/"


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


NO_SUCH_USER = "No such user is available. Check the user name, or ask the installation's operators."


@pytest.fixture
def admin_tule(make_user, tule):
    return make_user("qt_tule", roles={tule: [Role.COMMUNE_ADMIN]}, full_name="Vũ Thị Mai")


@pytest.fixture
def chairman_yenhoa(make_user, yenhoa):
    user = make_user("ct_yenhoa", roles={yenhoa: [Role.CHAIRMAN]}, full_name="Đinh Văn Hà", email="ha@yenhoa.example")
    sf.start_enrolment(user)
    TotpDevice.objects.filter(user=user).update(confirmed=True)
    return user


def add(client, username, role=Role.VICE_CHAIRMAN):
    return client.post(ADD, {"username": username, "role": role.value, "job_title": "", "is_active": "on"})


def test_another_communes_official_cannot_be_added_and_is_not_confirmed_to_exist(
        db, tule, admin_tule, chairman_yenhoa, make_user, client_for):
    client = client_for(HOST, admin_tule)
    unit_staff = make_user("so_noi_vu", units=[SupervisingUnit.objects.get(code="15")])
    operator = make_user("van_hanh", is_superuser=True, is_staff=True)
    answers = {}
    for username in ("ct_yenhoa", unit_staff.username, operator.username, "khong_ton_tai"):
        response = add(client, username)
        assert response.status_code == 200, username
        answers[username] = response.content.decode().replace("&#x27;", "'")
    for username, text in answers.items():
        assert vi(NO_SUCH_USER) in text, username
        assert "Đinh Văn Hà" not in text
    assert not Membership.objects.filter(commune=tule, user__in=[chairman_yenhoa, unit_staff, operator]).exists()

    # A citizen of no commune may be added (and the grant records who granted it).
    citizen = make_user("cong_dan")
    assert add(client, "cong_dan", Role.SPECIALIST).status_code == 302
    membership = Membership.objects.get(commune=tule, user=citizen)
    assert membership.history.latest().history_user == admin_tule


def test_the_list_and_search_do_not_show_other_communes_users(db, tule, admin_tule, chairman_yenhoa, client_for):
    client = client_for(HOST, admin_tule)
    page = client.get(CHANGELIST, {"q": "ct_yenhoa"}).content.decode()
    assert "Đinh Văn Hà" not in page and "/admin/communes/membership/" in page
    # No autocomplete of users on the commune's site.
    auto = client.get("/admin/autocomplete/", {"app_label": "communes", "model_name": "membership",
                                                "field_name": "user", "term": "ct_"})
    assert auto.status_code in (403, 404) and b"ct_yenhoa" not in auto.content


def test_a_user_field_of_the_commune_admin_offers_only_this_communes_members(
        db, tule, admin_tule, chairman_yenhoa, make_user, client_for):
    from django.test import RequestFactory
    from django_tenants.utils import tenant_context

    from core.admin_site import commune_admin
    from documents.models import SigningAuthority

    own = make_user("ct_tule", roles={tule: [Role.CHAIRMAN]})
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/admin/")
    request.user, request.commune, request.session = admin_tule, tule, SessionStore()
    with tenant_context(tule):
        form = commune_admin._registry[SigningAuthority].get_form(request)
        choices = form.base_fields["user"].queryset
        assert own in choices and chairman_yenhoa not in choices


def test_reset_of_an_official_who_also_works_elsewhere_is_refused(
        db, tule, admin_tule, chairman_yenhoa, client_for):
    # Added before the rule (or by the installation's operators): a member here and elsewhere.
    membership = Membership.objects.create(user=chairman_yenhoa, commune=tule, role=Role.SPECIALIST)
    client = client_for(HOST, admin_tule)
    response = client.post(CHANGELIST, {"action": "reset_second_factor_action", "_selected_action": [membership.pk]})
    assert response.status_code == 302
    assert TotpDevice.objects.filter(user=chairman_yenhoa).exists()
    assert not mail.outbox


def test_reset_of_an_own_member_needs_a_confirmed_session_and_is_logged_and_mailed(
        db, tule, admin_tule, make_user, client_for, caplog):
    official = make_user("vt_tule", roles={tule: [Role.CLERK]}, email="dung@tule.example")
    sf.start_enrolment(official)
    TotpDevice.objects.filter(user=official).update(confirmed=True)
    membership = Membership.objects.get(user=official, commune=tule)
    action = {"action": "reset_second_factor_action", "_selected_action": [membership.pk]}

    # Password only: the admin is not even reached.
    unconfirmed = client_for(HOST, admin_tule, second_factor=False).post(CHANGELIST, action)
    assert unconfirmed.status_code == 302 and unconfirmed["Location"].startswith("/accounts/2fa/")
    assert TotpDevice.objects.filter(user=official).exists()

    with caplog.at_level(logging.INFO, logger="communes.second_factor"), \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda func, *a, **k: func())
        response = client_for(HOST, admin_tule).post(CHANGELIST, action)
    assert response.status_code == 302
    assert not TotpDevice.objects.filter(user=official).exists()
    assert LogEntry.objects.filter(object_id=str(membership.pk), user=admin_tule).exists()
    assert any("reset the app of user" in record.getMessage() for record in caplog.records)
    deleted = TotpDevice.history.filter(user_id=official.pk, history_type="-").get()
    assert deleted.history_user == admin_tule
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dung@tule.example"]
    assert "http" not in mail.outbox[0].body


def test_reset_by_the_service_refuses_an_unconfirmed_session(db, tule, admin_tule, make_user):
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    official = make_user("vt2_tule", roles={tule: [Role.CLERK]})
    sf.start_enrolment(official)
    request = RequestFactory().post("/admin/")
    request.user, request.session = admin_tule, SessionStore()
    with pytest.raises(PermissionError):
        sf.reset_second_factor(request, official)
    assert TotpDevice.objects.filter(user=official).exists()


def test_the_installations_operator_resets_any_official_from_a_confirmed_session(
        db, chairman_yenhoa, make_user, client_for):
    operator = make_user("van_hanh_reset", is_superuser=True, is_staff=True)
    device = TotpDevice.objects.get(user=chairman_yenhoa)
    action = {"action": "reset", "_selected_action": [device.pk]}
    unconfirmed = client_for("localhost", operator, second_factor=False).post("/admin/communes/totpdevice/", action)
    assert unconfirmed["Location"].startswith("/accounts/2fa/")
    assert TotpDevice.objects.filter(user=chairman_yenhoa).exists()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda func, *a, **k: func())
        response = client_for("localhost", operator).post("/admin/communes/totpdevice/", action)
    assert response.status_code == 302
    assert not TotpDevice.objects.filter(user=chairman_yenhoa).exists()
    assert [m.to for m in mail.outbox] == [["ha@yenhoa.example"]]
    assert LogEntry.objects.filter(object_id=str(chairman_yenhoa.pk), user=operator).exists()


def test_the_role_of_an_official_who_also_works_elsewhere_is_not_raised_here(
        db, tule, admin_tule, chairman_yenhoa, client_for):
    membership = Membership.objects.create(user=chairman_yenhoa, commune=tule, role=Role.SPECIALIST)
    client = client_for(HOST, admin_tule)
    response = client.post(f"/admin/communes/membership/{membership.pk}/change/", {
        "role": Role.VICE_CHAIRMAN.value, "job_title": "", "is_active": "on",
    })
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.role == "specialist"
    # Ending it here stays the commune's business.
    response = client.post(f"/admin/communes/membership/{membership.pk}/change/", {
        "role": Role.SPECIALIST.value, "job_title": "", "is_active": "",
    })
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
