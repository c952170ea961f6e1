"""The officials' pages of the commune radio, through the real middleware on tule.localhost:
each page for the roles that may open it (403 for the others), the bulletin editor with its
"as read" preview and its listen button (speech requested once, progress, then the player —
the speech job run in this process with the real eSpeak NG and MP3 encoder), submission and a
leader's approval, an emergency broadcast, clusters with their device tokens (shown once),
slots, pronunciations, the week's calendar and the reports; bad input gets Vietnamese errors."""
from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from communes.models import Role

HOST = "tule.localhost"

# Each page with the action of broadcasting.permissions that opens it.
PAGES = {
    "/radio/": "module.open",
    "/radio/week/": "bulletin.read",
    "/radio/bulletins/": "bulletin.read",
    "/radio/bulletins/new/": "bulletin.write",
    "/radio/emergency/": "emergency.send",
    "/radio/clusters/": "cluster.read",
    "/radio/slots/": "bulletin.read",
    "/radio/pronunciations/": "bulletin.read",
    "/radio/reports/": "report.read",
}


def errors_of(response) -> str:
    html = response.content.decode()
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S))


def run_speech_jobs(tule) -> list[str]:
    """Run the queued speech jobs in this process, as a worker would."""
    from broadcasting.models import SpeechJob
    from jobs.models import JobState
    from jobs.services import execute

    return [execute(SpeechJob, pk, tule.schema_name)
            for pk in SpeechJob.objects.filter(state=JobState.QUEUED).values_list("pk", flat=True)]


@pytest.fixture
def make_client(tule, client_for):
    """A client on Tú Lệ's host; after each request the test's queries run in Tú Lệ's schema again
    (the middleware leaves the connection on the public schema)."""
    from django.db import connection

    def make(user=None):
        made = client_for(HOST, user)
        original = made.request

        def request(**kwargs):
            try:
                return original(**kwargs)
            finally:
                connection.set_tenant(tule)

        made.request = request
        return made

    return make


@pytest.fixture
def operator(people, make_client):
    return make_client(people["radio_operator"])


@pytest.fixture
def chairman(people, make_client):
    return make_client(people["chairman"])


@pytest.fixture
def cluster(in_tule, villages, people):
    from broadcasting import services

    made, _token = services.create_cluster(user=people["radio_operator"], data={
        "name": "Cụm loa trung tâm", "village_id": villages[0].pk, "latitude": "21.798500", "longitude": "104.296000",
        "speakers": 2})
    return made


def bulletin_data(**extra) -> dict:
    today = timezone.localdate()
    data = {
        "title": "Tiêm chủng mở rộng", "category": "health",
        "text": "Từ ngày 12/3, Trạm Y tế xã tiêm chủng lúc 7h30.", "voice": "", "priority": "",
        "valid_from": today.strftime("%d/%m/%Y"), "valid_until": (today + datetime.timedelta(days=3)).strftime("%d/%m/%Y"),
        "repeats_per_day": "2",
    }
    data.update(extra)
    return data


# --- roles -------------------------------------------------------------------------------------

def test_each_page_opens_for_its_roles_and_is_refused_to_the_others(people, in_tule, make_client, cluster):
    from broadcasting import services
    from broadcasting.permissions import ACTION_ROLES

    bulletin = services.create_bulletin(user=people["radio_operator"], data={
        "title": "Họp dân", "text": "Họp dân lúc 19h.", "valid_from": timezone.localdate(),
        "valid_until": timezone.localdate()})
    pages = {**PAGES, f"/radio/bulletins/{bulletin.pk}/": "bulletin.read",
             f"/radio/bulletins/{bulletin.pk}/edit/": "bulletin.write", f"/radio/clusters/{cluster.pk}/": "cluster.read",
             f"/radio/audio/{bulletin.asset.key}/": "module.open"}
    for role in Role:
        client = make_client(people[role.value])
        for url, action in pages.items():
            response = client.get(url)
            expected = 200 if role.value in ACTION_ROLES[action] else 403
            assert response.status_code == expected, (role.value, url, response.status_code)
    anonymous = make_client().get("/radio/")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_pages_are_vietnamese_first_and_fit_a_phone(operator, in_tule, cluster):
    html = operator.get("/radio/").content.decode()
    assert '<html lang="vi">' in html and 'name="viewport" content="width=device-width' in html
    # The layout collapses to one column under 480 px (the calendar, the figures): the radio's
    # style sheet, a static file (the Content-Security-Policy allows no inline style).
    assert '<link rel="stylesheet" href="/static/css/broadcasting.css">' in html
    from django.contrib.staticfiles import finders

    assert "@media (max-width:480px)" in open(finders.find("css/broadcasting.css")).read()
    assert 'href="/radio/bulletins/new/"' in html and 'href="/radio/emergency/"' not in html


# --- clusters and device tokens ------------------------------------------------------------------

def test_a_new_cluster_shows_its_token_once(operator, in_tule, villages):
    from broadcasting import services
    from broadcasting.models import Cluster

    response = operator.post("/radio/clusters/", {
        "new-name": "Cụm loa bản Lướt", "new-village": str(villages[0].pk), "new-latitude": "21,8012",
        "new-longitude": "104.3105", "new-speakers": "2", "new-active": "on"})
    assert response.status_code == 200, errors_of(response)
    token = re.search(r'<p class="token">([^<]+)</p>', response.content.decode()).group(1)
    made = Cluster.objects.get(name="Cụm loa bản Lướt")
    assert str(made.latitude) == "21.801200" and services.device_for_token(token) == made
    assert response["Cache-Control"] == "no-store, private" and made.token_hash != token
    again = operator.get(f"/radio/clusters/{made.pk}/").content.decode()
    assert token not in again and made.token_hint in again
    # The list and its map (an SVG drawn on the page, no tiles) show it, offline until it reports.
    listing = operator.get("/radio/clusters/").content.decode()
    assert "<svg" in listing and "Cụm loa bản Lướt" in listing and 'class="badge off"' in listing
    assert "<circle" in listing and "tile" not in listing


def test_token_rotate_and_revoke(operator, chairman, in_tule, cluster):
    from broadcasting import services
    from broadcasting.models import Cluster

    old_hash = cluster.token_hash
    response = operator.post(f"/radio/clusters/{cluster.pk}/token/rotate/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    token = re.search(r'<p class="token">([^<]+)</p>', response.content.decode()).group(1)
    cluster.refresh_from_db()
    assert cluster.token_hash != old_hash and services.device_for_token(token) == cluster
    assert token not in operator.get(f"/radio/clusters/{cluster.pk}/").content.decode()
    # A leader reads clusters but does not manage tokens.
    assert chairman.post(f"/radio/clusters/{cluster.pk}/token/rotate/").status_code == 403
    assert chairman.get(f"/radio/clusters/{cluster.pk}/").status_code == 200
    response = operator.post(f"/radio/clusters/{cluster.pk}/token/revoke/")
    assert response.status_code == 302
    assert services.device_for_token(token) is None
    assert Cluster.objects.get(pk=cluster.pk).token_revoked_at is not None
    # Revoking twice is a clear message, not an error page.
    again = operator.post(f"/radio/clusters/{cluster.pk}/token/revoke/", follow=True)
    assert again.status_code == 200 and 'class="messages"' in again.content.decode()
    assert operator.post(f"/radio/clusters/{cluster.pk}/token/unknown/").status_code == 404


def test_cluster_bad_input_gets_vietnamese_errors(operator, in_tule, villages):
    from broadcasting.models import Cluster

    response = operator.post("/radio/clusters/", {"new-name": "", "new-village": "", "new-latitude": "95",
                                                  "new-longitude": "abc", "new-speakers": "0"})
    assert response.status_code == 400
    errors = errors_of(response)
    assert "Trường này là bắt buộc" in errors and "Giá trị này phải nhỏ hơn hoặc bằng 90" in errors
    assert not Cluster.objects.exists()
    # A duplicate name in the same village: the service's refusal lands on the field.
    operator.post("/radio/clusters/", {"new-name": "Cụm A", "new-village": str(villages[0].pk), "new-speakers": "2",
                                       "new-active": "on"})
    duplicate = operator.post("/radio/clusters/", {"new-name": "Cụm A", "new-village": str(villages[0].pk),
                                                   "new-speakers": "2", "new-active": "on"})
    assert duplicate.status_code == 400 and "name" in duplicate.context["form"].errors
    assert Cluster.objects.count() == 1


# --- the editor -----------------------------------------------------------------------------

def test_preview_shows_the_text_as_read(operator, in_tule, people, make_client):
    response = operator.post("/radio/preview/", {"text": "UBND xã họp lúc 7h30 ngày 12/3, thu 1.000.000 đ."})
    assert response.status_code == 200
    html = response.content.decode()
    assert "ủy ban nhân dân" in html.lower() and "bảy giờ ba mươi phút" in html
    assert "ngày mười hai tháng ba" in html and "một triệu đồng" in html
    # Characters the voice cannot say are named.
    emoji = operator.post("/radio/preview/", {"text": "Mưa to ☔ chiều nay"}).content.decode()
    assert "☔" in emoji and "errorlist" in emoji
    # Readers who neither write nor send emergencies have no preview.
    assert make_client(people["commune_admin"]).post("/radio/preview/", {"text": "x"}).status_code == 403


def test_editor_saves_a_bulletin_and_shows_the_reading(operator, in_tule, espeak, villages, cluster):
    from broadcasting.models import Bulletin, BulletinState

    page = operator.get("/radio/bulletins/new/").content.decode()
    assert 'hx-post="/radio/preview/"' in page and 'hx-post="/radio/listen/"' in page
    data = bulletin_data(villages=[str(villages[0].pk)], clusters=[str(cluster.pk)])
    response = operator.post("/radio/bulletins/new/", data)
    assert response.status_code == 302, errors_of(response)
    bulletin = Bulletin.objects.get(title="Tiêm chủng mở rộng")
    assert bulletin.state == BulletinState.DRAFT and bulletin.repeats_per_day == 2
    assert list(bulletin.villages.all()) == [villages[0]] and list(bulletin.clusters.all()) == [cluster]
    assert "ngày mười hai tháng ba" in bulletin.normalized_text and bulletin.asset_id
    detail = operator.get(response["Location"]).content.decode()
    assert "bảy giờ ba mươi phút" in detail and 'class="progress"' in detail
    # Changing it: the form comes back filled in, days read day first.
    edit = operator.get(f"/radio/bulletins/{bulletin.pk}/edit/").content.decode()
    assert bulletin.valid_from.strftime("%d/%m/%Y") in edit and "Tiêm chủng mở rộng" in edit
    response = operator.post(f"/radio/bulletins/{bulletin.pk}/edit/", bulletin_data(title="Tiêm chủng đợt 2"))
    assert response.status_code == 302, errors_of(response)
    bulletin.refresh_from_db()
    assert bulletin.title == "Tiêm chủng đợt 2" and not bulletin.villages.exists()


def test_editor_bad_input_gets_vietnamese_errors(operator, in_tule):
    from broadcasting.models import Bulletin

    response = operator.post("/radio/bulletins/new/", bulletin_data(title="", valid_from="31/02/2026",
                                                                    repeats_per_day="50"))
    assert response.status_code == 400
    errors = errors_of(response)
    assert "Trường này là bắt buộc" in errors and "Nhập ngày theo dạng dd/mm/yyyy" in errors
    assert "Giá trị này phải nhỏ hơn hoặc bằng 20" in errors
    # The service refuses what the form cannot see: no text and no recording, unsayable characters.
    empty = operator.post("/radio/bulletins/new/", bulletin_data(text="   "))
    assert empty.status_code == 400 and "text" in empty.context["form"].errors
    emoji = operator.post("/radio/bulletins/new/", bulletin_data(text="Mưa to ☔ chiều nay"))
    assert emoji.status_code == 400 and "☔" in " ".join(emoji.context["form"].errors["text"])
    too_long = operator.post("/radio/bulletins/new/", bulletin_data(text="a" * 20001))
    assert too_long.status_code == 400 and "text" in too_long.context["form"].errors
    not_audio = operator.post("/radio/bulletins/new/", {
        **bulletin_data(text=""), "upload": _upload(b"GIF89a not a sound at all" * 20, "tin.mp3")})
    assert not_audio.status_code == 400 and "upload" in not_audio.context["form"].errors
    assert not Bulletin.objects.exists()
    assert operator.get("/radio/bulletins/999999/").status_code == 404
    assert operator.get("/radio/bulletins/", {"state": "nonsense", "q": "x" * 300, "page": "-1"}).status_code == 200
    assert operator.get("/radio/bulletins/", {"q": "\x00"}).status_code == 400  # refused by the middleware


def test_a_recording_instead_of_text(operator, in_tule):
    import io
    import wave

    import numpy as np

    from broadcasting.models import Bulletin

    rate = 16000
    t = np.arange(rate * 3) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((tone * 32767).astype("<i2").tobytes())
    response = operator.post("/radio/bulletins/new/", {
        **bulletin_data(title="Lời kêu gọi của Chủ tịch", text=""), "upload": _upload(buffer.getvalue(), "loi-keu-goi.wav")})
    assert response.status_code == 302, errors_of(response)
    bulletin = Bulletin.objects.get()
    assert bulletin.uploaded_audio and bulletin.asset.ready and 2.5 < float(bulletin.asset.duration_seconds) < 3.5
    page = operator.get(response["Location"]).content.decode()
    assert "<audio" in page and 'class="progress"' not in page


def _upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="audio/mpeg")


def test_listen_requests_the_speech_once_shows_progress_then_the_player(operator, in_tule, tule, espeak):
    from broadcasting.models import AudioAsset, SpeechJob

    text = "Thông báo: chiều nay 17h, UBND xã họp dân tại nhà văn hóa."
    first = operator.post("/radio/listen/", {"text": text, "voice": ""})
    assert first.status_code == 200
    html = first.content.decode()
    assert 'class="progress"' in html and 'hx-trigger="every 1s"' in html
    status_url = re.search(r'hx-get="([^"]+)"', html).group(1)
    # The same text and voice again: the same audio, never a second render.
    second = operator.post("/radio/listen/", {"text": text, "voice": ""})
    assert second.status_code == 200 and status_url in second.content.decode()
    assert AudioAsset.objects.count() == 1 and SpeechJob.objects.count() == 1
    polling = operator.get(status_url)
    assert polling.status_code == 200 and 'class="progress"' in polling.content.decode()
    assert run_speech_jobs(tule) == ["succeeded"]
    done = operator.get(status_url).content.decode()
    assert "<audio" in done and "hx-trigger" not in done
    audio_url = re.search(r'<audio[^>]+src="([^"]+)"', done).group(1)
    mp3 = operator.get(audio_url)
    assert mp3.status_code == 200 and mp3["Content-Type"] == "audio/mpeg"
    body = b"".join(mp3.streaming_content)
    assert body[:3] == b"ID3" or body[0] == 0xFF
    part = operator.get(audio_url, HTTP_RANGE="bytes=100-199")  # the player seeks
    assert part.status_code == 206 and part.content == body[100:200]
    assert operator.get(audio_url, HTTP_RANGE=f"bytes={len(body) + 10}-").status_code == 416
    # Bad input: nothing to read, an unknown audio.
    empty = operator.post("/radio/listen/", {"text": " "})
    assert empty.status_code == 400 and "errorlist" in empty.content.decode()
    assert operator.get("/radio/audio/" + "0" * 64 + "/").status_code == 404
    assert operator.get("/radio/audio/not-a-key/").status_code == 404


def test_submit_approve_send_back_and_withdraw(operator, chairman, in_tule, tule, espeak, people, make_client):
    from broadcasting.models import Bulletin, BulletinState

    assert operator.post("/radio/bulletins/new/", bulletin_data()).status_code == 302
    bulletin = Bulletin.objects.get()
    run_speech_jobs(tule)
    url = f"/radio/bulletins/{bulletin.pk}/"
    page = operator.get(url).content.decode()
    assert "<audio" in page and 'action="/radio/bulletins/%d/submit/"' % bulletin.pk in page
    assert 'action="/radio/bulletins/%d/approve/"' % bulletin.pk not in page
    assert operator.post(url + "submit/").status_code == 302
    # The operator cannot approve; a leader can, or sends it back with a reason.
    assert operator.post(url + "approve/").status_code == 403
    leader_page = chairman.get(url).content.decode()
    assert 'action="/radio/bulletins/%d/approve/"' % bulletin.pk in leader_page
    no_reason = chairman.post(url + "reject/", {"note": ""})
    assert no_reason.status_code == 400 and errors_of(no_reason)
    assert chairman.post(url + "reject/", {"note": "Sửa giờ tiêm"}).status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.state == BulletinState.REJECTED and bulletin.decision_note == "Sửa giờ tiêm"
    assert "Sửa giờ tiêm" in operator.get(url + "edit/").content.decode()
    assert operator.post(url + "submit/").status_code == 302
    vice = make_client(people["vice_chairman"])
    assert vice.post(url + "approve/", {"note": "Đồng ý"}).status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.state == BulletinState.APPROVED and bulletin.decided_by_id == people["vice_chairman"].pk
    # Approving twice is a message on the page (400), never a 500; an unknown action is 404.
    again = vice.post(url + "approve/")
    assert again.status_code == 400 and errors_of(again)
    assert vice.post(url + "publish/").status_code == 404
    # An approved bulletin is no longer editable; it can be withdrawn.
    assert operator.get(url + "edit/").status_code == 302
    assert operator.post(url + "withdraw/").status_code == 302
    assert Bulletin.objects.get(pk=bulletin.pk).state == BulletinState.WITHDRAWN


def test_emergency_by_a_leader(chairman, operator, in_tule, tule, espeak, cluster, villages, people):
    from broadcasting import services
    from broadcasting.models import Emergency

    other, _token = services.create_cluster(user=people["radio_operator"], data={
        "name": "Cụm loa bản Phạ", "village_id": villages[1].pk, "speakers": 2})
    assert operator.get("/radio/emergency/").status_code == 403
    assert operator.post("/radio/emergency/", {"title": "x", "text": "y", "everywhere": "on", "repeats": "1"}) \
        .status_code == 403
    nothing = chairman.post("/radio/emergency/", {"title": "Bão số 3", "text": "", "repeats": "0"})
    assert nothing.status_code == 400
    assert "Trường này là bắt buộc" in errors_of(nothing) and "clusters" in nothing.context["form"].errors
    response = chairman.post("/radio/emergency/", {
        "title": "Cảnh báo lũ quét", "text": "Mưa lớn, nguy cơ lũ quét. Bà con không qua suối từ 17h.",
        "clusters": [str(other.pk)], "repeats": "3"})
    assert response.status_code == 302, errors_of(response)
    emergency = Emergency.objects.get()
    assert list(emergency.clusters.all()) == [other] and emergency.repeats == 3
    assert emergency.sent_by_id == people["chairman"].pk and emergency.bulletin.state == "approved"
    page = chairman.get("/radio/emergency/").content.decode()
    assert "Cảnh báo lũ quét" in page and f"/radio/emergency/{emergency.pk}/cancel/" in page
    assert "Cảnh báo lũ quét" in operator.get("/radio/").content.decode()
    assert chairman.post(f"/radio/emergency/{emergency.pk}/cancel/").status_code == 302
    emergency.refresh_from_db()
    assert emergency.cancelled_at is not None


# --- slots, pronunciations, calendar, reports ----------------------------------------------------

def test_slots_and_exceptions(operator, chairman, in_tule, cluster):
    from broadcasting.models import Slot, SlotException

    page = operator.get("/radio/slots/").content.decode()
    assert "05:00–07:30" in page and "17:00–19:00" in page  # the defaults of the first cluster
    bad = operator.post("/radio/slots/", {"kind": "slot", "new-name": "Trưa", "new-start": "12:30", "new-end": "11:00"})
    assert bad.status_code == 400 and errors_of(bad)
    overlap = operator.post("/radio/slots/", {"kind": "slot", "new-name": "Sáng 2", "new-start": "07:00",
                                              "new-end": "08:00", "new-active": "on"})
    assert overlap.status_code == 400 and "start" in overlap.context["slot_form"].errors
    assert operator.post("/radio/slots/", {"kind": "slot", "new-name": "Trưa", "new-start": "11h30",
                                           "new-end": "12:00", "new-active": "on"}).status_code == 302
    noon = Slot.objects.get(name="Trưa")
    assert noon.start == datetime.time(11, 30)
    morning = Slot.objects.get(start=datetime.time(5, 0))
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = operator.post("/radio/slots/", {"kind": "exception", "exc-date": tomorrow.strftime("%d/%m/%Y"),
                                               "exc-kind": "cancel", "exc-slot": str(morning.pk)})
    assert response.status_code == 302, errors_of(response)
    exception = SlotException.objects.get()
    assert exception.cancelled and exception.slot == morning
    missing_hours = operator.post("/radio/slots/", {"kind": "exception", "exc-date": tomorrow.strftime("%d/%m/%Y"),
                                                    "exc-kind": "extra"})
    assert missing_hours.status_code == 400 and errors_of(missing_hours)
    # A leader reads the slots but does not change them.
    assert chairman.get("/radio/slots/").status_code == 200
    assert chairman.post(f"/radio/slots/{noon.pk}/", {f"slot{noon.pk}-name": "x"}).status_code == 403
    assert operator.post(f"/radio/slots/{noon.pk}/", {"delete": "1"}).status_code == 302
    assert operator.post(f"/radio/slots/exceptions/{exception.pk}/delete/").status_code == 302
    assert not Slot.objects.filter(pk=noon.pk).exists() and not SlotException.objects.exists()
    assert operator.post("/radio/slots/", {"kind": "other"}).status_code == 404


def test_pronunciations_are_data_of_the_commune(operator, chairman, in_tule):
    from broadcasting.models import Pronunciation

    page = operator.get("/radio/pronunciations/").content.decode()
    assert "UBND" in page  # the default list, until the commune has its own
    response = operator.post("/radio/pronunciations/", {"new-written": "NVH", "new-spoken": "nhà văn hóa",
                                                        "new-case_sensitive": "on"})
    assert response.status_code == 302
    item = Pronunciation.objects.get(written="NVH")
    assert Pronunciation.objects.filter(written="UBND").exists()  # the defaults were kept
    html = operator.post("/radio/preview/", {"text": "NVH và UBND"}).content.decode()
    assert "nhà văn hóa" in html and "ủy ban nhân dân" in html.lower()
    bad = operator.post("/radio/pronunciations/", {"new-written": "", "new-spoken": ""})
    assert bad.status_code == 400 and "Trường này là bắt buộc" in errors_of(bad)
    duplicate = operator.post("/radio/pronunciations/", {"new-written": "NVH", "new-spoken": "nờ vê hát"})
    assert duplicate.status_code == 400 and "written" in duplicate.context["form"].errors
    assert chairman.get(f"/radio/pronunciations/{item.pk}/").status_code == 403
    assert operator.post(f"/radio/pronunciations/{item.pk}/", {"written": "NVH", "spoken": "nhà văn hóa bản"}) \
        .status_code == 302
    assert Pronunciation.objects.get(pk=item.pk).spoken == "nhà văn hóa bản"
    assert operator.post(f"/radio/pronunciations/{item.pk}/", {"delete": "1"}).status_code == 302
    assert not Pronunciation.objects.filter(written="NVH").exists()


def test_week_calendar_and_home_show_the_playlists(operator, in_tule, tule, espeak, cluster, people):
    from broadcasting import services

    bulletin = services.create_bulletin(user=people["radio_operator"], data={
        "title": "Lịch tiêm chủng", "category": "health", "text": "Tiêm chủng lúc 7h30.",
        "valid_from": timezone.localdate(), "valid_until": timezone.localdate() + datetime.timedelta(days=7),
        "repeats_per_day": 2})
    run_speech_jobs(tule)
    services.submit_bulletin(bulletin=bulletin, user=people["radio_operator"])
    services.approve_bulletin(bulletin=bulletin, user=people["chairman"])
    week = operator.get("/radio/week/")
    html = week.content.decode()
    assert week.status_code == 200 and "Lịch tiêm chủng" in html
    assert "05:00–07:30" in html and "17:00–19:00" in html
    one = operator.get("/radio/week/", {"cluster": str(cluster.pk), "day": "01/01/2030"}).content.decode()
    assert "30/12" in one or "31/12" in one  # the week of that day, Monday to Sunday
    assert operator.get("/radio/week/", {"day": "32/13/2026"}).status_code == 400
    home = operator.get("/radio/").content.decode()
    assert "Cụm loa trung tâm" in home  # offline: it never reported


def test_reports_page(operator, in_tule, cluster):
    response = operator.get("/radio/reports/", {"month": timezone.localdate().strftime("%m/%Y")})
    assert response.status_code == 200 and "Cụm loa trung tâm" in response.content.decode()
    bad = operator.get("/radio/reports/", {"month": "13/2026"})
    assert bad.status_code == 400 and errors_of(bad)
