"""The report cards' pages and API: a teacher asks for the class's cards, the job runs (in process,
as a worker would) with its progress, the page then offers the PDF and the next step; a second
request while one runs returns it; each PDF made or downloaded is an export in the access log; the
role matrix (staff of another school, the accountant, the chairman, other officials, parents,
citizens and anonymous visitors get nothing)."""
from __future__ import annotations

import pytest

from tests.education.test_reports_pdf import flat, pdftotext, seed_results

HOST = "tule.localhost"
MAKERS = ("principal", "vice", "math", "literature", "clerk")
NOT_OF_THIS_SCHOOL = ("accountant", "primary_principal", "primary_teacher", "unplaced", "chairman")
NOT_IN_THE_APP = ("radio", "nurse", "parent", "citizen")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def back_in(tule):
    """A request leaves the connection on the public schema: back to Tú Lệ's."""
    from django.db import connection

    connection.set_tenant(tule)


def run(job, tule):
    from education.models import ReportCardJob
    from jobs.services import execute

    back_in(tule)
    outcome = execute(ReportCardJob, job.pk, tule.schema_name)
    back_in(tule)
    job.refresh_from_db()
    return outcome


def exports(what: str):
    from population.models import AccessLog

    return AccessLog.objects.filter(action=AccessLog.Action.EXPORT, object_type="student", description__contains=what)


def test_a_teacher_asks_for_the_class_s_cards_and_gets_the_pdf_with_its_next_step(
        schoolyard, school_people, client_for, tule):
    from education.models import ReportCardJob

    seed_results(schoolyard)
    client = client_for(HOST, school_people["math"])
    page = client.get(f"/schools/reports/classes/{schoolyard['class6a'].pk}/")
    assert page.status_code == 200 and "Lò Văn An" in page.content.decode()
    answer = client.post(f"/schools/reports/classes/{schoolyard['class6a'].pk}/", {"kind": "cards", "period": "year"})
    back_in(tule)
    job = ReportCardJob.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/schools/reports/jobs/{job.pk}/"
    waiting = client.get(answer["Location"]).content.decode()
    assert 'id="job-progress"' in waiting and f"/schools/reports/jobs/{job.pk}/poll/" in waiting

    # The same request while it is queued returns the same job.
    again = client.post(f"/schools/reports/classes/{schoolyard['class6a'].pk}/", {"kind": "cards", "period": "year"})
    back_in(tule)
    assert again["Location"] == answer["Location"] and ReportCardJob.objects.count() == 1

    assert run(job, tule) == "succeeded"
    assert job.file.startswith(f"communes/{tule.schema_name}/education/reports/") and job.file.endswith(".pdf")
    assert job.result["pages"] == 5 and job.result["students"] == 5
    assert exports("report cards of class 6A").count() == 1  # made: an export
    done = client.get(answer["Location"]).content.decode()
    back_in(tule)
    assert "Next step" in done or "Bước tiếp theo" in done
    assert f"/schools/reports/jobs/{job.pk}/pdf/" in done
    pdf = client.get(f"/schools/reports/jobs/{job.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "Cầm Văn Em" in flat(pdftotext(pdf.content))
    back_in(tule)
    assert exports("report cards of class 6A").count() == 2  # downloaded: another
    # The poll sends the browser to the page once the job has finished.
    poll = client.get(f"/schools/reports/jobs/{job.pk}/poll/", HTTP_HX_REQUEST="true")
    assert poll["HX-Redirect"] == answer["Location"]


def test_the_job_s_progress_counts_students(schoolyard, tule, monkeypatch):
    from education import report_cards
    from education.models import ReportCardJob
    from jobs.services import JobContext

    seen = []
    original = JobContext.progress

    def spy(self, percent, message=""):
        seen.append((percent, str(message)))
        return original(self, percent, message)

    monkeypatch.setattr(JobContext, "progress", spy)
    job, created = report_cards.request_job(schoolyard["staff"]["principal"].user, schoolyard["class6a"], "cards",
                                            "year")
    assert created
    run(job, tule)
    texts = [m for _p, m in seen]
    assert any(m.startswith("5/5") for m in texts) and any(m.startswith("1/5") for m in texts)
    assert [p for p, _m in seen] == sorted(p for p, _m in seen)
    assert ReportCardJob.objects.get(pk=job.pk).state == "succeeded"


def test_a_rerun_after_a_crash_keeps_the_file_written_once(schoolyard, tule):
    from core.storage import save_final
    from education import report_cards
    from education.models import ReportCardJob

    seed_results(schoolyard)
    job, _created = report_cards.request_job(schoolyard["staff"]["math"].user, schoolyard["class6a"], "sheet", "sem1")
    # An earlier attempt wrote the file and died before recording it.
    data, _slots = report_cards.render_sheet(schoolyard["class6a"], "sem1")
    written = save_final(report_cards.file_name(job), data)
    run(job, tule)
    assert ReportCardJob.objects.get(pk=job.pk).file == written


@pytest.mark.parametrize("who", MAKERS)
def test_the_school_s_teaching_staff_and_clerk_make_report_cards(who, schoolyard, school_people, client_for):
    enrolment = schoolyard["students6"][0].enrolments.get()
    client = client_for(HOST, school_people[who])
    assert client.get("/schools/reports/").status_code == 200
    assert client.get(f"/schools/reports/classes/{schoolyard['class6a'].pk}/").status_code == 200
    card = client.get(f"/schools/reports/students/{enrolment.pk}/card.pdf")
    assert card.status_code == 200 and "Lò Văn An" in flat(pdftotext(card.content))


@pytest.mark.parametrize("who", NOT_OF_THIS_SCHOOL + NOT_IN_THE_APP)
def test_others_get_nothing_of_the_class(who, schoolyard, school_people, client_for, tule):
    from education import report_cards
    from population.models import AccessLog

    seed_results(schoolyard)
    job, _created = report_cards.request_job(school_people["math"], schoolyard["class6a"], "cards", "year")
    run(job, tule)
    before = AccessLog.objects.count()
    client = client_for(HOST, school_people[who])
    enrolment = schoolyard["students6"][0].enrolments.get()
    for url in (f"/schools/reports/classes/{schoolyard['class6a'].pk}/", f"/schools/reports/jobs/{job.pk}/",
                f"/schools/reports/jobs/{job.pk}/pdf/", f"/schools/reports/jobs/{job.pk}/poll/",
                f"/schools/reports/students/{enrolment.pk}/card.pdf"):
        response = client.get(url)
        assert response.status_code in (403, 404), (who, url, response.status_code)
        assert b"%PDF" not in response.content and "Lò Văn An" not in response.content.decode(errors="replace")
    assert client.post(f"/schools/reports/classes/{schoolyard['class6a'].pk}/",
                       {"kind": "cards", "period": "year"}).status_code in (403, 404)
    assert client.post(f"/schools/reports/jobs/{job.pk}/sign/", {"pin": "1234"}).status_code in (403, 404)
    for url in (f"/api/v1/education/report-jobs/{job.pk}/", f"/api/v1/education/report-jobs/{job.pk}/pdf/"):
        assert client.get(url).status_code in (403, 404)
    assert client.post("/api/v1/education/report-jobs/", {"school_class": schoolyard["class6a"].pk, "kind": "cards",
                                                          "period": "year"},
                       content_type="application/json").status_code in (403, 404)
    back_in(tule)
    assert AccessLog.objects.count() == before  # nothing was read


def test_anonymous_visitors_are_sent_to_the_login(schoolyard, client_for):
    response = client_for(HOST).get(f"/schools/reports/classes/{schoolyard['class6a'].pk}/")
    assert response.status_code == 302 and "login" in response["Location"]
    assert client_for(HOST).get("/api/v1/education/report-jobs/1/").status_code in (401, 403)


def test_another_commune_sees_nothing(schoolyard, school_people, client_for, communes, make_user):
    from communes.models import Role

    other = next(c for key, c in communes.items() if key != "tule")
    stranger = make_user("edu_other_principal", roles={other: [Role.SCHOOL_STAFF]})
    client = client_for(f"{other.domains.first().domain}", stranger)
    response = client.get(f"/schools/reports/classes/{schoolyard['class6a'].pk}/")
    assert response.status_code in (403, 404)


def test_the_primary_teacher_makes_her_own_class_s_cards(schoolyard, school_people, client_for):
    client = client_for(HOST, school_people["primary_teacher"])
    assert client.get(f"/schools/reports/classes/{schoolyard['class1a'].pk}/").status_code == 200
    assert client.get(f"/schools/reports/classes/{schoolyard['class6a'].pk}/").status_code == 404


def test_bad_requests_keep_the_form_and_say_why(schoolyard, school_people, client_for):
    client = client_for(HOST, school_people["math"])
    response = client.post(f"/schools/reports/classes/{schoolyard['class6b'].pk}/", {"kind": "cards",
                                                                                      "period": "year"})
    assert response.status_code == 400
    response = client.post(f"/schools/reports/classes/{schoolyard['class6a'].pk}/", {"kind": "cards",
                                                                                      "period": "mid1"})
    assert response.status_code == 400 and 'value="cards" selected' in response.content.decode()


def test_the_api_asks_follows_and_downloads(schoolyard, school_people, client_for, tule):
    from education.models import ReportCardJob

    seed_results(schoolyard)
    client = client_for(HOST, school_people["literature"])
    body = {"school_class": schoolyard["class6a"].pk, "kind": "sheet", "period": "sem1"}
    created = client.post("/api/v1/education/report-jobs/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    job_id = created.json()["id"]
    assert created.json()["state"] == "queued"
    same = client.post("/api/v1/education/report-jobs/", body, content_type="application/json")
    assert same.status_code == 200 and same.json()["id"] == job_id
    not_ready = client.get(f"/api/v1/education/report-jobs/{job_id}/pdf/")
    assert not_ready.status_code == 409 and not_ready.json()["code"] == "not_ready"
    back_in(tule)
    run(ReportCardJob.objects.get(pk=job_id), tule)
    status = client.get(f"/api/v1/education/report-jobs/{job_id}/").json()
    assert status["state"] == "succeeded" and status["students"] == 5 and status["pdf_url"]
    pdf = client.get(status["pdf_url"])
    assert pdf.status_code == 200 and "BẢNG TỔNG HỢP" in flat(pdftotext(pdf.content))
    bad = client.post("/api/v1/education/report-jobs/", {"school_class": schoolyard["class6a"].pk, "kind": "x",
                                                          "period": "sem1"}, content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()) == {"code", "detail", "fields"} and "kind" in bad.json()["fields"]
    empty = client.post("/api/v1/education/report-jobs/", {"school_class": schoolyard["class6b"].pk, "kind": "cards",
                                                            "period": "year"}, content_type="application/json")
    assert empty.status_code == 409 and empty.json()["code"] == "empty"
    assert client.post("/api/v1/education/report-jobs/", {"school_class": schoolyard["class1a"].pk, "kind": "cards",
                                                          "period": "year"},
                       content_type="application/json").status_code == 404


def test_the_principal_s_inbox_counts_unsigned_pdfs(schoolyard, school_people, tule):
    from communes.permissions import roles_for
    from education import report_cards

    job, _created = report_cards.request_job(school_people["math"], schoolyard["class6a"], "cards", "year")
    run(job, tule)
    principal = school_people["principal"]
    lines = report_cards.inbox_lines(None, principal, roles_for(principal))
    assert [(line.key, line.count) for line in lines] == [("education.reports.unsigned", 1)]
    assert report_cards.inbox_lines(None, school_people["math"], roles_for(school_people["math"])) == []


def test_a_card_shows_the_results_computed_from_the_marks(schoolyard, school_people, tule):
    """The marks entered are computed (``education.assessment.recompute_class``) before the card is
    drawn: the card shows the stored semester average of Toán with the decimal comma."""
    pytest.importorskip("education.assessment")
    from decimal import Decimal

    from education import report_cards
    from education.models import Mark, SubjectResult

    enrolment = schoolyard["students6"][0].enrolments.get()
    math = schoolyard["subjects6"]["toan"]
    for column, score in (("tx1", "8"), ("tx2", "9"), ("tx3", "7"), ("tx4", "8"), ("mid", "7.5"), ("end", "8.5")):
        Mark.objects.create(enrolment=enrolment, subject=math, period="sem1", column=column, score=Decimal(score))
    data, _name = report_cards.student_card(school_people["math"], enrolment)
    stored = SubjectResult.objects.get(enrolment=enrolment, subject=math, period="sem1").average
    assert stored is not None
    rows = flat(pdftotext(data, layout=True))
    assert f"Toán {report_cards.score_text(stored)}" in rows and "," in report_cards.score_text(stored)
    # (8 + 9 + 7 + 8 + 2·7,5 + 3·8,5) / (4 + 5) = 72,5 / 9 = 8,055… → 8,1
    assert stored == Decimal("8.1") and "Toán 8,1" in rows


def test_odd_numbers_are_refused_not_crashed(schoolyard, school_people, client_for):
    client = client_for(HOST, school_people["math"])
    for value in (0, -1, 2**40, "6A", None):
        response = client.post("/api/v1/education/report-jobs/", {"school_class": value, "kind": "cards",
                                                                   "period": "year"}, content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == "invalid", value
    assert client.get(f"/api/v1/education/report-jobs/{2**40}/").status_code == 404
    assert client.get(f"/schools/reports/jobs/{2**40}/").status_code == 404
    assert client.get(f"/schools/reports/students/{2**40}/card.pdf").status_code == 404
