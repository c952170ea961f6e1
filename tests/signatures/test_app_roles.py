"""Every role × every signature endpoint (pages and API), with exact status codes."""
from __future__ import annotations

import pytest

from communes.models import Role
from signatures.permissions import ADMIN_ROLES, MODULE_ROLES, OVERSEER_ROLES, SIGNER_ROLES

ALL_ROLES = [None] + [r.value for r in Role]


@pytest.fixture
def setting(tule, in_commune, signer, clerk, stored_pdf, sign_request, run_job):
    """A signed job of the chairman (another user than the one testing) and the agency certificate."""
    job = sign_request(signer, stored_pdf)
    assert run_job(job) == "succeeded"
    return {"job": job, "agency": clerk.certificate, "personal": signer.certificate}


def expected(role):
    module = role in MODULE_ROLES
    signer = role in SIGNER_ROLES
    admin = role in ADMIN_ROLES
    overseer = role in OVERSEER_ROLES
    page = lambda ok, other=403: 200 if ok else other  # noqa: E731
    job_read = 200 if overseer else (404 if module else 403)
    return {
        "my page": page(module),
        "sign page": page(signer),
        "own import page": page(signer),
        "image upload POST (empty)": 400 if signer else 403,
        "commune page": page(admin),
        "import page": page(admin),
        "remote page": page(admin),
        "certificate page": 200 if admin else (404 if module else 403),
        "jobs page": page(module),
        "job page": job_read,
        # The job has finished: its progress panel leads to the job's page.
        "job progress": 302 if job_read == 200 else job_read,
        "job download": job_read,
        "API certificates": page(module),
        "API certificate": 200 if admin else (404 if module else 403),
        "API import (empty)": 400 if admin else 403,
        "API jobs": page(module),
        "API job": job_read,
        "API job progress": job_read,
        "API job download": job_read,
        "API sign (empty)": 400 if signer else 403,
        "API images": page(module),
        "API image upload (empty)": 400 if module else 403,
        "deactivate POST": 302 if admin else 403,
        "API deactivate": 200 if admin else 403,
    }


def run_all(client, setting):
    job, agency, personal = setting["job"].pk, setting["agency"].pk, setting["personal"].pk
    return {
        "my page": client.get("/signatures/").status_code,
        "sign page": client.get("/signatures/sign/").status_code,
        "own import page": client.get("/signatures/import/").status_code,
        "image upload POST (empty)": client.post("/signatures/image/", {}).status_code,
        "commune page": client.get("/signatures/commune/").status_code,
        "import page": client.get("/signatures/commune/import/").status_code,
        "remote page": client.get("/signatures/commune/remote/").status_code,
        "certificate page": client.get(f"/signatures/certificates/{agency}/").status_code,
        "jobs page": client.get("/signatures/jobs/").status_code,
        "job page": client.get(f"/signatures/jobs/{job}/").status_code,
        "job progress": client.get(f"/signatures/jobs/{job}/progress/").status_code,
        "job download": client.get(f"/signatures/jobs/{job}/download/").status_code,
        "API certificates": client.get("/api/v1/signatures/certificates/").status_code,
        "API certificate": client.get(f"/api/v1/signatures/certificates/{agency}/").status_code,
        "API import (empty)": client.post("/api/v1/signatures/certificates/", {}).status_code,
        "API jobs": client.get("/api/v1/signatures/jobs/").status_code,
        "API job": client.get(f"/api/v1/signatures/jobs/{job}/").status_code,
        "API job progress": client.get(f"/api/v1/signatures/jobs/{job}/progress/").status_code,
        "API job download": client.get(f"/api/v1/signatures/jobs/{job}/download/").status_code,
        "API sign (empty)": client.post("/api/v1/signatures/jobs/", {}).status_code,
        "API images": client.get("/api/v1/signatures/images/").status_code,
        "API image upload (empty)": client.post("/api/v1/signatures/images/", {}).status_code,
        "deactivate POST": client.post(f"/signatures/certificates/{personal}/deactivate/").status_code,
        "API deactivate": client.post(f"/api/v1/signatures/certificates/{agency}/deactivate/").status_code,
    }


@pytest.mark.parametrize("role", ALL_ROLES, ids=lambda r: r or "no-membership")
def test_role_matrix(role, setting, make_user, tule, client_for):
    user = make_user(f"matrix_{role or 'none'}", roles={tule: [role]} if role else {})
    assert run_all(client_for("tule.localhost", user), setting) == expected(role)


def test_role_lists_are_as_specified():
    assert {str(r) for r in MODULE_ROLES} == {
        "chairman", "vice_chairman", "clerk", "onestop_officer", "specialist", "commune_admin", "school_staff"}
    assert {str(r) for r in SIGNER_ROLES} == {"chairman", "vice_chairman", "clerk", "onestop_officer", "specialist",
                                             "school_staff"}
    assert {str(r) for r in ADMIN_ROLES} == {"commune_admin"}
    assert {str(r) for r in OVERSEER_ROLES} == {"chairman", "vice_chairman", "clerk", "commune_admin"}


def test_owner_sees_own_job_and_certificate(setting, signer, client_for):
    client = client_for("tule.localhost", signer.user)
    job = setting["job"]
    assert client.get(f"/signatures/jobs/{job.pk}/").status_code == 200
    response = client.get(f"/signatures/jobs/{job.pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert client.get(f"/signatures/certificates/{setting['personal'].pk}/").status_code == 200
    assert client.get(f"/signatures/certificates/{setting['agency'].pk}/").status_code == 404
    body = client.get("/api/v1/signatures/certificates/").json()
    assert [c["id"] for c in body["results"]] == [setting["personal"].pk]


def test_anonymous(setting, client_for):
    client = client_for("tule.localhost")
    job = setting["job"].pk
    for url in ["/signatures/", "/signatures/sign/", "/signatures/commune/", f"/signatures/jobs/{job}/",
                f"/signatures/jobs/{job}/download/", f"/signatures/certificates/{setting['agency'].pk}/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for url in ["/api/v1/signatures/certificates/", f"/api/v1/signatures/jobs/{job}/", "/api/v1/signatures/images/"]:
        assert client.get(url).status_code == 401, url
    assert client.post("/api/v1/signatures/certificates/", {}).status_code == 401


def test_other_commune_and_supervisors_are_refused(setting, make_user, yenhoa, client_for):
    from communes.models import SupervisingUnit

    clerk_elsewhere = make_user("clerk_yh", roles={yenhoa: [Role.CLERK]})
    client = client_for("tule.localhost", clerk_elsewhere)
    assert client.get("/signatures/").status_code == 403
    assert client.get("/api/v1/signatures/jobs/").status_code == 403
    staff = make_user("staff_15", units=[SupervisingUnit.objects.get(code="15")])
    national = client_for("localhost", staff)
    assert national.get("/api/v1/communes/04630/signatures/certificates/").status_code == 403
    assert national.get(f"/api/v1/communes/04630/signatures/jobs/{setting['job'].pk}/").status_code == 403


def test_module_on_officials_home(make_user, tule, client_for):
    page = client_for("tule.localhost", make_user("ct", roles={tule: [Role.CHAIRMAN]})).get("/")
    assert "/signatures/" in page.content.decode()
    page = client_for("tule.localhost", make_user("hs", roles={tule: [Role.HEALTH_STAFF]})).get("/")
    assert "/signatures/" not in page.content.decode()
