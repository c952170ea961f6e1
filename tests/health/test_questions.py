"""Ask the doctor: a citizen asks (bad input refused in Vietnamese, limited per account), reads
only their own questions; staff answer, publish only what the asker allowed and in their own
anonymised wording, decline with a reason; the asker is told by an SMS job; the public page and
the commune's home show only the published wording, never the asker nor a private question, and
find it without accents; every read by staff is logged; a role matrix over every endpoint;
another commune sees nothing."""
from __future__ import annotations

import pytest

from communes.models import Role

pytestmark = pytest.mark.django_db
HOST = "tule.localhost"


@pytest.fixture
def asked(people, make_user, tule, in_commune):
    """Two questions of the citizen (one offered for publication, one private) and one of another
    citizen."""
    from health import questions

    other = make_user("health_other_citizen", full_name="Hà Thị Khác")
    with in_commune(tule):
        public = questions.ask(people["citizen"], "Con tôi bị sốt cao ở Bản Lìm",
                               "Cháu Lò Văn Dũng 3 tuổi sốt 39 độ từ hôm qua, có nên dùng hạ sốt?", True)
        private = questions.ask(people["citizen"], "Bệnh riêng của tôi", "Tôi bị ngứa nhiều ở vùng kín đã hai tuần.",
                                False)
        others = questions.ask(other, "Huyết áp của mẹ", "Mẹ tôi huyết áp 160/100 thì có nguy hiểm không?", True)
    return {"public": public, "private": private, "others": others, "other": other}


def test_a_question_is_checked_and_kept_as_typed(people, client_for, tule, in_commune):
    from health.models import Question

    client = client_for(HOST, people["citizen"])
    cases = [({"title": "", "body": "Tôi bị đau đầu kéo dài"}, "Hãy ghi chủ đề câu hỏi."),
             ({"title": "Đau đầu", "body": "ngắn"}, "ít nhất 10 ký tự"),
             ({"title": "x" * 201, "body": "Tôi bị đau đầu kéo dài"}, "Tối đa 200 ký tự"),
             ({"title": "Đau đầu", "body": "a" * 3001}, "Tối đa 3000 ký tự")]
    for data, message in cases:
        response = client.post("/ask-the-doctor/ask/", data)
        assert response.status_code == 400, data
        html = response.content.decode()
        assert message in html, data
        if data["title"] and len(data["title"]) <= 200:
            assert f'value="{data["title"]}"' in html
    with in_commune(tule):
        assert not Question.objects.exists()
    response = client.post("/ask-the-doctor/ask/", {"title": " Đau  đầu ", "body": "Tôi bị đau đầu kéo dài",
                                                     "wants_public": "on"})
    assert response.status_code == 200 and "Câu hỏi của bạn đã được gửi" in response.content.decode()
    with in_commune(tule):
        question = Question.objects.get()
        assert (question.title, question.wants_public, question.asker_id, question.state) == (
            "Đau đầu", True, people["citizen"].pk, "waiting")


def test_asking_is_limited_per_account(people, client_for, settings, tule, in_commune):
    from health.models import Question

    settings.XASO_HEALTH_ASK_RATE = "2/day"
    client = client_for(HOST, people["citizen"])
    for number in range(2):
        assert client.post("/ask-the-doctor/ask/", {"title": f"Câu {number}", "body": "Tôi bị ho kéo dài"}).status_code == 200
    refused = client.post("/ask-the-doctor/ask/", {"title": "Câu 3", "body": "Tôi bị ho kéo dài"})
    assert refused.status_code == 400 and "Quá nhiều lần" in refused.content.decode()
    with in_commune(tule):
        assert Question.objects.count() == 2


def test_the_asker_reads_only_their_own_questions(asked, people, client_for):
    html = client_for(HOST, people["citizen"]).get("/ask-the-doctor/mine/").content.decode()
    assert "Con tôi bị sốt cao ở Bản Lìm" in html and "Bệnh riêng của tôi" in html
    assert "Huyết áp của mẹ" not in html
    other = client_for(HOST, asked["other"]).get("/ask-the-doctor/mine/").content.decode()
    assert "Huyết áp của mẹ" in other and "Bệnh riêng của tôi" not in other
    assert client_for(HOST).get("/ask-the-doctor/mine/").status_code == 302
    assert client_for(HOST).get("/ask-the-doctor/ask/").status_code == 302


def test_staff_publish_only_what_the_asker_allowed_in_their_own_wording(asked, people, client_for, tule, in_commune):
    from health.models import Question
    from population.models import AccessLog

    client = client_for(HOST, people["nurse"])
    listing = client.get("/health/questions/").content.decode()
    assert listing.index("Con tôi bị sốt cao") < listing.index("Huyết áp của mẹ")  # waiting, oldest first
    assert "Câu hỏi đang chờ trả lời: 3" in listing
    url = f"/health/questions/{asked['private'].pk}/"
    detail = client.get(url)
    assert "Lò Văn Dân" in detail.content.decode()  # staff see the asker
    refused = client.post(url, {"action": "answer", "answer": "Chị nên đến trạm để khám.", "publish": "on",
                                "public_title": "Ngứa kéo dài", "public_body": "Bị ngứa hai tuần thì làm gì?"})
    assert refused.status_code == 400 and "không đồng ý đăng công khai" in refused.content.decode()
    with in_commune(tule):
        assert Question.objects.get(pk=asked["private"].pk).state == "waiting"
    url = f"/health/questions/{asked['public'].pk}/"
    missing = client.post(url, {"action": "answer", "answer": "Cho cháu uống paracetamol.", "publish": "on"})
    assert missing.status_code == 400 and "Hãy ghi chủ đề đăng công khai" in missing.content.decode()
    assert "Cho cháu uống paracetamol." in missing.content.decode()  # kept as typed
    done = client.post(url, {"action": "answer", "answer": "Cho cháu uống paracetamol theo cân nặng, lau mát.",
                             "publish": "on", "public_title": "Trẻ 3 tuổi sốt cao",
                             "public_body": "Trẻ 3 tuổi sốt 39 độ từ hôm qua, có nên dùng thuốc hạ sốt?"})
    assert done.status_code == 302
    assert client.post(f"/health/questions/{asked['others'].pk}/", {"action": "decline", "reason": ""}).status_code == 400
    assert client.post(f"/health/questions/{asked['others'].pk}/",
                       {"action": "decline", "reason": "Cần đo lại huyết áp tại trạm."}).status_code == 302
    with in_commune(tule):
        question = Question.objects.get(pk=asked["public"].pk)
        assert (question.state, question.public_title, question.answered_by_id) == (
            "published", "Trẻ 3 tuổi sốt cao", people["nurse"].pk)
        assert Question.objects.get(pk=asked["others"].pk).state == "declined"
        logged = set(AccessLog.objects.filter(user=people["nurse"], object_type="health_record")
                     .values_list("description", flat=True))
        assert f"question to the doctor {asked['private'].pk}" in logged
        assert any(text.startswith("questions to the doctor") for text in logged)


def test_the_public_page_shows_only_the_anonymised_wording(asked, people, tule, in_commune, client_for):
    from health import questions

    with in_commune(tule):
        questions.answer(people["nurse"], asked["public"], "Cho cháu uống paracetamol theo cân nặng.", publish=True,
                         public_title="Trẻ 3 tuổi sốt cao", public_body="Trẻ 3 tuổi sốt 39 độ, có nên dùng hạ sốt?")
        questions.answer(people["nurse"], asked["private"], "Chị nên đến trạm để khám.")
    anonymous = client_for(HOST)
    html = anonymous.get("/ask-the-doctor/").content.decode()
    assert "Trẻ 3 tuổi sốt cao" in html
    for secret in ("Lò Văn Dân", "Lò Văn Dũng", "Bản Lìm", "Con tôi bị sốt cao", "Bệnh riêng", "Huyết áp của mẹ",
                   "health_citizen"):
        assert secret not in html
    detail = anonymous.get(f"/ask-the-doctor/{asked['public'].pk}/").content.decode()
    assert "Cho cháu uống paracetamol" in detail and "Lò Văn Dân" not in detail and "Bản Lìm" not in detail
    for pk in (asked["private"].pk, asked["others"].pk, 10**12, 2**63):
        assert anonymous.get(f"/ask-the-doctor/{pk}/").status_code == 404
    found = anonymous.get("/ask-the-doctor/", {"q": "tre sot"}).content.decode()
    assert "Trẻ 3 tuổi sốt cao" in found
    assert "Trẻ 3 tuổi sốt cao" not in anonymous.get("/ask-the-doctor/", {"q": "huyet ap"}).content.decode()
    assert anonymous.get("/ask-the-doctor/", {"page": "99"}).status_code == 200
    home = anonymous.get("/").content.decode()
    assert "Trẻ 3 tuổi sốt cao" in home and "Lò Văn Dân" not in home


def test_the_asker_is_told_by_an_sms_job_without_the_answer(asked, people, tule, in_commune):
    from health import questions
    from notifications.models import Notification

    with in_commune(tule):
        before = Notification.objects.count()
        questions.answer(people["nurse"], asked["public"], "Cho cháu uống paracetamol theo cân nặng.")
        questions.answer(people["nurse"], asked["public"], "Bổ sung: lau mát cho cháu.")  # a change tells nobody
        questions.decline(people["nurse"], asked["others"], "Cần khám tại trạm.")  # no phone on that account
        sent = list(Notification.objects.order_by("pk")[before:])
    assert len(sent) == 1
    assert sent[0].recipients == ["0912345670"] and sent[0].channel == "sms"
    assert "Trạm y tế đã trả lời câu hỏi" in sent[0].message and "/ask-the-doctor/mine/" in sent[0].message
    assert "paracetamol" not in sent[0].message


@pytest.fixture
def roles(people, make_user, tule, yenhoa):
    from communes.models import SupervisingUnit

    return {**people, "vice": make_user("health_q_vice", roles={tule: [Role.VICE_CHAIRMAN]}),
            "supervisor": make_user("health_q_sup", units=[SupervisingUnit.objects.get(code="15")]),
            "yenhoa_nurse": make_user("health_q_yh", roles={yenhoa: [Role.HEALTH_STAFF]}), "anonymous": None}


@pytest.mark.parametrize("who", ["nurse", "chairman", "vice", "radio", "onestop", "supervisor", "citizen",
                                 "yenhoa_nurse", "anonymous"])
def test_role_matrix_of_the_staff_pages_and_api(asked, roles, client_for, who):
    client = client_for(HOST, roles[who])
    allowed = who == "nurse"
    page_status = 200 if allowed else 302 if who == "anonymous" else 403
    pk = asked["private"].pk
    assert client.get("/health/questions/").status_code == page_status
    assert client.get(f"/health/questions/{pk}/").status_code == page_status
    post = client.post(f"/health/questions/{pk}/", {"action": "answer", "answer": "Đến trạm khám."})
    assert post.status_code == (302 if allowed else page_status)
    api_status = {200} if allowed else {401, 403} if who == "anonymous" else {403}
    assert client.get("/api/v1/health/questions/").status_code in api_status
    assert client.get(f"/api/v1/health/questions/{pk}/").status_code in api_status
    answer = client.post(f"/api/v1/health/questions/{pk}/answer/", {"answer": "Đến trạm khám."},
                         content_type="application/json")
    assert answer.status_code in api_status
    decline = client.post(f"/api/v1/health/questions/{asked['others'].pk}/decline/", {"reason": "Khám tại trạm."},
                          content_type="application/json")
    assert decline.status_code in api_status
    # The public pages: anyone reads the published answers; asking needs an account.
    assert client.get("/ask-the-doctor/").status_code == 200
    assert client.get("/ask-the-doctor/ask/").status_code == (302 if who == "anonymous" else 200)
    mine = client.get("/ask-the-doctor/mine/")
    assert mine.status_code == (302 if who == "anonymous" else 200)
    if who != "citizen" and mine.status_code == 200:
        assert "Bệnh riêng của tôi" not in mine.content.decode()


def test_the_api_answers_and_refuses_with_the_error_body(asked, people, client_for):
    client = client_for(HOST, people["nurse"])
    body = client.get("/api/v1/health/questions/", {"state": "waiting"}).json()
    assert [row["title"] for row in body["results"]][:1] == ["Con tôi bị sốt cao ở Bản Lìm"]
    assert client.get("/api/v1/health/questions/", {"state": "nope"}).json()["fields"].keys() == {"state"}
    assert client.get("/api/v1/health/questions/99999999/").status_code == 404
    url = f"/api/v1/health/questions/{asked['private'].pk}/answer/"
    for data, field in (({"answer": ""}, "answer"), ({"answer": "Có", "publish": True, "public_title": "A",
                                                       "public_body": "Câu hỏi đủ dài"}, "publish"),
                        ({"answer": "x" * 5001}, "answer"), ({}, "answer")):
        response = client.post(url, data, content_type="application/json")
        assert response.status_code == 400, data
        assert field in response.json()["fields"], response.json()
    assert client.post(url, ["x"], content_type="application/json").status_code == 400
    ok = client.post(url, {"answer": "Chị nên đến trạm khám."}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["state"] == "answered"
    again = client.post(f"/api/v1/health/questions/{asked['private'].pk}/decline/", {"reason": "Muộn"},
                        content_type="application/json")
    assert again.status_code == 400 and again.json()["detail"]


def test_another_commune_sees_none_of_tu_le_s_questions(asked, roles, client_for, people, tule, in_commune):
    from health import questions

    with in_commune(tule):
        questions.answer(people["nurse"], asked["public"], "Lau mát.", publish=True, public_title="Trẻ sốt cao",
                         public_body="Trẻ 3 tuổi sốt cao thì làm gì?")
    client = client_for("yenhoa.localhost", roles["yenhoa_nurse"])
    assert client.get("/api/v1/health/questions/").json()["count"] == 0
    assert "Trẻ sốt cao" not in client_for("yenhoa.localhost").get("/ask-the-doctor/").content.decode()
    assert client_for("yenhoa.localhost").get(f"/ask-the-doctor/{asked['public'].pk}/").status_code == 404


def test_the_inbox_says_how_many_wait_and_since_when(asked, people, client_for):
    html = client_for(HOST, people["nurse"]).get("/health/").content.decode()
    assert "Câu hỏi bác sĩ đang chờ trả lời" in html
    assert "Câu hỏi bác sĩ đang chờ trả lời" not in client_for(HOST, people["chairman"]).get("/health/").content.decode()


def test_the_demo_seeds_waiting_answered_and_published_questions_once(people, station, tule, in_commune, client_for):
    from health.models import Question
    from health.question_demo import QUESTIONS, populate

    with in_commune(tule):
        made = populate(tule, people["citizen"], people["nurse"], seed=1)
        assert made == {"questions": len(QUESTIONS), "deaths": 0}  # nobody in the fixture is 75
        assert populate(tule, people["citizen"], people["nurse"], seed=1) is None
        states = sorted(Question.objects.values_list("state", flat=True))
    assert states == ["answered", "published", "published", "waiting"]
    html = client_for(HOST).get("/ask-the-doctor/", {"q": "5 trong 1"}).content.decode()
    assert "Khi nào tiêm mũi 5 trong 1?" in html


def test_a_question_taken_off_the_public_page_is_gone_from_it(asked, people, client_for, tule, in_commune):
    from health import questions
    from health.models import Question

    with in_commune(tule):
        questions.answer(people["nurse"], asked["public"], "Lau mát cho cháu.", publish=True,
                         public_title="Trẻ sốt cao về đêm", public_body="Trẻ 3 tuổi sốt cao về đêm thì làm gì?")
    url = f"/ask-the-doctor/{asked['public'].pk}/"
    assert client_for(HOST).get(url).status_code == 200
    response = client_for(HOST, people["nurse"]).post(f"/health/questions/{asked['public'].pk}/",
                                                      {"action": "unpublish"})
    assert response.status_code == 302
    assert client_for(HOST).get(url).status_code == 404
    assert "Trẻ sốt cao về đêm" not in client_for(HOST).get("/ask-the-doctor/", {"q": "sot"}).content.decode()
    with in_commune(tule):
        question = Question.objects.get(pk=asked["public"].pk)
        assert (question.state, question.public_title, question.search_text, question.answer) == (
            "answered", "", "", "Lau mát cho cháu.")
