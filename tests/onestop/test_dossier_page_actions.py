"""The dossier page opens the role's main next action for the dossier's state (never a refusal,
form 4 or form 5), preselects the one person who can take the next step, does not call a paper
needed only under a condition "missing", and after a signature of the result shows its progress,
then the new state and the next step."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.documents.test_signing_progress import Official

from .helpers import (  # noqa: F401 - fixtures
    CLERK_PIN, PIN, pki_set, received_dossier, run_signing_jobs, signing_setup, to_signing,
)

HOST = "tule.localhost"


def page(official, dossier, query: str = "") -> str:
    response = official.get(reverse("onestop:dossier", args=[dossier.pk]) + query)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def cards(body: str) -> list[tuple[str, bool]]:
    """The action cards in page order: (action, open?)."""
    return [(name, bool(opened)) for name, opened in
            re.findall(r'<details class="card" id="card-(\w+)"( open)?>', body)]


def test_the_open_action_is_the_roles_main_next_action(tule, people, procedures, client_for, signing_setup):
    from onestop import services

    dossier = received_dossier(procedures["HT-01"], people["onestop_officer"])
    officer = Official(client_for, people["onestop_officer"], tule)
    shown = cards(page(officer, dossier))
    assert shown[0] == ("hand_over", True), shown
    assert [name for name, opened in shown if opened] == ["hand_over"]
    assert {"extend", "stop"} <= {name for name, _o in shown}
    assert [name for name, _o in shown][-2:] == ["extend", "stop"]  # the cautious ones last

    # The chairman has nothing to do at the desk's step: forms 4 and 5 are offered, none open.
    chairman = Official(client_for, people["chairman"], tule)
    shown = cards(page(chairman, dossier))
    assert "extend" in dict(shown) and not any(opened for _n, opened in shown), shown

    # At the signature step the chairman's card is the signature.
    dossier = to_signing(dossier, people)
    shown = cards(page(chairman, dossier))
    assert shown[0] == ("sign_leader", True) and dict(shown)["extend"] is False, shown

    # The result signed, the desk returns it.
    services.sign_result_leader(dossier=dossier, user=people["chairman"], pin=PIN)
    run_signing_jobs(tule)
    dossier.refresh_from_db()
    clerk = Official(client_for, people["clerk"], tule)
    assert cards(page(clerk, dossier))[0] == ("sign_agency", True)
    services.sign_result_agency(dossier=dossier, user=people["clerk"], pin=CLERK_PIN)
    run_signing_jobs(tule)
    dossier.refresh_from_db()
    assert dossier.state == "result_ready"
    assert cards(page(officer, dossier))[0] == ("return", True)


def test_hand_on_is_preselected_when_one_person_fits(tule, people, procedures, client_for):
    from communes.models import Membership

    dossier = received_dossier(procedures["HT-01"], people["onestop_officer"])
    officer = Official(client_for, people["onestop_officer"], tule)
    body = page(officer, dossier)
    # Two specialists can take the next step: nobody is chosen for the officer.
    assert not re.search(r'<option value="\d+" selected>', body)

    Membership.objects.filter(user=people["specialist2"]).update(is_active=False)
    body = page(officer, dossier)
    chosen = re.findall(r'<option value="(\d+)" selected>([^<]+)</option>', body)
    assert chosen == [(str(people["specialist"].pk), "Trần Văn Lâm")]


def test_conditional_papers_are_not_marked_missing(tule, people, procedures, client_for):
    from onestop.models import DossierDocument

    procedure = procedures["HT-01"]
    conditional = next(r for r in procedure.requirements.all() if r.condition)
    required = [r for r in procedure.requirements.all() if r.required and not r.condition]
    checklist = {r.pk: True for r in required} | {conditional.pk: False}
    dossier = received_dossier(procedure, people["onestop_officer"], checklist=checklist)
    assert DossierDocument.objects.filter(dossier=dossier, requirement=conditional, provided=False).exists()

    body = page(Official(client_for, people["onestop_officer"], tule), dossier)
    row = next(r for r in re.findall(r"<tr>.*?</tr>", body) if conditional.name in r)
    assert "còn thiếu" not in row
    assert f"chỉ khi: {conditional.condition}" in row
    for requirement in required:  # the papers asked for unconditionally were given
        assert "✔" in next(r for r in re.findall(r"<tr>.*?</tr>", body) if requirement.name in r)


def test_signing_the_result_shows_progress_then_the_next_step(tule, people, procedures, client_for, signing_setup):
    from signatures.models import SigningJob

    dossier = to_signing(received_dossier(procedures["HT-01"], people["onestop_officer"]), people)
    chairman = Official(client_for, people["chairman"], tule)
    response = chairman.post(reverse("onestop:dossier-action", args=[dossier.pk, "sign_leader"]), {"pin": PIN})
    assert response.status_code == 302
    job = SigningJob.objects.get(subject=f"onestop.dossier:{dossier.pk}")
    query = f"?job={job.pk}"
    assert response["Location"] == reverse("onestop:dossier", args=[dossier.pk]) + query
    body = page(chairman, dossier, query)
    assert 'id="job-progress"' in body and 'data-state="queued"' in body and "Lãnh đạo ký kết quả" in body
    assert 'id="action-sign_leader"' not in body
    assert '<noscript><meta http-equiv="refresh"' in body and ">Tải lại</a>" in body

    assert run_signing_jobs(tule) == ["succeeded"]
    poll = reverse("onestop:dossier-progress", args=[dossier.pk]) + query
    assert chairman.get(poll, HTTP_HX_REQUEST="true")["HX-Redirect"].endswith(query)
    body = page(chairman, dossier, query)
    assert "Bước tiếp theo: văn thư thêm chữ ký số của cơ quan vào kết quả." in body

    clerk = Official(client_for, people["clerk"], tule)
    wrong = clerk.post(reverse("onestop:dossier-action", args=[dossier.pk, "sign_agency"]), {"pin": "000000"})
    assert wrong.status_code == 400 and "Hãy nhập lại mã PIN của chứng thư số." in wrong.content.decode()
    location = clerk.post(reverse("onestop:dossier-action", args=[dossier.pk, "sign_agency"]),
                          {"pin": CLERK_PIN})["Location"]
    assert run_signing_jobs(tule) == ["succeeded"]
    officer = Official(client_for, people["onestop_officer"], tule)
    body = page(officer, dossier, location[location.index("?"):])
    assert "Kết quả đã được ký." in body
    assert "Bước tiếp theo: trả kết quả cho người nộp hồ sơ." in body and 'href="#action-return"' in body
