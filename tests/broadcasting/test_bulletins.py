"""Bulletins through the services and the API: text read as an announcer would and its speech
requested once, an uploaded recording instead, the approval flow with its roles and states,
emergency broadcasts, pronunciations, and bad input — each refused with a clear message
(English source here; the catalogue gives the Vietnamese), never a 500, nothing half-saved."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from broadcasting import services
from broadcasting.models import AudioAsset, Bulletin, Emergency, Pronunciation, SpeechJob

from .helpers import JSON, StayIn, approved_bulletin, clock, d, make_cluster, make_mp3  # noqa: F401

TEXT = "UBND xã thông báo: họp dân lúc 7h30 ngày 12/12 tại nhà văn hóa Bản Lướt."


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def staff(in_tule, people, villages, clock):
    return {"operator": people["radio_operator"], "chairman": people["chairman"],
            "vice": people["vice_chairman"], "admin": people["commune_admin"], "clerk": people["clerk"],
            "villages": villages, "clock": clock}


def messages(exc: ValidationError) -> dict:
    return {key: value[0] for key, value in exc.message_dict.items()}


def new(staff, **data) -> Bulletin:
    payload = {"title": "Họp dân", "text": TEXT, "valid_from": "03/12/2026", "valid_until": "10/12/2026"}
    payload.update(data)
    return services.create_bulletin(user=staff["operator"], data=payload)


def test_text_is_read_as_an_announcer_would_and_rendered_once(staff):
    bulletin = new(staff, village_ids=[staff["villages"][0].pk], repeats_per_day=2, category="policy")
    assert bulletin.state == "draft" and bulletin.created_by_id == staff["operator"].pk
    assert "ủy ban nhân dân" in bulletin.normalized_text and "bảy giờ ba mươi phút" in bulletin.normalized_text
    assert "ngày mười hai tháng mười hai" in bulletin.normalized_text
    assert bulletin.priority == 40 and bulletin.repeats_per_day == 2  # the category's priority
    assert bulletin.valid_from == d("03/12/2026") and bulletin.valid_until == d("10/12/2026")
    assert [v.pk for v in bulletin.villages.all()] == [staff["villages"][0].pk]
    asset = bulletin.asset
    assert asset is not None and not asset.ready and asset.text == bulletin.normalized_text
    assert SpeechJob.objects.filter(asset=asset).count() == 1
    # The same text again (another bulletin): the same audio, no second rendering.
    twin = new(staff, title="Họp dân (nhắc lại)")
    assert twin.asset_id == asset.pk and SpeechJob.objects.count() == 1 and AudioAsset.objects.count() == 1
    # Another voice is another rendering.
    voices = [key for key, _label in services.available_voices()]
    other_voice = next(v for v in voices if v != asset.voice)
    south = new(staff, title="Giọng miền Nam", voice=other_voice)
    assert south.asset_id != asset.pk and south.asset.voice == other_voice and SpeechJob.objects.count() == 2


def test_defaults(staff):
    bulletin = services.create_bulletin(user=staff["operator"], data={"title": "Tin ngắn", "text": "Chào bà con."})
    today = staff["clock"].now.date()
    assert (bulletin.valid_from, bulletin.valid_until) == (today, today)
    assert bulletin.category == "news" and bulletin.priority == 30 and bulletin.repeats_per_day == 1
    assert bulletin.voice == bulletin.asset.voice


def test_approval_flow(staff):
    operator, chairman = staff["operator"], staff["chairman"]
    bulletin = new(staff)
    bulletin = services.submit_bulletin(bulletin=bulletin, user=operator)
    assert bulletin.state == "submitted" and bulletin.submitted_at == staff["clock"].now
    with pytest.raises(PermissionDenied):
        services.approve_bulletin(bulletin=bulletin, user=operator)  # the writer does not approve
    with pytest.raises(PermissionDenied):
        services.approve_bulletin(bulletin=bulletin, user=staff["admin"])
    bulletin = services.approve_bulletin(bulletin=bulletin, user=staff["vice"], note="Đồng ý")
    assert bulletin.state == "approved" and bulletin.decided_by_id == staff["vice"].pk
    assert bulletin.decision_note == "Đồng ý"
    with pytest.raises(ValidationError) as again:
        services.approve_bulletin(bulletin=bulletin, user=chairman)
    assert services.error_code(again.value) == "wrong_state"
    with pytest.raises(ValidationError) as edit:
        services.update_bulletin(bulletin=bulletin, user=operator, data={"title": "Khác"})
    assert services.error_code(edit.value) == "wrong_state"
    bulletin = services.withdraw_bulletin(bulletin=bulletin, user=chairman)
    assert bulletin.state == "withdrawn"
    with pytest.raises(ValidationError):
        services.withdraw_bulletin(bulletin=bulletin, user=operator)
    assert [h.state for h in Bulletin.history.filter(id=bulletin.pk).order_by("history_date", "history_id")] == [
        "draft", "submitted", "approved", "withdrawn"]


def test_sent_back_edited_and_submitted_again(staff, english):
    operator, chairman = staff["operator"], staff["chairman"]
    bulletin = services.submit_bulletin(bulletin=new(staff), user=operator)
    with pytest.raises(ValidationError) as no_note:
        services.reject_bulletin(bulletin=bulletin, user=chairman, note="  ")
    assert messages(no_note.value) == {"note": "Say why the bulletin is sent back."}
    bulletin = services.reject_bulletin(bulletin=bulletin, user=chairman, note="Sai giờ họp")
    assert bulletin.state == "rejected" and bulletin.decision_note == "Sai giờ họp"
    first_asset = bulletin.asset_id
    bulletin = services.update_bulletin(bulletin=bulletin, user=operator,
                                        data={"text": TEXT.replace("7h30", "8h"), "repeats_per_day": 3})
    assert bulletin.state == "draft" and bulletin.repeats_per_day == 3
    assert bulletin.asset_id != first_asset and "tám giờ" in bulletin.normalized_text
    assert bulletin.title == "Họp dân" and bulletin.valid_until == d("10/12/2026")  # untouched
    # Only the fields sent change; the same text keeps its audio.
    same = services.update_bulletin(bulletin=bulletin, user=operator, data={"title": "Họp dân bản"})
    assert same.asset_id == bulletin.asset_id and same.title == "Họp dân bản"
    assert services.submit_bulletin(bulletin=same, user=operator).state == "submitted"


def test_roles_of_the_services(staff):
    with pytest.raises(PermissionDenied):
        services.create_bulletin(user=staff["chairman"], data={"title": "x", "text": "Chào bà con."})
    with pytest.raises(PermissionDenied):
        services.create_bulletin(user=staff["clerk"], data={"title": "x", "text": "Chào bà con."})
    bulletin = new(staff)
    with pytest.raises(PermissionDenied):
        services.submit_bulletin(bulletin=bulletin, user=staff["chairman"])
    with pytest.raises(PermissionDenied):
        services.withdraw_bulletin(bulletin=bulletin, user=staff["admin"])
    with pytest.raises(PermissionDenied):
        services.send_emergency(user=staff["operator"], bulletin_data={"text": "Bão"})
    with pytest.raises(PermissionDenied):
        make_cluster(staff["chairman"], staff["villages"][0])
    assert not Emergency.objects.exists()


BAD_INPUT = [
    ({"text": ""}, "text", "Write the text of the bulletin (or upload a recording)."),
    ({"text": "   \n "}, "text", "Write the text of the bulletin (or upload a recording)."),
    ({"text": "Bão ☃ sắp đến 😀"}, "text",
     "The voice cannot read these characters: “☃”, “😀”. Remove them or write them in words."),
    ({"text": "Thông báo тест"}, "text", "The voice cannot read these characters: “т”, “е”, “с”. Remove them or "
                                         "write them in words."),
    ({"text": ["a"]}, "text", "The text is not valid."),
    ({"title": ""}, "title", "Give the bulletin a title."),
    ({"title": "x" * 201}, "title", "The title is too long: at most 200 characters."),
    ({"valid_from": "31/02/2026"}, "valid_from", "Enter a valid date (dd/mm/yyyy)."),
    ({"valid_from": "hôm nay"}, "valid_from", "Enter a valid date (dd/mm/yyyy)."),
    ({"valid_until": "2026-13-01"}, "valid_until", "Enter a valid date (dd/mm/yyyy)."),
    ({"valid_from": 20261203}, "valid_from", "Enter a valid date (dd/mm/yyyy)."),
    ({"valid_from": "01/01/1900"}, "valid_from", "Enter a valid date (dd/mm/yyyy)."),
    ({"valid_until": "01/12/2026"}, "valid_until", "The last day is before the first day."),
    ({"valid_from": "20/11/2026", "valid_until": "25/11/2026"}, "valid_until",
     "The last day has passed: the bulletin would never air."),
    ({"valid_until": "10/12/2027"}, "valid_until", "A bulletin can be valid for at most a year."),
    ({"repeats_per_day": 0}, "repeats_per_day", "Times a day: a whole number from 1 to 20."),
    ({"repeats_per_day": 21}, "repeats_per_day", "Times a day: a whole number from 1 to 20."),
    ({"repeats_per_day": "ba"}, "repeats_per_day", "Times a day: a whole number from 1 to 20."),
    ({"repeats_per_day": 2.5}, "repeats_per_day", "Times a day: a whole number from 1 to 20."),
    ({"priority": 101}, "priority", "Enter a whole number from 0 to 100."),
    ({"category": "sport"}, "category",
     "Choose one of the categories: News, Policy and law, Weather, Health, Emergency."),
    ({"village_ids": [999999]}, "village_ids", "There is no village with the id 999999."),
    ({"village_ids": "abc"}, "village_ids", "Send a list of ids."),
    ({"cluster_ids": [1, -2]}, "cluster_ids", "Send a list of ids."),
    ({"cluster_ids": [10**30]}, "cluster_ids", "Send a list of ids."),
    ({"cluster_ids": {"a": 1}}, "cluster_ids", "Send a list of ids."),
    ({"voice": "klingon"}, "voice", None),
    ({"upload": "not a file"}, "upload", "Upload an audio file."),
]


@pytest.mark.parametrize("data,field,message", BAD_INPUT, ids=[f"{c[1]}-{i}" for i, c in enumerate(BAD_INPUT)])
def test_bad_input_is_refused_with_a_clear_message(staff, english, data, field, message):
    with pytest.raises(ValidationError) as refused:
        new(staff, **data)
    got = messages(refused.value)
    assert field in got, got
    if message:
        assert got[field] == message
    else:
        assert got[field]
    assert not Bulletin.objects.exists() and not AudioAsset.objects.exists() and not SpeechJob.objects.exists()


def test_oversized_text(staff, english, settings):
    settings.XASO_TTS_MAX_CHARS = 50
    with pytest.raises(ValidationError) as refused:
        new(staff, text="a " * 30)
    assert messages(refused.value) == {"text": "The text is too long: 59 characters, at most 50."}
    assert new(staff, text="Chào bà con.").pk  # within the limit


def test_several_errors_at_once(staff, english):
    with pytest.raises(ValidationError) as refused:
        new(staff, title="", text="", repeats_per_day=0, valid_from="x")
    assert set(messages(refused.value)) == {"title", "text", "repeats_per_day", "valid_from"}


def test_not_a_dict(staff):
    with pytest.raises(ValidationError):
        services.create_bulletin(user=staff["operator"], data=["title"])


def test_a_pronunciation_makes_a_character_sayable(staff, english):
    with pytest.raises(ValidationError):
        new(staff, text="Giải thưởng ★ của xã")
    item = services.save_pronunciation(user=staff["operator"], data={"written": "★", "spoken": "ngôi sao"})
    assert new(staff, text="Giải thưởng ★ của xã").normalized_text.count("ngôi sao") == 1
    with pytest.raises(ValidationError) as duplicate:
        services.save_pronunciation(user=staff["admin"], data={"written": "★", "spoken": "sao"})
    assert messages(duplicate.value) == {"written": "This word already has a reading."}
    with pytest.raises(ValidationError) as bad:
        services.save_pronunciation(user=staff["operator"], data={"written": "HTX", "spoken": "hợp tác xã ☃"})
    assert "☃" in messages(bad.value)["spoken"]
    with pytest.raises(PermissionDenied):
        services.save_pronunciation(user=staff["chairman"], data={"written": "A", "spoken": "a"})
    services.delete_pronunciation(pronunciation=item, user=staff["operator"])
    assert not Pronunciation.objects.filter(written="★").exists()


def test_uploaded_recording_instead_of_text(staff, english):
    upload = SimpleUploadedFile("thong-bao.mp3", make_mp3(2.0), content_type="audio/mpeg")
    bulletin = new(staff, text="", upload=upload, title="Thông báo thu âm")
    assert bulletin.uploaded_audio == "thong-bao.mp3" and bulletin.normalized_text == ""
    assert bulletin.asset.ready and bulletin.asset.engine == "upload"
    assert 1.5 < float(bulletin.asset.duration_seconds) < 2.5
    assert not SpeechJob.objects.exists()
    # The transcript may be kept beside the recording; the recording is what airs.
    with_text = new(staff, text="Bản ghi âm thông báo.", upload=SimpleUploadedFile("b.mp3", make_mp3(2.0)))
    assert with_text.asset_id == bulletin.asset_id and not SpeechJob.objects.exists()
    # Editing other fields keeps the recording (its transcript too).
    edited = services.update_bulletin(bulletin=bulletin, user=staff["operator"], data={"title": "Mới", "text": ""})
    assert edited.asset_id == bulletin.asset_id and edited.uploaded_audio
    kept = services.update_bulletin(bulletin=with_text, user=staff["operator"],
                                    data={"title": "Mới", "text": "Bản ghi âm thông báo.", "repeats_per_day": 2})
    assert kept.asset_id == bulletin.asset_id and kept.uploaded_audio and not SpeechJob.objects.exists()
    # A new text makes the voice read it.
    spoken = services.update_bulletin(bulletin=kept, user=staff["operator"], data={"text": "Thông báo mới."})
    assert spoken.uploaded_audio == "" and spoken.asset.engine != "upload" and SpeechJob.objects.count() == 1
    # Not audio: refused on the upload field, nothing saved.
    count = Bulletin.objects.count()
    with pytest.raises(ValidationError) as refused:
        new(staff, text="", upload=SimpleUploadedFile("virus.mp3", b"MZ" + b"\x00" * 400))
    assert "upload" in messages(refused.value) and Bulletin.objects.count() == count


def test_emergency_from_text(staff, english):
    a, _token = make_cluster(staff["operator"], staff["villages"][0])
    b, _token = make_cluster(staff["operator"], staff["villages"][1])
    emergency = services.send_emergency(user=staff["vice"], bulletin_data={
        "title": "Cảnh báo lũ quét", "text": "Khẩn cấp: lũ quét trên suối Nậm Lướt, bà con tránh xa bờ suối."},
        cluster_ids=[a.pk], repeats=2)
    bulletin = emergency.bulletin
    assert bulletin.state == "approved" and bulletin.category == "emergency" and bulletin.priority == 100
    assert bulletin.decided_by_id == staff["vice"].pk and bulletin.created_by_id == staff["vice"].pk
    assert [c.pk for c in bulletin.clusters.all()] == [a.pk] and [c.pk for c in emergency.clusters.all()] == [a.pk]
    assert bulletin.asset is not None and SpeechJob.objects.filter(asset=bulletin.asset).exists()
    assert emergency.repeats == 2 and emergency.sent_by_id == staff["vice"].pk
    cases = [
        ({"bulletin_data": {"text": ""}}, "text"),
        ({"bulletin_data": {"text": "Bão ☃"}}, "text"),
        ({"bulletin_data": {"text": "Bão"}, "cluster_ids": [999999]}, "cluster_ids"),
        ({"bulletin_data": {"text": "Bão"}, "cluster_ids": "x"}, "cluster_ids"),
        ({"bulletin_data": {"text": "Bão"}, "repeats": 11}, "repeats"),
        ({"bulletin_data": {"text": "Bão"}, "repeats": 0}, "repeats"),
        ({}, "text"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as refused:
            services.send_emergency(user=staff["chairman"], **kwargs)
        assert field in messages(refused.value), kwargs
    assert Emergency.objects.count() == 1
    withdrawn = approved_bulletin(state="withdrawn")
    with pytest.raises(ValidationError):
        services.send_emergency(user=staff["chairman"], bulletin=withdrawn)


def test_bulletins_through_the_api(staff, client_for, in_tule):
    api = StayIn(client_for("tule.localhost", staff["operator"]), in_tule)
    created = api.post("/api/v1/radio/bulletins/", {
        "title": "Tiêm chủng", "text": "Trạm y tế tiêm vắc xin cho trẻ dưới 5 tuổi ngày 5/12.", "category": "health",
        "valid_from": "03/12/2026", "valid_until": "06/12/2026", "repeats_per_day": 2,
        "village_ids": [v.pk for v in staff["villages"][:2]]}, **JSON)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "draft" and body["priority"] == 50 and body["valid_from"] == "2026-12-03"
    assert body["asset"]["ready"] is False and "năm tuổi" in body["normalized_text"]
    assert body["village_ids"] == sorted(v.pk for v in staff["villages"][:2])
    pk = body["id"]
    status = api.get(f"/api/v1/radio/bulletins/{pk}/audio/")
    assert status.status_code == 200 and status.json()["ready"] is False and status.json()["state"] == "queued"
    patched = api.patch(f"/api/v1/radio/bulletins/{pk}/", {"repeats_per_day": 4}, **JSON)
    assert patched.status_code == 200 and patched.json()["repeats_per_day"] == 4
    assert api.post(f"/api/v1/radio/bulletins/{pk}/submit/").json()["state"] == "submitted"
    conflict = api.post(f"/api/v1/radio/bulletins/{pk}/submit/")
    assert conflict.status_code == 409 and conflict.json()["code"] == "wrong_state"
    leader = StayIn(client_for("tule.localhost", staff["chairman"]), in_tule)
    sent_back = leader.post(f"/api/v1/radio/bulletins/{pk}/reject/", {}, **JSON)
    assert sent_back.status_code == 400 and sent_back.json()["fields"] == {"note": [sent_back.json()["detail"]]}
    approved = leader.post(f"/api/v1/radio/bulletins/{pk}/approve/", {"note": "Được"}, **JSON)
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    listed = api.get("/api/v1/radio/bulletins/?state=approved").json()
    assert [b["id"] for b in listed["results"]] == [pk]
    assert api.get("/api/v1/radio/bulletins/?category=news").json()["results"] == []
    upload = api.post("/api/v1/radio/bulletins/", {"title": "Ghi âm", "upload": SimpleUploadedFile(
        "a.mp3", make_mp3(2.0)), "village_ids": [staff["villages"][0].pk]})
    assert upload.status_code == 201 and upload.json()["asset"]["ready"] is True
    assert upload.json()["village_ids"] == [staff["villages"][0].pk]


API_BAD = [
    {"title": "Tin", "text": ""},
    {"title": "Tin", "text": "Bão ☃"},
    {"title": "Tin", "text": "Chào", "valid_from": "31/02/2026"},
    {"title": "Tin", "text": "Chào", "valid_from": "10/12/2026", "valid_until": "05/12/2026"},
    {"title": "Tin", "text": "Chào", "repeats_per_day": 0},
    {"title": "Tin", "text": "Chào", "repeats_per_day": 99},
    {"title": "Tin", "text": "Chào", "repeats_per_day": None, "priority": "cao"},
    {"title": None, "text": None},
    {"title": {"a": 1}, "text": "Chào"},
    {"title": "Tin", "text": "Chào", "village_ids": [None]},
    {"title": "Tin", "text": "Chào", "cluster_ids": "1,x"},
    {"title": "Tin", "text": "Chào", "voice": ["vi"]},
    {"title": "Tin", "text": "x" * 20001},
    {"title": "Tin", "text": "Chào", "category": None, "valid_until": ""},  # valid: defaults
    {"title": "Tin", "text": "Chào\x00 bà con"},  # valid: the NUL is dropped
]


def test_bad_input_through_the_api_is_400_never_500(staff, client_for, in_tule):
    api = StayIn(client_for("tule.localhost", staff["operator"]), in_tule)
    got = []
    for payload in API_BAD:
        response = api.post("/api/v1/radio/bulletins/", payload, **JSON)
        got.append(response.status_code)
        if response.status_code == 400:
            body = response.json()
            assert set(body) == {"code", "detail", "fields"} and body["detail"] and body["fields"], payload
    assert got == [400] * 13 + [201, 201]
    assert Bulletin.objects.order_by("pk").last().text == "Chào bà con"
    for raw in ("[]", '"text"', "{bad json", "null"):
        response = api.post("/api/v1/radio/bulletins/", raw, content_type="application/json")
        assert response.status_code == 400, raw
    assert api.post("/api/v1/radio/bulletins/", {"title": "x", "upload": SimpleUploadedFile(
        "x.mp3", b"not audio at all" * 10)}).status_code == 400
    assert api.get("/api/v1/radio/bulletins/999999999999999999999/").status_code == 404
    assert api.get("/api/v1/radio/bulletins/?state=" + "x" * 500).status_code == 200


def test_messages_are_vietnamese(staff, client_for, in_tule):
    """The API speaks the portal's language (Vietnamese unless a person chose otherwise)."""
    api = StayIn(client_for("tule.localhost", staff["operator"]), in_tule)
    cases = [
        ({"title": "Tin", "text": ""}, "text", "Hãy viết nội dung bản tin (hoặc tải lên bản ghi âm)."),
        ({"title": "Tin", "text": "Bão ☃"}, "text",
         "Giọng đọc không đọc được các ký tự: “☃”. Hãy xóa chúng hoặc viết thành chữ."),
        ({"title": "Tin", "text": "Chào", "valid_from": "31/02/2026"}, "valid_from", "Nhập ngày hợp lệ (dd/mm/yyyy)."),
        ({"title": "Tin", "text": "Chào", "repeats_per_day": 0}, "repeats_per_day",
         "Số lần phát mỗi ngày: một số nguyên từ 1 đến 20."),
    ]
    for payload, field, message in cases:
        response = api.post("/api/v1/radio/bulletins/", payload, **JSON)
        assert response.status_code == 400 and response["Content-Language"] == "vi"
        assert response.json()["fields"][field] == [message]
