"""The admin sites: one login page for everyone, the second factor for the admin, nobody grants a
role to themselves, and the chairman sees every role grant."""
from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.utils.translation import gettext, override

from communes.models import Membership, Role
from core.admin_site import commune_admin, national_admin

HOST = "tule.localhost"
PASSWORD = "Mat-khau-2026!"
SELF_GRANT = "Nobody grants a role to themselves: another administrator must add or change your own role."


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


@pytest.fixture
def admin_tule(make_user, tule):
    return make_user("qt_login", roles={tule: [Role.COMMUNE_ADMIN]}, full_name="Vũ Thị Mai")


@pytest.mark.parametrize("host", [HOST, "localhost"])
def test_the_admins_login_page_is_the_one_login_page(db, admin_tule, make_user, host):
    make_user("root_login", is_superuser=True, is_staff=True)
    client = Client(HTTP_HOST=host)
    page = client.get("/admin/login/?next=/admin/")
    assert page.status_code == 302 and page["Location"] == "/accounts/login/?next=/admin/"
    for username in ("qt_login", "root_login"):
        posted = client.post("/admin/login/", {"username": username, "password": PASSWORD})
        assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
        assert "_auth_user_id" not in client.session
    # Through the one login page the password alone does not log an administrator in.
    response = client.post("/accounts/login/?next=/admin/", {"username": "qt_login", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    assert "_auth_user_id" not in client.session


def test_the_admin_sites_ask_for_a_confirmed_session(db, tule, admin_tule, make_user, client_for):
    operator = make_user("root_admin", is_superuser=True, is_staff=True)
    assert client_for(HOST, admin_tule).get("/admin/").status_code == 200
    assert client_for("localhost", operator).get("/admin/").status_code == 200
    for host, user in ((HOST, admin_tule), ("localhost", operator)):
        response = client_for(host, user, second_factor=False).get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    # The sites' own rule, whatever the middleware: no verified device, no admin.
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/admin/")
    request.user, request.session, request.commune, request.is_national = admin_tule, SessionStore(), tule, False
    assert not commune_admin.has_permission(request)
    request.user, request.is_national, request.commune = operator, True, None
    assert not national_admin.has_permission(request)


def test_a_commune_admin_cannot_grant_itself_a_role(db, tule, admin_tule, client_for):
    client = client_for(HOST, admin_tule)
    response = client.post("/admin/communes/membership/add/", {
        "username": "qt_login", "role": Role.VICE_CHAIRMAN.value, "job_title": "", "is_active": "on",
    })
    assert response.status_code == 200 and vi(SELF_GRANT) in response.content.decode().replace("&#x27;", "'")
    assert set(Membership.objects.filter(user=admin_tule).values_list("role", flat=True)) == {"commune_admin"}
    own = Membership.objects.get(user=admin_tule)
    response = client.post(f"/admin/communes/membership/{own.pk}/change/", {
        "role": Role.CHAIRMAN.value, "job_title": "", "is_active": "on",
    })
    assert response.status_code == 200 and vi(SELF_GRANT) in response.content.decode().replace("&#x27;", "'")
    own.refresh_from_db()
    assert own.role == "commune_admin"


def test_a_national_admin_cannot_grant_itself_a_role(db, tule, make_user, client_for):
    operator = make_user("root_grant", is_superuser=True, is_staff=True)
    client = client_for("localhost", operator)
    response = client.post("/admin/communes/membership/add/", {
        "user": operator.pk, "commune": tule.pk, "role": Role.CHAIRMAN.value, "job_title": "", "is_active": "on",
    })
    assert response.status_code == 200 and vi(SELF_GRANT) in response.content.decode().replace("&#x27;", "'")
    assert not Membership.objects.filter(user=operator).exists()
    other = make_user("future_chair")
    response = client.post("/admin/communes/membership/add/", {
        "user": other.pk, "commune": tule.pk, "role": Role.CHAIRMAN.value, "job_title": "", "is_active": "on",
    })
    assert response.status_code == 302
    assert Membership.objects.get(user=other).history.latest().history_user == operator


def test_the_chairman_sees_the_role_grants(db, tule, yenhoa, admin_tule, make_user, client_for):
    chairman = make_user("ct_grants", roles={tule: [Role.CHAIRMAN]}, full_name="Lò Văn Thành")
    make_user("cv_grants", full_name="Trần Văn Lâm")
    make_user("yh_member", roles={yenhoa: [Role.CLERK]}, full_name="Người Xã Khác")
    response = client_for(HOST, admin_tule).post("/admin/communes/membership/add/", {
        "username": "cv_grants", "role": Role.VICE_CHAIRMAN.value, "job_title": "", "is_active": "on",
    })
    assert response.status_code == 302
    page = client_for(HOST, chairman).get("/").content.decode()
    section = page.split('class="role-changes"')[1]
    assert "Vũ Thị Mai" in section and "Trần Văn Lâm" in section and vi("Vice-chairman") in section
    assert "Người Xã Khác" not in section  # another commune's grants are not this chairman's
    # Other officials do not see the list.
    specialist = make_user("cv_other", roles={tule: [Role.SPECIALIST]})
    assert 'class="role-changes"' not in client_for(HOST, specialist).get("/").content.decode()
