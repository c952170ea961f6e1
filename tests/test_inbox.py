"""The to-do inbox ("Việc cần làm"): each app's lines per role, counted right, never counting
another commune's items; links that open the item (or exactly the items of the line); the
officials' home and the modules' overview pages show it, in a bounded number of queries."""
from __future__ import annotations

import datetime
import re

import pytest
from django.test import RequestFactory
from django.utils import timezone
from django_tenants.utils import tenant_context

from communes.models import Role
from communes.modules import inbox_for

ROLES = (Role.CHAIRMAN, Role.VICE_CHAIRMAN, Role.CLERK, Role.SPECIALIST, Role.ONESTOP_OFFICER, Role.RADIO_OPERATOR,
         Role.COMMUNE_ADMIN)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def officials(tule, yenhoa, make_user):
    """One official per role in Tú Lệ and in Yên Hòa, a second specialist in Tú Lệ."""
    out = {}
    for commune, prefix in ((tule, "tl"), (yenhoa, "yh")):
        for role in ROLES:
            out[f"{prefix}.{role.value}"] = make_user(f"ib_{prefix}_{role.value}", roles={commune: [role]},
                                                      full_name=f"{prefix} {role.label}")
    out["tl.specialist2"] = make_user("ib_tl_specialist2", roles={tule: [Role.SPECIALIST]}, full_name="Đinh Văn Khánh")
    return out


def _documents(prefix: str, people: dict) -> dict:
    """Documents at every step that waits for someone (in the current schema)."""
    from documents.models import DocumentType, IncomingDocument, OutgoingDocument, SigningAuthority

    doc_type = DocumentType.objects.filter(code="quyet-dinh").first() or DocumentType.objects.first()
    chairman, vice = people[f"{prefix}.chairman"], people[f"{prefix}.vice_chairman"]
    specialist = people[f"{prefix}.specialist"]
    authority = {}
    for user in (chairman, vice):
        authority[user.pk] = SigningAuthority.objects.create(user=user, title="CHỦ TỊCH",
                                                             valid_from=datetime.date(2020, 1, 1))

    def outgoing(state, **fields):
        return OutgoingDocument.objects.create(doc_type=doc_type, subject=f"Văn bản {state}", state=state,
                                               created_by=specialist, **fields)

    made = {
        "in_review": [outgoing("in_review"), outgoing("in_review")],
        "to_sign_chairman": outgoing("approved", authority=authority[chairman.pk]),
        "to_sign_vice": outgoing("approved", authority=authority[vice.pk]),
        "signed": outgoing("signed", authority=authority[chairman.pk]),
        "numbered": outgoing("numbered"),
        "issued": [outgoing("issued"), outgoing("issued")],
        "returned": outgoing("draft", review_note="Sửa lại căn cứ."),
        "draft": outgoing("draft"),
    }
    now = timezone.now()

    def incoming(state, **fields):
        return IncomingDocument.objects.create(state=state, arrived_at=now - datetime.timedelta(days=3),
                                               sender_org="UBND tỉnh", subject=f"Công văn {state}", **fields)

    made.update({
        "received": incoming("received", source="electronic"),
        "registered": incoming("registered"),
        "presented": incoming("presented", presented_to=chairman),
        "overdue": incoming("assigned", lead_handler=specialist, deadline=now - datetime.timedelta(days=1)),
        "due_soon": incoming("in_progress", lead_handler=specialist, deadline=now + datetime.timedelta(days=1)),
        "later": incoming("assigned", lead_handler=people.get(f"{prefix}.specialist2", specialist),
                          deadline=now + datetime.timedelta(days=30)),
    })
    return made


def _dossiers(prefix: str, people: dict) -> dict:
    from onestop.models import Dossier, Procedure

    procedure = Procedure.objects.filter(is_current=True, steps__kind="sign").distinct().first()
    steps = {step.kind: step for step in procedure.steps.all()}
    process = steps.get("process") or steps["sign"]
    now = timezone.now()
    counter = iter(range(1, 100))

    def dossier(state, **fields):
        code = None if state == "submitted" else f"{prefix.upper()}-{next(counter):04d}"
        return Dossier.objects.create(procedure=procedure, channel="online", state=state, code=code,
                                      applicant_name="Hoàng Văn Nam", **fields)

    end_of_today = datetime.datetime.combine(timezone.localdate(), datetime.time.max, timezone.get_current_timezone())
    return {
        "submitted": [dossier("submitted"), dossier("submitted")],
        "to_sign": dossier("in_progress", current_step=steps["sign"], due_at=now + datetime.timedelta(days=3)),
        "overdue": dossier("in_progress", current_step=process, current_handler=people[f"{prefix}.specialist"],
                           due_at=now - datetime.timedelta(hours=2)),
        "due_today": dossier("received", current_step=process, current_handler=people[f"{prefix}.specialist"],
                             due_at=min(now + datetime.timedelta(minutes=5), end_of_today)),
        "to_seal": dossier("in_progress", current_step=steps["sign"], leader_signed_pdf="x.pdf",
                           due_at=now + datetime.timedelta(days=2)),
        "to_return": dossier("result_ready", due_at=now + datetime.timedelta(days=2)),
    }


def _radio(prefix: str, people: dict) -> dict:
    from broadcasting.models import Bulletin, Cluster, Playlist
    from population.models import Village

    today = timezone.localdate()
    village = Village.objects.create(name=f"Bản Thử Việc {prefix}")
    cluster = Cluster.objects.create(name="Cụm loa trung tâm", village=village)
    starts = timezone.now() + datetime.timedelta(days=1)
    Playlist.objects.create(cluster=cluster, date=timezone.localdate(starts), starts_at=starts,
                            ends_at=starts + datetime.timedelta(hours=1), built_at=timezone.now(),
                            overflow=[{"bulletin": 1, "title": "Dự báo thời tiết", "reason": "slot_full"}])
    Playlist.objects.create(cluster=cluster, date=timezone.localdate(starts), starts_at=starts + datetime.timedelta(hours=3),
                            ends_at=starts + datetime.timedelta(hours=4), built_at=timezone.now())

    def bulletin(state):
        return Bulletin.objects.create(title=f"Bản tin {state}", text="Thông báo.", state=state, valid_from=today,
                                       valid_until=today, created_by=people[f"{prefix}.radio_operator"])

    return {"submitted": bulletin("submitted"), "rejected": bulletin("rejected"), "approved": bulletin("approved"),
            "cluster": cluster, "starts": starts}


@pytest.fixture
def work(tule, yenhoa, officials):
    """The same work waits in both communes; the tests read Tú Lệ's."""
    made = {}
    for commune, prefix in ((tule, "tl"), (yenhoa, "yh")):
        with tenant_context(commune):
            made[prefix] = {"documents": _documents(prefix, officials), "onestop": _dossiers(prefix, officials),
                            "radio": _radio(prefix, officials)}
    return made["tl"]


def lines_of(commune, user, module=None) -> dict:
    request = RequestFactory().get("/", HTTP_HOST="tule.localhost")
    request.user, request.commune = user, commune
    with tenant_context(commune):
        return {line.key: line for line in inbox_for(request, module=module)}


def counts(lines: dict) -> dict:
    return {key: line.count for key, line in lines.items()}


def test_each_role_sees_what_waits_for_it_and_nothing_of_another_commune(tule, officials, work):
    docs, dossiers, radio = work["documents"], work["onestop"], work["radio"]
    chairman = lines_of(tule, officials["tl.chairman"])
    assert counts(chairman) == {
        "documents.outgoing.to_review": 2, "documents.outgoing.to_sign": 1, "documents.incoming.to_assign": 1,
        "documents.incoming.overdue": 1, "documents.incoming.due_soon": 1,
        "onestop.to_sign": 1, "onestop.overdue": 1, "onestop.due_today": 1,
        "broadcasting.to_approve": 1,
    }
    # One item: the line opens it; several: the list filtered to exactly them.
    assert chairman["documents.outgoing.to_sign"].url == f"/documents/outgoing/{docs['to_sign_chairman'].pk}/"
    assert chairman["documents.outgoing.to_review"].url == "/documents/outgoing/?view=to_review"
    assert chairman["documents.incoming.to_assign"].url == f"/documents/incoming/{docs['presented'].pk}/"
    assert chairman["onestop.to_sign"].url == f"/onestop/dossiers/{dossiers['to_sign'].pk}/"
    assert chairman["broadcasting.to_approve"].url == f"/radio/bulletins/{radio['submitted'].pk}/"
    assert chairman["documents.incoming.overdue"].severity == "overdue"
    # Overdue first, then due soon.
    assert [line.severity for line in chairman.values()] == sorted(
        (line.severity for line in chairman.values()), key=["overdue", "due_soon", "normal"].index)

    vice = counts(lines_of(tule, officials["tl.vice_chairman"]))
    assert vice["documents.outgoing.to_sign"] == 1 and "documents.incoming.to_assign" not in vice

    clerk = lines_of(tule, officials["tl.clerk"])
    assert counts(clerk) == {
        "documents.outgoing.to_issue": 1, "documents.outgoing.to_seal": 1, "documents.outgoing.to_dispatch": 2,
        "documents.incoming.to_register": 1, "documents.incoming.to_present": 1,
        "documents.incoming.overdue": 1, "documents.incoming.due_soon": 1, "onestop.to_seal": 1,
    }
    assert clerk["documents.outgoing.to_dispatch"].url == "/documents/outgoing/?view=to_dispatch"
    assert clerk["documents.outgoing.to_issue"].url == f"/documents/outgoing/{docs['signed'].pk}/"

    specialist = counts(lines_of(tule, officials["tl.specialist"]))
    assert specialist == {
        "documents.outgoing.returned": 1, "documents.incoming.to_handle": 2, "documents.incoming.overdue": 1,
        "documents.incoming.due_soon": 1, "onestop.overdue": 1, "onestop.due_today": 1, "onestop.to_hand_on": 2,
    }
    # The other specialist handles one document, due in a month: nothing overdue for them.
    assert counts(lines_of(tule, officials["tl.specialist2"])) == {"documents.incoming.to_handle": 1}

    officer = lines_of(tule, officials["tl.onestop_officer"])
    assert counts(officer) == {"onestop.online_queue": 2, "onestop.to_return": 1, "onestop.overdue": 1,
                               "onestop.due_today": 1}
    assert officer["onestop.online_queue"].url == "/onestop/online/"
    assert officer["onestop.to_return"].url == f"/onestop/dossiers/{dossiers['to_return'].pk}/"

    operator = lines_of(tule, officials["tl.radio_operator"])
    assert counts(operator) == {"broadcasting.sent_back": 1, "broadcasting.slot_warnings": 1}
    day = timezone.localtime(radio["starts"]).strftime("%d/%m/%Y")
    assert operator["broadcasting.slot_warnings"].url == f"/radio/week/?day={day}&cluster={radio['cluster'].pk}"

    # A module's overview keeps its own lines.
    assert set(lines_of(tule, officials["tl.chairman"], module="onestop")) == {
        "onestop.to_sign", "onestop.overdue", "onestop.due_today"}


def test_nobody_without_a_role_has_lines_and_nothing_waiting_says_so(tule, yenhoa, officials, work, client_for):
    # Yên Hòa's chairman holds no role in Tú Lệ: nothing of Tú Lệ's, on Tú Lệ's host.
    assert lines_of(tule, officials["yh.chairman"]) == {}
    admin_lines = counts(lines_of(tule, officials["tl.commune_admin"]))
    assert admin_lines == {"broadcasting.slot_warnings": 1}
    page = client_for("tule.localhost", officials["tl.specialist2"]).get("/onestop/").content.decode()
    assert "Không có việc nào đang chờ bạn" in page


def test_the_lists_behind_the_lines_show_exactly_the_counted_items(tule, officials, work, client_for):
    docs, dossiers = work["documents"], work["onestop"]
    clerk = client_for("tule.localhost", officials["tl.clerk"])
    page = clerk.get("/documents/outgoing/?view=to_dispatch").content.decode()
    shown = {int(pk) for pk in re.findall(r'href="/documents/outgoing/(\d+)/"', page)}
    assert shown == {doc.pk for doc in docs["issued"]}
    chairman = client_for("tule.localhost", officials["tl.chairman"])
    page = chairman.get("/documents/outgoing/?view=to_review").content.decode()
    assert {int(pk) for pk in re.findall(r'href="/documents/outgoing/(\d+)/"', page)} == {
        doc.pk for doc in docs["in_review"]}
    specialist = client_for("tule.localhost", officials["tl.specialist"])
    page = specialist.get("/documents/incoming/?view=to_handle").content.decode()
    assert {int(pk) for pk in re.findall(r'href="/documents/incoming/(\d+)/"', page)} == {
        docs["overdue"].pk, docs["due_soon"].pk}
    page = specialist.get("/onestop/dossiers/?view=to_hand_on").content.decode()
    assert {int(pk) for pk in re.findall(r'href="/onestop/dossiers/(\d+)/"', page)} == {
        dossiers["overdue"].pk, dossiers["due_today"].pk}
    # A line that is not the reader's shows nothing.
    page = specialist.get("/documents/outgoing/?view=to_dispatch").content.decode()
    assert not re.findall(r'href="/documents/outgoing/(\d+)/"', page)


def test_home_and_overviews_start_with_the_inbox_in_few_queries(tule, officials, work, client_for,
                                                                django_assert_max_num_queries):
    docs = work["documents"]
    client = client_for("tule.localhost", officials["tl.chairman"])
    client.get("/")  # the first request of a session loads what every later one reuses
    # 16 today: the host, session, user, second factor, roles, the chairman's role changes, and
    # one query per app model of the inbox (no query per item).
    with django_assert_max_num_queries(18):
        page = client.get("/").content.decode()
    inbox = page[page.index('class="inbox"'):page.index("</section>", page.index('class="inbox"'))]
    assert "Việc cần làm" in inbox
    assert f'href="/documents/outgoing/{docs["to_sign_chairman"].pk}/"' in inbox
    assert "Văn bản chờ bạn ký" in inbox
    for path, key in (("/documents/", "to_review"), ("/onestop/", None), ("/radio/", None)):
        page = client.get(path).content.decode()
        assert 'class="inbox"' in page, path
    clerk_page = client_for("tule.localhost", officials["tl.clerk"]).get("/documents/").content.decode()
    assert "/documents/outgoing/?view=to_dispatch" in clerk_page


def test_the_inbox_costs_one_query_per_app_model(tule, officials, work, django_assert_max_num_queries):
    request = RequestFactory().get("/", HTTP_HOST="tule.localhost")
    request.user, request.commune = officials["tl.clerk"], tule
    roles = {Role.CLERK.value}
    with tenant_context(tule):
        from documents.numbering import get_policy

        get_policy()  # made on first use
        # the schema, signatures 1, documents 3 (the due-soon days, outgoing, incoming), onestop 1
        with django_assert_max_num_queries(6):
            lines = inbox_for(request, roles=roles)
    assert lines
