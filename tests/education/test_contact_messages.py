"""The contact book's messages from the staff's side: only the guardians of the class (or of the
one student) who receive messages and have a phone or e-mail are written to, by one notification
per channel written in the message's transaction; bad input and the hourly limit are refused in
Vietnamese with nothing written; the role matrix; the delivery counts and the inbox's line of
failed deliveries."""
from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from education import contact

pytestmark = pytest.mark.django_db(transaction=False)

HOST = "tule.localhost"
PARENT_PHONE = "0912000222"


def _class_url(school_class) -> str:
    return f"/schools/classes/{school_class.pk}/messages/"


def _notifications(message):
    from notifications.models import Notification

    return list(Notification.objects.filter(pk__in=message.notification_ids).order_by("pk"))


def _guardian_phones(students):
    from education.models import Guardian

    return sorted(Guardian.objects.filter(student__in=students).values_list("phone", flat=True))


def test_a_homeroom_teacher_writes_to_the_guardians_of_the_class_only(tule, in_commune, schoolyard, school_people,
                                                                      client_for):
    from education.models import Guardian, Message

    y = schoolyard
    with in_commune(tule):
        # A guardian of another class (1A), one who asked for no messages, one without a phone.
        Guardian.objects.create(student=y["students1"][1], full_name="Hà Văn Bố", relation="father", phone="0912009001")
        silent = Guardian.objects.create(student=y["students6"][2], full_name="Hà Thị Lặng", relation="mother",
                                         phone="0912009002", receives_messages=False)
        Guardian.objects.create(student=y["students6"][3], full_name="Vì Văn Không", relation="other", phone="")
        expected = sorted({g.phone for g in Guardian.objects.filter(student__in=y["students6"], receives_messages=True)
                           if g.phone})
    client = client_for(HOST, school_people["literature"])
    response = client.post(_class_url(y["class6a"]), {"body": "Thứ Bảy này họp phụ huynh lúc 8 giờ.", "by_sms": "on"})
    assert response.status_code == 302
    with in_commune(tule):
        message = Message.objects.get()
        assert message.school_class == y["class6a"] and message.student is None
        assert message.sender == y["staff"]["literature"]
        assert message.body == "THCS Tú Lệ: Thứ Bảy này họp phụ huynh lúc 8 giờ."
        assert message.recipients == 5  # five guardians with a phone, the silent one left out
        [notification] = _notifications(message)
        assert notification.channel == "sms" and notification.state == "queued"
        assert notification.message == message.body
        assert sorted(notification.recipients) == expected
        assert silent.phone not in notification.recipients and "0912009001" not in notification.recipients
        assert PARENT_PHONE in notification.recipients
        assert notification.created_by_id == school_people["literature"].pk

    page = client.get(_class_url(y["class6a"]))
    html = page.content.decode()
    assert page.status_code == 200 and "Thứ Bảy này họp phụ huynh" in html
    assert "0/5" in html  # nothing sent yet: five waiting


def test_a_message_to_one_student_goes_to_that_student_s_guardians(tule, in_commune, schoolyard, school_people,
                                                                   client_for):
    from education.models import Guardian, Message

    y = schoolyard
    student = y["students6"][0]
    with in_commune(tule):
        Guardian.objects.create(student=student, full_name="Lò Văn Bố", relation="father", phone="0912009003",
                                email="bo@example.vn")
    client = client_for(HOST, school_people["math"])
    response = client.post(f"/schools/students/{student.pk}/contact-book/",
                           {"body": "Em An quên vở bài tập Toán.", "by_sms": "on", "by_email": "on"})
    assert response.status_code == 302
    with in_commune(tule):
        message = Message.objects.get()
        assert message.student == student and message.school_class == y["class6a"]
        sms, email = _notifications(message)
        assert (sms.channel, sorted(sms.recipients)) == ("sms", sorted([PARENT_PHONE, "0912009003"]))
        assert (email.channel, email.recipients) == ("email", ["bo@example.vn"])
        assert message.by_sms and message.by_email and message.recipients == 2
        # The mother's other child (1A) and the other students' families got nothing.
        assert contact.student_messages(y["students1"][0]).count() == 0
        assert list(contact.student_messages(student)) == [message]
        assert list(contact.student_messages(y["students6"][1])) == []
    page = client.get(f"/schools/students/{student.pk}/contact-book/")
    assert page.status_code == 200
    assert "Em An quên vở bài tập Toán." in page.content.decode()


def test_a_student_of_another_class_or_school_cannot_be_written_to(tule, in_commune, schoolyard, school_people,
                                                                   client_for):
    from education.models import Message

    y = schoolyard
    math = client_for(HOST, school_people["math"])
    # A pupil of the primary school: the lower-secondary teacher may not read nor write.
    assert math.post(f"/schools/students/{y['students1'][1].pk}/contact-book/",
                     {"body": "Xin chào", "by_sms": "on"}).status_code == 403
    assert math.get(f"/schools/students/{y['students1'][1].pk}/contact-book/").status_code == 403
    # Through the API, a student of 1A named in 6A's messages.
    response = math.post(f"/api/v1/education/classes/{y['class6a'].pk}/messages/",
                         {"body": "Xin chào", "student": y["students1"][1].pk}, content_type="application/json")
    assert response.status_code == 400 and set(response.json()) == {"code", "detail", "fields"}
    assert "student" in response.json()["fields"]
    with in_commune(tule):
        assert not Message.objects.exists()


@pytest.mark.parametrize("who, read, write", [
    ("principal", 200, 302), ("vice", 200, 302), ("literature", 200, 302), ("math", 200, 302),
    ("clerk", 200, 403), ("accountant", 403, 403), ("primary_principal", 403, 403),
    ("primary_teacher", 403, 403), ("unplaced", 403, 403), ("chairman", 403, 403), ("radio", 403, 403),
    ("nurse", 403, 403), ("parent", 403, 403), ("citizen", 403, 403),
])
def test_the_role_matrix_of_a_class_s_contact_book(tule, in_commune, schoolyard, school_people, client_for, who,
                                                   read, write):
    from education.models import Message

    y = schoolyard
    client = client_for(HOST, school_people[who])
    url = _class_url(y["class6a"])
    page = client.get(url)
    assert page.status_code == read
    if read != 200:
        assert "Lò Văn An" not in page.content.decode()
    assert client.get(f"/schools/students/{y['students6'][0].pk}/contact-book/").status_code == read
    assert client.post(url, {"body": "Kiểm tra quyền", "by_sms": "on"}).status_code == write
    api = client.get(f"/api/v1/education/classes/{y['class6a'].pk}/messages/")
    assert api.status_code == read
    with in_commune(tule):
        assert Message.objects.count() == (1 if write == 302 else 0)


def test_a_teacher_of_another_class_cannot_write_to_it(tule, in_commune, schoolyard, school_people, client_for):
    y = schoolyard
    # The literature teacher teaches 6A (homeroom) but not 6B; the math teacher teaches both.
    literature = client_for(HOST, school_people["literature"])
    assert literature.get(_class_url(y["class6b"])).status_code == 403
    assert literature.post(_class_url(y["class6b"]), {"body": "x", "by_sms": "on"}).status_code == 403
    math = client_for(HOST, school_people["math"])
    assert math.get(_class_url(y["class6b"])).status_code == 200
    # Staff of Tú Lệ on another commune's host find nothing.
    assert client_for("yenhoa.localhost", school_people["principal"]).get(_class_url(y["class6a"])).status_code in (
        403, 404)


def test_bad_input_is_refused_in_vietnamese_and_nothing_is_written(tule, in_commune, schoolyard, school_people,
                                                                   client_for):
    from education.models import Guardian, Message, School
    from notifications.models import Notification

    y = schoolyard
    client = client_for(HOST, school_people["literature"])
    url = _class_url(y["class6a"])
    long_text = "Kính gửi quý phụ huynh " * 30
    with translation.override("vi"):
        response = client.post(url, {"body": long_text, "by_sms": "on"})
        assert response.status_code == 400
        html = response.content.decode()
        assert "Kính gửi quý phụ huynh" in html  # the form keeps what was typed
        response = client.post(url, {"body": "  ", "by_sms": "on"})
        assert response.status_code == 400 and gettext("Write the message.") in response.content.decode()
        response = client.post(url, {"body": "Họp lớp", "by_sms": "", "by_email": ""})
        assert response.status_code == 400 and gettext("Choose SMS, e-mail or both.") in response.content.decode()
        # E-mail only, and no guardian has an e-mail address.
        response = client.post(url, {"body": "Họp lớp", "by_email": "on"})
        assert response.status_code == 400
        assert "e-mail" in response.content.decode() or "thư điện tử" in response.content.decode()
        api = client.post(f"/api/v1/education/classes/{y['class6a'].pk}/messages/", {"body": "x" * 501},
                          content_type="application/json")
        assert api.status_code == 400 and "body" in api.json()["fields"]
        api = client.post(f"/api/v1/education/classes/{y['class6a'].pk}/messages/", {"body": ""},
                          content_type="application/json")
        assert api.status_code == 400 and api.json()["fields"]["body"]
    with in_commune(tule):
        # A school without a short name puts its full name in front: 500 characters and a long name
        # would exceed what one SMS job sends.
        School.objects.filter(pk=y["thcs"].pk).update(short_name="", name="Trường " + "Phổ thông " * 19)
    with translation.override("vi"):
        response = client.post(url, {"body": "a" * 500, "by_sms": "on"})
        assert response.status_code == 400 and "a" * 500 in response.content.decode()
        assert escape(gettext("With the school's name in front, the message is too long for an SMS: shorten it by "
                              "%(count)d characters.") % {"count": 2 + len("Trường " + "Phổ thông " * 19) - 140}) \
            in response.content.decode()
    with in_commune(tule):
        Guardian.objects.filter(student__in=y["students6"]).update(receives_messages=False)
    assert client.post(url, {"body": "Không ai nhận", "by_sms": "on"}).status_code == 400
    with in_commune(tule):
        assert not Message.objects.exists() and not Notification.objects.exists()


def test_the_hourly_limit_of_a_teacher(tule, in_commune, schoolyard, school_people, client_for, monkeypatch):
    from education.models import Message

    monkeypatch.setattr(contact, "RATE_LIMIT", 3)
    y = schoolyard
    client = client_for(HOST, school_people["literature"])
    url = _class_url(y["class6a"])
    for n in range(3):
        assert client.post(url, {"body": f"Tin số {n + 1}", "by_sms": "on"}).status_code == 302
    with translation.override("vi"):
        refused = client.post(url, {"body": "Tin số 4", "by_sms": "on"})
        assert refused.status_code == 400
        html = refused.content.decode()
        assert "Tin số 4" in html
        assert (gettext("You have sent %(limit)d messages in the last hour, the most allowed. Try again in "
                        "%(minutes)d minutes.") % {"limit": 3, "minutes": 60}) in html
        api = client.post(f"/api/v1/education/classes/{y['class6a'].pk}/messages/", {"body": "Tin số 5"},
                          content_type="application/json")
        assert api.status_code == 400 and api.json()["code"] == "invalid"
    # Another teacher counts on their own.
    assert client_for(HOST, school_people["math"]).post(url, {"body": "Tin của thầy Toán", "by_sms": "on"}
                                                        ).status_code == 302
    with in_commune(tule):
        assert Message.objects.count() == 4


def test_sms_segments():
    assert contact.sms_segments("") == 0
    assert contact.sms_segments("a" * 160) == 1
    assert contact.sms_segments("a" * 161) == 2
    assert contact.sms_segments("a" * 306) == 2 and contact.sms_segments("a" * 307) == 3
    assert contact.sms_segments("ă" * 70) == 1 and contact.sms_segments("ă" * 71) == 2
    assert contact.sms_segments("ă" * 134) == 2 and contact.sms_segments("ă" * 135) == 3
    assert contact.sms_segments("{" * 80) == 1 and contact.sms_segments("{" * 81) == 2


def test_delivery_counts_and_the_inbox_line_of_failed_deliveries(tule, in_commune, schoolyard, school_people,
                                                                 client_for, rf):
    from communes.models import Role
    from notifications.models import Delivery

    y = schoolyard
    teacher = school_people["literature"]
    with in_commune(tule):
        first = contact.send_message(teacher, body="Tin thứ nhất", school_class=y["class6a"])
        second = contact.send_message(teacher, body="Tin thứ hai", school_class=y["class6a"])
        other = contact.send_message(school_people["math"], body="Tin của thầy Toán", school_class=y["class6a"])
        for message, statuses in ((first, ["sent", "sent", "failed", "sent", "sent"]),
                                  (second, ["sent"] * 5), (other, ["failed"] * 5)):
            [notification_id] = message.notification_ids
            recipients = sorted(_notifications(message)[0].recipients)
            Delivery.objects.bulk_create([
                Delivery(notification_id=notification_id, index=i, recipient=r, status=s,
                         idempotency_key=f"t-{notification_id}-{i}")
                for i, (r, s) in enumerate(zip(recipients, statuses))])
        counts = contact.delivery_counts([first, second, other])
        assert (counts[first.pk].sent, counts[first.pk].failed, counts[first.pk].waiting) == (4, 1, 0)
        assert (counts[second.pk].sent, counts[second.pk].failed) == (5, 0)
        assert list(contact.failed_messages(teacher)) == [first]
        request = rf.get("/schools/")
        [line] = contact.inbox_lines(request, teacher, {Role.SCHOOL_STAFF})
        assert line.count == 1 and line.url == "/schools/messages/?failed=1"
        assert contact.inbox_lines(request, school_people["chairman"], {Role.CHAIRMAN}) == []
    client = client_for(HOST, teacher)
    html = client.get(line.url).content.decode()
    assert "Tin thứ nhất" in html and "Tin thứ hai" not in html and "Tin của thầy Toán" not in html
    assert "Tin thứ hai" in client.get("/schools/messages/").content.decode()
    page = client.get(_class_url(y["class6a"])).content.decode()
    assert "4/5" in page and "5/5" in page
    home = client.get("/schools/").content.decode()
    assert "/schools/messages/?failed=1" in home


def test_the_class_messages_api(tule, in_commune, schoolyard, school_people, client_for):
    from population.models import AccessLog

    y = schoolyard
    client = client_for(HOST, school_people["math"])
    url = f"/api/v1/education/classes/{y['class6a'].pk}/messages/"
    created = client.post(url, {"body": "Nộp bài tập Toán trước thứ Sáu.", "by_sms": True},
                          content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["body"] == "THCS Tú Lệ: Nộp bài tập Toán trước thứ Sáu." and body["recipients"] == 5
    assert body["deliveries"] == {"sent": 0, "failed": 0, "waiting": 5} and body["sms_segments"] == 1
    listed = client.get(url)
    assert listed.status_code == 200 and [m["id"] for m in listed.json()["results"]] == [body["id"]]
    assert client.get("/api/v1/education/classes/99999999999999999999/messages/").status_code == 404
    assert client.get("/api/v1/education/classes/999999/messages/").json()["code"] == "not_found"
    with in_commune(tule):
        assert AccessLog.objects.filter(object_type="school_class", object_id=str(y["class6a"].pk),
                                        channel="api").exists()


@pytest.mark.parametrize("payload", [
    {}, {"body": None}, {"body": ["a"]}, {"body": "Xin chào", "by_sms": "có"},
    {"body": "Xin chào", "student": "một"}, {"body": "Xin chào", "student": 2**70}, {"body": "Xin chào", "student": -1},
    {"body": "Xin \x00 chào"}, {"body": "Xin chào", "by_sms": False, "by_email": False}, [], "body",
])
def test_odd_api_input_is_refused_with_the_common_body(tule, in_commune, schoolyard, school_people, client_for,
                                                       payload):
    import json

    from education.models import Message

    client = client_for(HOST, school_people["literature"])
    response = client.post(f"/api/v1/education/classes/{schoolyard['class6a'].pk}/messages/", json.dumps(payload),
                           content_type="application/json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"code", "detail", "fields"}
    with in_commune(tule):
        assert not Message.objects.exists()


def test_odd_addresses_answer_without_a_server_error(schoolyard, school_people, client_for):
    client = client_for(HOST, school_people["literature"])
    huge = 10**25
    for url in (f"/schools/classes/{huge}/messages/", f"/schools/students/{huge}/contact-book/",
                f"/api/v1/education/classes/{huge}/messages/", "/schools/messages/?failed=%00"):
        assert client.get(url).status_code in (200, 400, 404), url
    api = client.get(f"/api/v1/education/classes/{schoolyard['class6a'].pk}/messages/?page=abc")
    assert api.status_code == 404 and set(api.json()) == {"code", "detail", "fields"}
    assert client.get(f"/api/v1/education/classes/{schoolyard['class6a'].pk}/messages/?page_size=100000"
                      ).status_code == 200
    parent = client_for(HOST, school_people["parent"])
    assert parent.get(f"/my-children/{huge}/").status_code == 404
    assert parent.get(f"/api/v1/education/my-children/{huge}/").status_code == 404
