"""The module registry (``communes.modules``): the apps bring their demo steps in an order that
respects what each needs, the public home is made of the sections the apps register, and each
app reports its figures for a period, which ``report_facts`` prints per commune (a commune's
figures never include another's)."""
from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from communes import modules


def test_the_apps_demo_steps_run_after_what_they_need():
    order = [step.key for step in modules.demo_steps()]
    assert order == ["population", "signatures", "documents", "onestop", "broadcasting", "ecommerce", "health", "education",
                     "outbox"]


def test_demo_steps_are_ordered_by_what_they_wait_for(monkeypatch):
    ran = []
    monkeypatch.setattr(modules, "DEMO_STEPS", [])
    modules.register_demo(modules.DemoStep("radio", lambda ctx: ran.append("radio"), after=("documents", "people")))
    modules.register_demo(modules.DemoStep("documents", lambda ctx: ran.append("documents"), after=("pki",)))
    modules.register_demo(modules.DemoStep("pki", lambda ctx: ran.append("pki")))
    modules.register_demo(modules.DemoStep("people", lambda ctx: ran.append("people")))
    modules.register_demo(modules.DemoStep("people", lambda ctx: ran.append("twice")))  # once per key
    modules.run_demo_steps(None)
    assert ran == ["pki", "documents", "people", "radio"]
    monkeypatch.setattr(modules, "DEMO_STEPS", [])
    modules.register_demo(modules.DemoStep("a", lambda ctx: None, after=("b",)))
    modules.register_demo(modules.DemoStep("b", lambda ctx: None, after=("a",)))
    with pytest.raises(ValueError):
        modules.demo_steps()


def test_the_public_home_is_made_of_the_registered_sections(db, tule, client_for, monkeypatch, settings, tmp_path):
    page = client_for("tule.localhost").get("/").content.decode()
    # The desk's section (procedures, the dossier lookup), in the citizens' layout.
    assert 'id="services"' in page and 'action="/lookup/"' in page and 'class="pub-nav"' in page
    (tmp_path / "news.html").write_text('<section id="news">{{ headline }} – {{ commune.name }}</section>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], str(tmp_path)]}]
    monkeypatch.setattr(modules, "PUBLIC_SECTIONS", list(modules.PUBLIC_SECTIONS))
    modules.register_public_section(modules.PublicSection(
        key="news", template="news.html", context=lambda request: {"headline": "Tin mới"}, order=5))
    page = client_for("tule.localhost").get("/").content.decode()
    assert '<section id="news">Tin mới – Tú Lệ</section>' in page
    assert page.index('id="news"') < page.index('id="services"')


@pytest.fixture
def period_work(tule, yenhoa, make_user):
    """In each commune: a document issued today, one registered today, a bulletin approved today
    and two plays (one an emergency), a dossier received today."""
    from broadcasting.models import AsRunEntry, Bulletin, Cluster
    from documents.models import DocumentType, IncomingDocument, OutgoingDocument
    from onestop.models import Dossier, Procedure
    from population.models import Village

    now = timezone.now()
    today = timezone.localdate()
    for commune in (tule, yenhoa):
        with tenant_context(commune):
            doc_type = DocumentType.objects.get(code="quyet-dinh", active=True)
            OutgoingDocument.objects.create(doc_type=doc_type, subject="Quyết định", state="issued", number=1,
                                            number_year=today.year, sequence_key="shared",
                                            number_symbol="01/QĐ-UBND", issued_on=today)
            IncomingDocument.objects.create(state="assigned", arrived_at=now, incoming_number=1,
                                            incoming_year=today.year, sender_org="UBND tỉnh", subject="Công văn",
                                            deadline=now - datetime.timedelta(minutes=1))
            Bulletin.objects.create(title="Bản tin", text="Thông báo.", state="approved", valid_from=today,
                                    valid_until=today, decided_at=now)
            cluster = Cluster.objects.create(name="Cụm loa", village=Village.objects.create(name="Bản Số Liệu"))
            # Half an hour ago, but not before the local day began (a run just after midnight).
            midnight = timezone.make_aware(datetime.datetime.combine(today, datetime.time()))
            start = max(now - datetime.timedelta(minutes=30), midnight)
            AsRunEntry.objects.create(cluster=cluster, asset_key="a", started_at=start,
                                      ended_at=start + datetime.timedelta(minutes=9))
            AsRunEntry.objects.create(cluster=cluster, asset_key="b", started_at=start + datetime.timedelta(minutes=10),
                                      ended_at=start + datetime.timedelta(minutes=19), emergency=True)
            Dossier.objects.create(procedure=Procedure.objects.filter(is_current=True).first(), channel="counter",
                                   state="received", code=f"{commune.code}-F-1", applicant_name="Hoàng Văn Nam",
                                   received_at=now, due_at=now + datetime.timedelta(days=2))
    return today


def test_each_app_reports_its_figures_and_report_facts_prints_them_per_commune(tule, period_work, capsys):
    day = period_work.strftime("%d/%m/%Y")
    call_command("report_facts", "--from", day, "--to", day, "--commune", "04630", "--commune", "14701", "--json")
    body = json.loads(capsys.readouterr().out)
    assert [row["commune_code"] for row in body["communes"]] == ["04630", "14701"]
    for row in body["communes"]:  # each commune counts its own rows only
        facts = row["facts"]
        assert facts["documents"] == {"received": 1, "issued": 1, "handled_on_time": 0, "handled_late": 0,
                                      "overdue": 1, "pending": 0}
        assert facts["broadcasting"] == {"clusters": 1, "bulletins_on_air": 1, "plays": 2, "emergency_plays": 1,
                                         "hours_aired": 0.3}
        assert facts["onestop"]["received"] == 1 and facts["onestop"]["in_progress"] == 1
    call_command("report_facts", "--from", day, "--to", day, "--commune", "04630")
    text = capsys.readouterr().out
    assert "Tú Lệ (04630)" in text and "issued 1" in text and "plays 2" in text
    # Another period: nothing.
    yesterday = (period_work - datetime.timedelta(days=1)).strftime("%d/%m/%Y")
    with tenant_context(tule):
        assert modules.facts_for(period_work - datetime.timedelta(days=1), period_work - datetime.timedelta(days=1))[
            "broadcasting"]["plays"] == 0
    with pytest.raises(CommandError, match="dd/mm/yyyy"):
        call_command("report_facts", "--from", "2026-11-01", "--to", yesterday)
    with pytest.raises(CommandError, match="99999"):
        call_command("report_facts", "--commune", "99999")
