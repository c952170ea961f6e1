"""Every role × every documents endpoint (pages and API), with exact status codes.

The caller is a fresh official of the role: not the drafter of the documents and not their
handler, so object rules show too (a specialist does not see others' drafts: 404).
"""
import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from communes.models import Role
from documents import permissions, services
from documents.models import IncomingDocument

from .conftest import make_pdf, upload

ALL_ROLES = [None] + [r.value for r in Role]
DOC = {"clerk", "chairman", "vice_chairman", "specialist"}
SEE = {"clerk", "chairman", "vice_chairman"}
LEADERS = {"chairman", "vice_chairman"}
MODULE = DOC | {"commune_admin"}


def allowed(roles, ok, otherwise=403):
    return lambda role: ok if role in roles else otherwise


def see(ok, specialist=404):
    """Readers see it; a specialist who neither drafted nor handles it gets 404; others 403."""
    return lambda role: ok if role in SEE else (specialist if role == "specialist" else 403)


def only(roles, ok, *, specialist=None):
    def expected(role):
        if role in roles:
            return ok
        if role == "specialist" and specialist is not None:
            return specialist
        return 403
    return expected


@pytest.fixture
def world(in_tule, people, doc_types, authorities, draft_factory, tule):
    incoming = services.register_incoming(IncomingDocument(
        arrived_at=timezone.now() - datetime.timedelta(hours=1), sender_org="Sở Y tế", subject="V/v tiêm chủng",
        doc_type=doc_types["cong-van"]), user=people["clerk"], scan=upload(make_pdf()))
    draft = draft_factory()
    attachment = services.add_attachment(draft, user=people["specialist"], upload=upload(make_pdf()), title="Phụ lục")
    review = services.submit(draft_factory(subject="Về việc thứ hai"), user=people["specialist"])
    return {"incoming": incoming, "draft": draft, "attachment": attachment, "review": review,
            "authority": authorities["chairman"], "types": doc_types}


def endpoints(world, people):
    inc, draft, review, att = world["incoming"].pk, world["draft"].pk, world["review"].pk, world["attachment"].pk
    qd = world["types"]["quyet-dinh"].pk
    chairman, author = people["chairman"].pk, people["specialist"].pk
    json = {"content_type": "application/json"}
    return [
        # --- pages ---
        ("home", lambda c: c.get("/documents/"), allowed(MODULE, 200)),
        ("notices read", lambda c: c.post("/documents/notices/read/"), allowed(DOC, 302)),
        ("incoming list", lambda c: c.get("/documents/incoming/"), allowed(DOC, 200)),
        ("incoming new", lambda c: c.get("/documents/incoming/new/"), allowed({"clerk"}, 200)),
        ("incoming new POST", lambda c: c.post("/documents/incoming/new/", {}), allowed({"clerk"}, 400)),
        ("incoming detail", lambda c: c.get(f"/documents/incoming/{inc}/"), see(200)),
        ("incoming edit", lambda c: c.get(f"/documents/incoming/{inc}/edit/"), allowed({"clerk"}, 200)),
        ("incoming scan", lambda c: c.get(f"/documents/incoming/{inc}/scan.pdf"), see(200)),
        ("incoming present", lambda c: c.post(f"/documents/incoming/{inc}/present/", {"leader": chairman}),
         see(302)),
        ("incoming assign", lambda c: c.post(f"/documents/incoming/{inc}/assign/", {"lead_handler": author}),
         lambda r: 302 if r in LEADERS else (404 if r == "specialist" else 403)),
        ("incoming complete", lambda c: c.post(f"/documents/incoming/{inc}/complete/", {"note": "x"}), see(403)),
        ("outgoing list", lambda c: c.get("/documents/outgoing/"), allowed(DOC, 200)),
        ("outgoing new", lambda c: c.get("/documents/outgoing/new/"), allowed({"clerk", "specialist"}, 200)),
        ("outgoing detail", lambda c: c.get(f"/documents/outgoing/{draft}/"), see(200)),
        ("outgoing edit", lambda c: c.get(f"/documents/outgoing/{draft}/edit/"), only({"clerk"}, 200, specialist=404)),
        ("outgoing preview", lambda c: c.get(f"/documents/outgoing/{draft}/preview.pdf"), see(200)),
        ("outgoing file", lambda c: c.get(f"/documents/outgoing/{review}/files/draft.pdf"), see(200)),
        ("outgoing attachment", lambda c: c.get(f"/documents/outgoing/{draft}/attachments/{att}/"), see(200)),
        ("outgoing submit", lambda c: c.post(f"/documents/outgoing/{draft}/submit/"),
         lambda r: 302 if r == "clerk" else (404 if r == "specialist" else 403)),
        ("outgoing approve", lambda c: c.post(f"/documents/outgoing/{review}/approve/", {"note": ""}),
         lambda r: 302 if r in LEADERS else (404 if r == "specialist" else 403)),
        ("attachment remove", lambda c: c.post(f"/documents/outgoing/{draft}/attachments/{att}/remove/"),
         only({"clerk"}, 302, specialist=404)),
        ("register page", lambda c: c.get("/documents/registers/incoming/"), allowed(SEE, 200)),
        ("register pdf", lambda c: c.get("/documents/registers/outgoing.pdf"), allowed(SEE, 200)),
        ("register xlsx", lambda c: c.get("/documents/registers/incoming.xlsx"), allowed(SEE, 200)),
        ("settings page", lambda c: c.get("/documents/settings/"), allowed({"commune_admin"}, 200)),
        ("authority new", lambda c: c.post("/documents/settings/authorities/new/", {}), allowed({"commune_admin"}, 400)),
        ("authority end", lambda c: c.post(f"/documents/settings/authorities/{world['authority'].pk}/end/"),
         allowed({"commune_admin"}, 302)),
        # --- API ---
        ("API types", lambda c: c.get("/api/v1/documents/types/"), allowed(MODULE, 200)),
        ("API incoming list", lambda c: c.get("/api/v1/documents/incoming/"), allowed(DOC, 200)),
        ("API incoming detail", lambda c: c.get(f"/api/v1/documents/incoming/{inc}/"), see(200)),
        ("API incoming create", lambda c: c.post("/api/v1/documents/incoming/", {
            "arrived_at": "03/04/2026 08:00", "sender_org": "Sở Y tế", "subject": "V/v phòng dịch"}, **json),
         allowed({"clerk"}, 201)),
        ("API incoming patch", lambda c: c.patch(f"/api/v1/documents/incoming/{inc}/", {"note": "bổ sung"}, **json),
         allowed({"clerk"}, 200)),
        ("API incoming present", lambda c: c.post(f"/api/v1/documents/incoming/{inc}/present/", {"leader": chairman}, **json),
         allowed(SEE, 200)),
        ("API incoming assign", lambda c: c.post(f"/api/v1/documents/incoming/{inc}/assign/", {"lead_handler": author}, **json),
         allowed(LEADERS, 200)),
        ("API incoming register", lambda c: c.post(f"/api/v1/documents/incoming/{inc}/register/"), allowed({"clerk"}, 409)),
        ("API incoming return", lambda c: c.post(f"/api/v1/documents/incoming/{inc}/return/", {"reason": "sai"}, **json),
         allowed({"clerk"}, 409)),
        ("API incoming start", lambda c: c.post(f"/api/v1/documents/incoming/{inc}/start/"), see(403)),
        ("API incoming notes", lambda c: c.post(f"/api/v1/documents/incoming/{inc}/notes/", {"text": "x"}, **json), see(409)),
        ("API incoming forward", lambda c: c.post(f"/api/v1/documents/incoming/{inc}/forward/", {"to_user": author}, **json),
         see(403)),
        ("API incoming complete", lambda c: c.post(f"/api/v1/documents/incoming/{inc}/complete/", {"note": "x"}, **json),
         see(403)),
        ("API incoming scan", lambda c: c.get(f"/api/v1/documents/incoming/{inc}/scan/"), see(200)),
        ("API outgoing list", lambda c: c.get("/api/v1/documents/outgoing/"), allowed(DOC, 200)),
        ("API outgoing detail", lambda c: c.get(f"/api/v1/documents/outgoing/{draft}/"), see(200)),
        ("API outgoing create", lambda c: c.post("/api/v1/documents/outgoing/", {"doc_type": qd, "subject": "Dự thảo"}, **json),
         allowed({"clerk", "specialist"}, 201)),
        ("API outgoing patch", lambda c: c.patch(f"/api/v1/documents/outgoing/{draft}/", {"subject": "Sửa"}, **json),
         only({"clerk"}, 200, specialist=404)),
        ("API draft pdf", lambda c: c.post(f"/api/v1/documents/outgoing/{draft}/draft-pdf/", {"file": upload(make_pdf())}),
         only({"clerk"}, 200, specialist=404)),
        ("API attachment", lambda c: c.post(f"/api/v1/documents/outgoing/{draft}/attachments/", {"file": upload(make_pdf())}),
         only({"clerk"}, 201, specialist=404)),
        ("API submit", lambda c: c.post(f"/api/v1/documents/outgoing/{draft}/submit/"), only({"clerk"}, 200, specialist=404)),
        ("API approve", lambda c: c.post(f"/api/v1/documents/outgoing/{review}/approve/", {}, **json), allowed(LEADERS, 200)),
        ("API return", lambda c: c.post(f"/api/v1/documents/outgoing/{review}/return/", {"reason": "sửa"}, **json),
         allowed(LEADERS, 200)),
        ("API sign", lambda c: c.post(f"/api/v1/documents/outgoing/{review}/sign/", {"pin": "1"}, **json), allowed(LEADERS, 409)),
        ("API issue", lambda c: c.post(f"/api/v1/documents/outgoing/{review}/issue/", {"pin": "1"}, **json),
         allowed({"clerk"}, 409)),
        ("API agency sign", lambda c: c.post(f"/api/v1/documents/outgoing/{review}/agency-sign/", {}, **json),
         allowed({"clerk"}, 409)),
        ("API dispatch", lambda c: c.post(f"/api/v1/documents/outgoing/{review}/dispatch/", {}, **json), allowed({"clerk"}, 409)),
        ("API archive", lambda c: c.post(f"/api/v1/documents/outgoing/{review}/archive/", {"retention_years": 5}, **json),
         allowed({"clerk"}, 409)),
        ("API withdraw", lambda c: c.post(f"/api/v1/documents/outgoing/{review}/withdraw/", {"reason": "hủy"}, **json),
         allowed(SEE, 200)),
        ("API preview", lambda c: c.get(f"/api/v1/documents/outgoing/{draft}/preview/"), see(200)),
        ("API download", lambda c: c.get(f"/api/v1/documents/outgoing/{review}/download/?kind=draft"), see(200)),
        ("API register", lambda c: c.get("/api/v1/documents/registers/outgoing/"), allowed(SEE, 200)),
        ("API register pdf", lambda c: c.get("/api/v1/documents/registers/incoming/pdf/"), allowed(SEE, 200)),
        ("API register xlsx", lambda c: c.get("/api/v1/documents/registers/outgoing/xlsx/"), allowed(SEE, 200)),
        ("API settings", lambda c: c.get("/api/v1/documents/settings/"), allowed({"commune_admin"}, 200)),
        ("API settings patch", lambda c: c.patch("/api/v1/documents/settings/policy/", {"due_soon_days": 3}, **json),
         allowed({"commune_admin"}, 200)),
        ("API authorities", lambda c: c.get("/api/v1/documents/authorities/"), allowed({"commune_admin"}, 200)),
        ("API authority create", lambda c: c.post("/api/v1/documents/authorities/", {
            "user": chairman, "document_types": [qd], "prefix": "TM.", "title": "CHỦ TỊCH", "collective": "ỦY BAN NHÂN DÂN",
            "valid_from": "03/04/2026"}, **json), allowed({"commune_admin"}, 201)),
        ("API authority end", lambda c: c.post(f"/api/v1/documents/authorities/{world['authority'].pk}/end/"),
         allowed({"commune_admin"}, 200)),
        ("API notices", lambda c: c.get("/api/v1/documents/notices/"), allowed(DOC, 200)),
        ("API to unit", lambda c: c.get("/api/v1/documents/exchange/to-unit/"), allowed(set(), 200)),
        ("API from unit", lambda c: c.post("/api/v1/documents/exchange/from-unit/", {"subject": "x"}, **json),
         allowed(set(), 201)),
    ]


@pytest.mark.parametrize("role", ALL_ROLES, ids=lambda r: r or "no-membership")
def test_role_matrix(role, world, people, make_user, client_for, tule):
    user = make_user(f"matrix_{role or 'none'}", roles={tule: [role]} if role else {})
    client = client_for("tule.localhost", user)
    got, want = {}, {}
    for name, call, expected in endpoints(world, people):
        got[name] = isolated(call, client)
        want[name] = expected(role)
    assert got == want


def isolated(call, client) -> int:
    """The status of one call, whose writes are then undone (each endpoint sees the same world)."""
    savepoint = transaction.savepoint()
    try:
        return call(client).status_code
    finally:
        transaction.savepoint_rollback(savepoint)


def test_anonymous(world, people, client_for):
    client = client_for("tule.localhost")
    for name, call, _expected in endpoints(world, people):
        status = isolated(call, client)
        if name.startswith("API"):
            assert status == 401, name
        else:
            assert status == 302, name


def test_role_lists_are_as_specified():
    assert permissions.ACTION_ROLES["incoming.register"] == {"clerk"}
    assert permissions.ACTION_ROLES["outgoing.issue"] == {"clerk"} == permissions.ACTION_ROLES["outgoing.dispatch"]
    assert permissions.ACTION_ROLES["outgoing.sign"] == LEADERS == permissions.ACTION_ROLES["incoming.assign"]
    assert permissions.ACTION_ROLES["outgoing.draft"] == {"specialist", "clerk"}
    assert permissions.ACTION_ROLES["settings.manage"] == {"commune_admin"}
    assert permissions.MODULE_ROLES == MODULE
