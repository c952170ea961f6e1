"""The assessment pages and API: the role matrix of every page and endpoint, the grid as a plain
form (without JavaScript) and through its JSON endpoint, the API's 409 for a conflict and for a
locked semester, the lock page, the reads logged, and the inbox's lines."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal as D

import pytest
from django.utils.translation import gettext

pytestmark = pytest.mark.django_db(transaction=False)

HOST = "tule.localhost"


def _first(school_class):
    from education.models import Enrolment

    return Enrolment.objects.filter(school_class=school_class).order_by("number").first()


def _urls(y):
    c, s = y["class6a"], y["subjects6"]["toan"]
    return {
        "index": "/schools/marks/",
        "class": f"/schools/classes/{c.pk}/marks/",
        "grid": f"/schools/classes/{c.pk}/marks/{s.pk}/sem1/",
        "evaluations": f"/schools/classes/{c.pk}/evaluations/sem1/",
        "results": f"/schools/classes/{c.pk}/results/year/",
        "locks": f"/schools/{y['thcs'].pk}/locks/",
        "api_grid": f"/api/v1/education/classes/{c.pk}/marks/{s.pk}/sem1/",
        "api_results": f"/api/v1/education/classes/{c.pk}/results/year/",
    }


READERS = ("principal", "vice", "math", "literature", "clerk")
OUTSIDERS = ("primary_teacher", "primary_principal", "accountant", "unplaced", "chairman", "radio", "nurse",
             "parent", "citizen")


def test_role_matrix_of_the_pages_and_endpoints(tule, in_commune, schoolyard, school_people, client_for):
    urls = _urls(schoolyard)
    for name in READERS:
        client = client_for(HOST, school_people[name])
        for key, url in urls.items():
            assert client.get(url).status_code == 200, (name, key)
    for name in OUTSIDERS:
        client = client_for(HOST, school_people[name])
        for key, url in urls.items():
            if key == "index":  # the leaders' and other schools' staff's list shows no class of THCS Tú Lệ
                response = client.get(url)
                assert response.status_code in (200, 302, 403) and "6A" not in response.content.decode(), name
                continue
            assert client.get(url).status_code in (403, 404, 302), (name, key)
    # the index lists only the person's schools
    body = client_for(HOST, school_people["primary_teacher"]).get(urls["index"]).content.decode()
    assert "1A" in body and "6A" not in body


def test_writes_of_the_pages_and_endpoints_by_role(tule, in_commune, schoolyard, school_people, client_for):
    y = schoolyard
    urls = _urls(y)
    with in_commune(tule):
        first = _first(y["class6a"])
    cell = {"cells": [{"enrolment": first.pk, "column": "tx1", "value": "8", "version": 0}]}
    save = urls["grid"] + "save/"
    for name, status in (("literature", 403), ("clerk", 403), ("primary_teacher", 403), ("chairman", 403)):
        client = client_for(HOST, school_people[name])
        response = client.post(save, json.dumps(cell), content_type="application/json")
        assert response.status_code in (status, 404), name
        response = client.put(urls["api_grid"], cell, content_type="application/json")
        assert response.status_code in (403, 404), name
        assert client.post(urls["grid"], {f"c_{first.pk}_tx1": "8"}).status_code in (403, 404)
        # the lock: the principal only
        response = client.post(urls["locks"], {"semester": y["sem1"].pk, "action": "lock"})
        assert response.status_code in (403, 404), name
    response = client_for(HOST, school_people["vice"]).post(
        f"/api/v1/education/schools/{y['thcs'].pk}/locks/", {"semester": y["sem1"].pk, "action": "lock"},
        content_type="application/json")
    assert response.status_code == 403
    with in_commune(tule):
        from education.models import AssessmentLock, Mark

        assert not Mark.objects.exists() and not AssessmentLock.objects.exists()


def test_the_grid_works_as_a_plain_form(tule, in_commune, schoolyard, school_people, client_for):
    from education.models import Mark
    from population.models import AccessLog

    y = schoolyard
    url = _urls(y)["grid"]
    with in_commune(tule):
        first = _first(y["class6a"])
    client = client_for(HOST, school_people["math"])
    page = client.get(url).content.decode()
    assert f'name="c_{first.pk}_tx4"' in page and "grid.js" in page and "<script>" not in page
    # typed: a good mark and a wrong one; the wrong one keeps what was typed with the message
    response = client.post(url, {f"c_{first.pk}_tx1": "8,5", f"v_{first.pk}_tx1": "0", f"o_{first.pk}_tx1": "",
                                 f"c_{first.pk}_tx2": "8,25", f"v_{first.pk}_tx2": "0", f"o_{first.pk}_tx2": ""})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="8,25"' in body
    assert gettext("A mark has at most one decimal: 8,5, not 8,25.").replace(",", ",") in body.replace("&#x27;", "'")
    with in_commune(tule):
        assert [(m.column, m.score) for m in Mark.objects.all()] == [("tx1", D("8.5"))]
        assert AccessLog.objects.filter(object_type="school_class", object_id=y["class6a"].pk).exists()
    # all good → saved and redirected
    response = client.post(url, {f"c_{first.pk}_tx2": "7", f"v_{first.pk}_tx2": "0", f"o_{first.pk}_tx2": "",
                                 f"c_{first.pk}_tx1": "8,5", f"v_{first.pk}_tx1": "1", f"o_{first.pk}_tx1": "8,5"})
    assert response.status_code == 302
    with in_commune(tule):
        assert Mark.objects.count() == 2


def test_the_json_endpoint_and_the_api_answer_conflicts_and_locks(tule, in_commune, schoolyard, school_people,
                                                                  client_for):
    y = schoolyard
    urls = _urls(y)
    with in_commune(tule):
        first = _first(y["class6a"])
    math = client_for(HOST, school_people["math"])
    vice = client_for(HOST, school_people["vice"])
    cells = {"cells": [{"enrolment": first.pk, "column": "mid", "value": "7", "version": 0},
                       {"enrolment": first.pk, "column": "end", "value": "11", "version": 0}]}
    answer = math.post(urls["grid"] + "save/", json.dumps(cells), content_type="application/json").json()
    assert [c["status"] for c in answer["cells"]] == ["saved", "error"]
    assert answer["cells"][1]["message"] == gettext("A mark is between 0 and 10.")
    # the API: the vice-principal saw version 0 → 409 with the conflicting cell
    response = vice.put(urls["api_grid"], {"cells": [cells["cells"][0] | {"value": "3"}]},
                        content_type="application/json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict" and body["conflicts"][0]["other_value"] == "7,0"
    grid = vice.get(urls["api_grid"]).json()
    row = next(r for r in grid["rows"] if r["enrolment"] == first.pk)
    assert row["cells"]["mid"] == {"value": "7,0", "version": 1}
    response = vice.put(urls["api_grid"], {"cells": [{"enrolment": first.pk, "column": "mid", "value": "3",
                                                      "version": 1}]}, content_type="application/json")
    assert response.status_code == 200
    # bad input through the API: 400 in the common body
    response = vice.put(urls["api_grid"], {"cells": [{"enrolment": first.pk, "column": "tx1", "value": "8,25",
                                                      "version": 0}]}, content_type="application/json")
    assert response.status_code == 400 and set(response.json()) >= {"code", "detail", "fields"}
    # the principal locks semester 1 through the API; every write is refused with 409
    principal = client_for(HOST, school_people["principal"])
    response = principal.post(f"/api/v1/education/schools/{y['thcs'].pk}/locks/",
                              {"semester": y["sem1"].pk, "action": "lock"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["locked"] is True
    response = vice.put(urls["api_grid"], {"cells": [{"enrolment": first.pk, "column": "mid", "value": "9",
                                                      "version": 2}]}, content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "locked"
    response = math.post(urls["grid"] + "save/", json.dumps(cells), content_type="application/json")
    assert response.status_code == 409
    assert "locked" in math.get(urls["grid"]).content.decode()
    # the unlock needs a reason; the log shows both
    response = principal.post(urls["locks"], {"semester": y["sem1"].pk, "action": "unlock", "reason": ""})
    assert response.status_code == 302
    response = principal.post(urls["locks"], {"semester": y["sem1"].pk, "action": "unlock",
                                              "reason": "Chấm lại bài thi"})
    page = principal.get(urls["locks"]).content.decode()
    assert "Chấm lại bài thi" in page and "edu_principal" in page


def test_inbox_lines(tule, in_commune, schoolyard, school_people, monkeypatch):
    from django.test import RequestFactory

    from education import assessment

    y = schoolyard
    with in_commune(tule):
        # three weeks before the end of semester 1: the maths teacher's grid of 6A is empty
        monkeypatch.setattr(assessment.timezone, "localdate", lambda: y["sem1"].ends_on - datetime.timedelta(days=10))
        lines = assessment.inbox_lines(RequestFactory().get("/"), school_people["math"], {"school_staff"})
        assert [(line.key, line.count) for line in lines] == [("education.marks_missing", 1)]  # 6B has no students
        assert lines[0].url == "/schools/marks/?missing=1"
        # a month before: nothing yet
        monkeypatch.setattr(assessment.timezone, "localdate", lambda: y["sem1"].ends_on - datetime.timedelta(days=30))
        assert assessment.inbox_lines(None, school_people["math"], {"school_staff"}) == []
        # after the end: the principal has semester 1 to lock; once locked, nothing
        monkeypatch.setattr(assessment.timezone, "localdate", lambda: y["sem1"].ends_on + datetime.timedelta(days=2))
        [line] = [line for line in assessment.inbox_lines(None, school_people["principal"], {"school_staff"})
                  if line.key.startswith("education.unlocked")]
        assert line.count == 1 and line.url == f"/schools/{y['thcs'].pk}/locks/"
        assessment.lock(school_people["principal"], y["thcs"], y["sem1"])
        assert not [line for line in assessment.inbox_lines(None, school_people["principal"], {"school_staff"})
                    if line.key.startswith("education.unlocked")]


def test_results_page_and_the_principals_confirmation(tule, in_commune, schoolyard, school_people, client_for):
    from education import assessment
    from education.models import StudentResult

    y = schoolyard
    with in_commune(tule):
        first = _first(y["class6a"])
        # a year of 6 scored subjects at 4.0 and the others 6.0 for one student, conduct Tốt: retest
        for subject in y["subjects6"].values():
            for period in ("sem1", "sem2"):
                columns = assessment.columns_for(y["class6a"], subject, period)
                value = "D" if subject.kind == "comment" else ("4" if subject.code == "toan" else "6")
                assessment.save_cells(school_people["principal"], y["class6a"], subject, period,
                                      [{"enrolment": first.pk, "column": c, "value": value, "version": 0}
                                       for c in columns])
        for period in ("sem1", "sem2"):
            assessment.save_evaluations(school_people["principal"], y["class6a"], period,
                                        [{"enrolment": first.pk, "column": "conduct", "value": "T", "version": 0}])
        # (4 + 2·4 + 3·4)/… = 4.0 in maths → learning: all ≥ 3.5, seven ≥ 5.0 → Đạt → promoted
        assert StudentResult.objects.get(enrolment=first, period="year").decision == "promoted"
        # the maths retest is not needed; make the year Chưa đạt with a 3.0 instead and retest at 6
        math = y["subjects6"]["toan"]
        for period in ("sem1", "sem2"):
            cells = [{"enrolment": first.pk, "column": c, "value": "3", "version": 1}
                     for c in assessment.columns_for(y["class6a"], math, period)]
            assessment.save_cells(school_people["principal"], y["class6a"], math, period, cells)
        assert StudentResult.objects.get(enrolment=first, period="year").decision == "retest"
        assessment.save_cells(school_people["principal"], y["class6a"], math, "retest",
                              [{"enrolment": first.pk, "column": "retest", "value": "6", "version": 0}])
    url = f"/schools/classes/{y['class6a'].pk}/results/retest/"
    principal = client_for(HOST, school_people["principal"])
    page = principal.get(url).content.decode()
    assert f'name="enrolment" value="{first.pk}"' in page and 'value="promoted"' in page
    # the vice-principal sees the page without the confirmation and may not post it
    vice = client_for(HOST, school_people["vice"])
    assert 'name="decision"' not in vice.get(url).content.decode()
    assert vice.post(url, {"enrolment": first.pk, "decision": "promoted"}).status_code == 403
    # an id that is not one is found nowhere
    assert principal.post(url, {"enrolment": "abc", "decision": "promoted"}).status_code == 404
    assert principal.post(_urls(y)["locks"], {"semester": "x", "action": "lock"}).status_code == 404
    assert principal.post(url, {"enrolment": first.pk, "decision": "promoted"}).status_code == 302
    with in_commune(tule):
        assert StudentResult.objects.get(enrolment=first, period="retest").decision == "promoted"
    year_page = principal.get(f"/schools/classes/{y['class6a'].pk}/results/year/").content.decode()
    assert "4,0" not in year_page and "3,0" in year_page


def test_primary_grid_and_the_homerooms_evaluations(tule, in_commune, schoolyard, school_people, client_for):
    from education.models import Evaluation

    y = schoolyard
    with in_commune(tule):
        pupil = _first(y["class1a"])
    teacher = client_for(HOST, school_people["primary_teacher"])
    page = teacher.get(f"/schools/classes/{y['class1a'].pk}/marks/{y['subjects1']['toan'].pk}/year/").content.decode()
    assert f'name="c_{pupil.pk}_level"' in page and f'name="c_{pupil.pk}_test"' in page
    # no test column at mid-semester in grade 1; a subject without a test has the level only
    page = teacher.get(f"/schools/classes/{y['class1a'].pk}/marks/{y['subjects1']['toan'].pk}/mid1/").content.decode()
    assert f'name="c_{pupil.pk}_test"' not in page
    # a lower-secondary period is no page of a primary class
    assert teacher.get(f"/schools/classes/{y['class1a'].pk}/marks/{y['subjects1']['toan'].pk}/sem2/").status_code == 404
    url = f"/schools/classes/{y['class1a'].pk}/evaluations/year/"
    assert 'name="c_%s_yeu_nuoc"' % pupil.pk in teacher.get(url).content.decode()
    answer = teacher.post(url + "save/", json.dumps({"cells": [
        {"enrolment": pupil.pk, "column": "yeu_nuoc", "value": "T", "version": 0},
        {"enrolment": pupil.pk, "column": "nhan_ai", "value": "K", "version": 0}]}),
        content_type="application/json").json()
    assert [c["status"] for c in answer["cells"]] == ["saved", "error"]  # Khá is no level of primary aspects
    with in_commune(tule):
        assert list(Evaluation.objects.values_list("aspect", "level")) == [("yeu_nuoc", "T")]
    # the principal of the other school may not write the 1A evaluations
    other = client_for(HOST, school_people["principal"])
    assert other.post(url + "save/", json.dumps({"cells": []}), content_type="application/json").status_code == 403


def test_the_class_page_links_every_grid(tule, in_commune, schoolyard, school_people, client_for):
    y = schoolyard
    page = client_for(HOST, school_people["math"]).get(f"/schools/classes/{y['class6a'].pk}/marks/").content.decode()
    for subject in y["subjects6"].values():
        for period in ("sem1", "sem2", "retest"):
            assert f"/schools/classes/{y['class6a'].pk}/marks/{subject.pk}/{period}/" in page
    assert f"/schools/classes/{y['class6a'].pk}/evaluations/sem1/" in page
    assert f"/schools/classes/{y['class6a'].pk}/results/retest/" in page
    assert f"/schools/{y['thcs'].pk}/locks/" in page
