"""Officials' pages of the commune radio (``/radio/…`` on a commune host).

The views are thin: role checks come from ``broadcasting.permissions``; every change is made by
``broadcasting.services`` (bulletins, clusters and their tokens, slots, emergencies),
speech by ``broadcasting.audio_services`` and the reading of a text by
``broadcasting.speech.normalize``; playlists come from ``broadcasting.scheduler`` and the figures
from ``broadcasting.reports``. A refusal of a service (ValidationError) becomes the errors of the
form on the page (status 400); a wrong role is a 403 page.
"""
from __future__ import annotations

import datetime
import math
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from communes.permissions import page_guard, user_names
from core import periods, xlsx
from core.http import ranged_file_response
from broadcasting import audio_services, forms, permissions, scheduler, selectors, services
from broadcasting import reports as radio_reports
from broadcasting.models import (
    AsRunEntry, AudioAsset, Bulletin, BulletinState, Cluster, Emergency, Heartbeat, Playlist, Pronunciation, Slot,
    SlotException,
)

PAGE_SIZE = 30
LIST_SIZE = 20


# --- helpers ------------------------------------------------------------------------------------

# Page decorator: log in first, then a role for the action in the commune of the host.
page_requires = page_guard(permissions.require)


def _can(user) -> dict:
    return {action.replace(".", "_"): permissions.can(user, action) for action in permissions.ACTION_ROLES}


def _render(request, template: str, context: dict, status: int = 200):
    context.setdefault("can", _can(request.user))
    context.setdefault("now", timezone.now())
    context.setdefault("today", timezone.localdate())
    return render(request, template, context, status=status)


def _posted(request):
    return request.POST if request.method == "POST" else None


FIELD_OF_KEY = {"village_ids": "villages", "cluster_ids": "clusters", "village_id": "village", "slot_id": "slot"}


def _errors_to_form(form, exc: ValidationError) -> None:
    """A service's refusal shown on the form: each message on its field, or on top."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            field = FIELD_OF_KEY.get(key, key)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _local(moment):
    return timezone.localtime(moment) if moment else None


def _slot_windows(day: datetime.date, raw: list | None = None) -> list[dict]:
    """The day's broadcast windows (regular slots changed by the day's exceptions)."""
    windows = []
    for starts_at, ends_at, slot in (services.slots_for_day(day) if raw is None else raw):
        windows.append({"starts_at": _local(starts_at), "ends_at": _local(ends_at), "slot": slot,
                        "name": slot.name if slot is not None else _("Extra broadcast")})
    return windows


def _issue_text(item) -> str:
    """One line of a playlist's overflow or missing-audio list (stored as JSON by the scheduler)."""
    if isinstance(item, dict):
        if item.get("message"):
            return str(item["message"])
        title = item.get("title") or (f"#{item['bulletin_id']}" if item.get("bulletin_id") else "")
        reason = item.get("reason") or item.get("message") or ""
        return f"{title}: {reason}" if title and reason else (title or reason or str(item))
    return str(item)


# --- home -----------------------------------------------------------------------------------

@page_requires("module.open")
def home(request):
    now = timezone.now()
    today = timezone.localdate()
    counts = selectors.cluster_counts(now)
    since = scheduler.online_since(now)
    offline = (Cluster.objects.filter(active=True).filter(Q(last_heartbeat_at__lt=since) | Q(last_heartbeat_at=None))
               .select_related("village"))
    windows = _slot_windows(today)
    for window in windows:
        window["state"] = ("past" if window["ends_at"] <= now else "on" if window["starts_at"] <= now else "next")
        playlists = Playlist.objects.filter(starts_at=window["starts_at"]).annotate(items=Count("entries"))
        window["built"] = len(playlists)
        window["items"] = sum(p.items for p in playlists)
    waiting = selectors.waiting_for_approval()
    warnings = selectors.overflow_warnings(days=7, now=now)
    missing = (Playlist.objects.filter(ends_at__gt=now, starts_at__lt=now + datetime.timedelta(days=1))
               .exclude(missing_audio=[]).count())
    return _render(request, "broadcasting/home.html", {
        "counts": counts, "offline": offline[:LIST_SIZE], "windows": windows,
        "waiting": waiting[:LIST_SIZE], "waiting_count": waiting.count(),
        "warnings": [{**w, "text": _issue_text(w)} for w in warnings[:LIST_SIZE]], "warning_count": len(warnings),
        "missing_count": missing, "emergencies": selectors.active_emergencies(now),
        "drafts": Bulletin.objects.filter(state__in=services.EDITABLE_STATES).count(),
    })


# --- week calendar ----------------------------------------------------------------------------

def _week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@page_requires("bulletin.read")
def week(request):
    form = forms.WeekForm(request.GET or None)
    day = (form.cleaned_data.get("day") if form.is_valid() else None) or timezone.localdate()
    monday = _week_start(day)
    active = list(Cluster.objects.filter(active=True).select_related("village"))
    cluster = None
    cluster_id = request.GET.get("cluster", "")
    if cluster_id.isdigit() and len(cluster_id) < 12:
        cluster = next((c for c in active if c.pk == int(cluster_id)), None)
    schedule = selectors.week_schedule(monday, cluster=cluster, clusters=active)  # reads only
    days = []
    for offset, (date, windows) in enumerate(schedule):
        for window in windows:
            window["starts_at"], window["ends_at"] = _local(window["starts_at"]), _local(window["ends_at"])
            window["name"] = window["slot"].name if window["slot"] is not None else _("Extra broadcast")
            if not window["built"] and date < timezone.localdate():
                window["items"], window["played"] = _played(window, cluster), True
            window["overflow"] = list(dict.fromkeys(_issue_text(i) for i in window["overflow"]))
            window["missing"] = list(dict.fromkeys(_issue_text(i) for i in window["missing_audio"]))
        days.append({"date": date, "weekday": WEEKDAYS[offset], "windows": windows,
                     "is_today": date == timezone.localdate(), "past": date < timezone.localdate()})
    return _render(request, "broadcasting/week.html", {
        "form": form, "days": days, "monday": monday,
        "day_value": request.GET.get("day", "")[:20] if form.errors else f"{day:%d/%m/%Y}",
        "sunday": monday + datetime.timedelta(days=6),
        "previous": monday - datetime.timedelta(days=7), "next": monday + datetime.timedelta(days=7),
        "cluster": cluster, "clusters": active,
    }, status=400 if form.errors else 200)


def _played(window: dict, cluster) -> list[dict]:
    """What the as-run log says aired in a past window (when no playlist of it was kept)."""
    entries = AsRunEntry.objects.filter(started_at__gte=window["starts_at"], started_at__lt=window["ends_at"],
                                        bulletin__isnull=False)
    if cluster is not None:
        entries = entries.filter(cluster=cluster)
    items = {}
    for row in entries.values("bulletin").annotate(plays=Count("pk"), clusters=Count("cluster", distinct=True)):
        items[row["bulletin"]] = {"plays": row["plays"], "clusters": row["clusters"]}
    bulletins = Bulletin.objects.in_bulk(list(items))
    result = [{"bulletin": bulletins[pk], **item} for pk, item in items.items() if pk in bulletins]
    return sorted(result, key=lambda i: (-i["bulletin"].priority, i["bulletin"].pk))


# --- bulletins ------------------------------------------------------------------------------

@page_requires("bulletin.read")
def bulletin_list(request):
    form = forms.BulletinFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    queryset = Bulletin.objects.select_related("asset").order_by("-created_at", "-pk")
    state = data.get("state") or ""
    if state in BulletinState.values:
        queryset = queryset.filter(state=state)
    q = (data.get("q") or "").replace("\x00", "").strip()
    if q:
        queryset = queryset.filter(Q(title__icontains=q) | Q(text__icontains=q))
    counts = dict(Bulletin.objects.values_list("state").annotate(n=Count("pk")))
    states = [(value, label, counts.get(value, 0)) for value, label in BulletinState.choices]
    query = urlencode([(k, v) for k, v in (("state", state), ("q", q)) if v])
    return _render(request, "broadcasting/bulletin_list.html", {
        "page": Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page")), "states": states,
        "state": state, "q": q, "query": f"{query}&" if query else "",
    })


def _bulletin_initial() -> dict:
    today = timezone.localdate()
    return {"valid_from": today, "valid_until": today + datetime.timedelta(days=6), "repeats_per_day": 2}


def _bulletin_form_initial(bulletin) -> dict:
    return {
        "title": bulletin.title, "category": bulletin.category, "text": bulletin.text, "voice": bulletin.voice,
        "priority": bulletin.priority, "villages": list(bulletin.villages.all()), "clusters": list(bulletin.clusters.all()),
        "valid_from": bulletin.valid_from, "valid_until": bulletin.valid_until, "repeats_per_day": bulletin.repeats_per_day,
    }


def _editor(request, form, bulletin=None, status=200):
    return _render(request, "broadcasting/bulletin_form.html", {
        "form": form, "bulletin": bulletin, "max_chars": form.fields["text"].max_length,
    }, status=status)


@require_http_methods(["GET", "POST"])
@page_requires("bulletin.write")
def bulletin_new(request):
    form = forms.BulletinForm(_posted(request), request.FILES or None, initial=_bulletin_initial())
    if request.method == "POST" and form.is_valid():
        try:
            bulletin = services.create_bulletin(user=request.user, data=form.service_data())
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The bulletin was saved. Listen to it, then submit it for approval."))
            return redirect("broadcasting:bulletin", pk=bulletin.pk)
    return _editor(request, form, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@page_requires("bulletin.write")
def bulletin_edit(request, pk):
    bulletin = get_object_or_404(Bulletin, pk=pk)
    if bulletin.state not in services.EDITABLE_STATES:
        messages.error(request, _("Only a draft or a bulletin sent back can be changed."))
        return redirect("broadcasting:bulletin", pk=pk)
    form = forms.BulletinForm(_posted(request), request.FILES or None, initial=_bulletin_form_initial(bulletin))
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if bulletin.uploaded_audio and not data.get("upload") and not data.get("text"):
            data.pop("text", None)  # the recording stays
        try:
            services.update_bulletin(bulletin=bulletin, user=request.user, data=data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The bulletin was saved."))
            return redirect("broadcasting:bulletin", pk=pk)
    return _editor(request, form, bulletin, status=400 if form.errors else 200)


def _bulletin_actions(user, bulletin) -> list[dict]:
    """The actions the user may take on the bulletin in its state (the services check again)."""
    actions = []
    state = bulletin.state
    if permissions.can(user, "bulletin.write") and state in services.EDITABLE_STATES:
        actions.append({"name": "submit", "label": _("Submit for approval"), "note": False, "secondary": False})
    if permissions.can(user, "bulletin.approve") and state == BulletinState.SUBMITTED:
        actions.append({"name": "approve", "label": _("Approve"), "note": True, "secondary": False})
        actions.append({"name": "reject", "label": _("Send back"), "note": True, "secondary": True})
    if ((permissions.can(user, "bulletin.write") or permissions.can(user, "bulletin.approve"))
            and state in (BulletinState.SUBMITTED, BulletinState.APPROVED, BulletinState.DRAFT, BulletinState.REJECTED)):
        actions.append({"name": "withdraw", "label": _("Withdraw"), "note": False, "secondary": True})
    return actions


def _detail(request, bulletin, *, decision_form=None, status=200):
    names = user_names([bulletin.created_by_id, bulletin.decided_by_id])
    plays = (AsRunEntry.objects.filter(bulletin=bulletin).values("cluster__name").annotate(n=Count("pk"))
             .order_by("cluster__name"))
    return _render(request, "broadcasting/bulletin_detail.html", {
        "bulletin": bulletin, "actions": _bulletin_actions(request.user, bulletin),
        "decision_form": decision_form or forms.DecisionForm(), "created_by_name": names.get(bulletin.created_by_id, ""),
        "decided_by_name": names.get(bulletin.decided_by_id, ""), "villages": bulletin.villages.all(),
        "clusters": bulletin.clusters.select_related("village"),
        "can_edit": permissions.can(request.user, "bulletin.write") and bulletin.state in services.EDITABLE_STATES,
        "audio": _audio_context(bulletin.asset) if bulletin.asset_id else None, "plays": plays,
        "voice_label": dict(forms.voice_choices()).get(bulletin.voice, bulletin.voice),
    }, status=status)


@page_requires("bulletin.read")
def bulletin_detail(request, pk):
    return _detail(request, get_object_or_404(Bulletin.objects.select_related("asset"), pk=pk))


BULLETIN_ACTIONS = ("submit", "approve", "reject", "withdraw")


@require_POST
@page_requires("bulletin.read")
def bulletin_action(request, pk, action):
    if action not in BULLETIN_ACTIONS:
        raise Http404
    bulletin = get_object_or_404(Bulletin.objects.select_related("asset"), pk=pk)
    if action in ("approve", "reject"):
        permissions.require(request.user, "bulletin.approve")
    elif action == "submit":
        permissions.require(request.user, "bulletin.write")
    elif not (permissions.can(request.user, "bulletin.write") or permissions.can(request.user, "bulletin.approve")):
        raise PermissionDenied
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, bulletin, decision_form=form, status=400)
    note = form.cleaned_data["note"]
    try:
        if action == "submit":
            services.submit_bulletin(bulletin=bulletin, user=request.user)
            message = _("The bulletin was submitted: a leader approves it before it airs.")
        elif action == "approve":
            services.approve_bulletin(bulletin=bulletin, user=request.user, note=note)
            message = _("The bulletin was approved: it goes into the playlists of its days.")
        elif action == "reject":
            if not note:
                form.add_error("note", _("Say what is to be changed."))
                return _detail(request, bulletin, decision_form=form, status=400)
            services.reject_bulletin(bulletin=bulletin, user=request.user, note=note)
            message = _("The bulletin was sent back to its writer.")
        else:
            services.withdraw_bulletin(bulletin=bulletin, user=request.user)
            message = _("The bulletin was withdrawn: it no longer airs.")
    except ValidationError as exc:
        bulletin.refresh_from_db()
        _errors_to_form(form, exc)
        return _detail(request, bulletin, decision_form=form, status=400)
    messages.success(request, message)
    return redirect("broadcasting:bulletin", pk=pk)


# --- preview, listen, audio -----------------------------------------------------------------

def _may_preview(user) -> bool:
    return permissions.can(user, "bulletin.write") or permissions.can(user, "emergency.send")


@require_POST
@page_requires("module.open")
def preview(request):
    """The text as the voice will read it (htmx fragment of the editor)."""
    if not _may_preview(request.user):
        raise PermissionDenied
    form = forms.PreviewForm(request.POST)
    text = form.cleaned_data["text"] if form.is_valid() else ""
    reading, unsayable, error = "", [], ""
    if form.errors:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    elif text:
        reading, unsayable = audio_services.preview(text)
    return _render(request, "broadcasting/_preview.html", {
        "reading": reading, "unsayable": unsayable, "error": error, "text": text,
    })


def _audio_context(asset) -> dict:
    status = audio_services.job_status(asset)
    state = str(status.get("state") or "")
    return {
        "asset": asset, "ready": bool(status.get("ready")), "percent": int(status.get("percent") or 0),
        "message": status.get("message") or "", "failed": state == "failed",
        "duration": status.get("duration") if status.get("duration") is not None else asset.duration_seconds,
        "url": reverse("broadcasting:audio-file", args=[asset.key]),
        "status_url": reverse("broadcasting:audio-status", args=[asset.key]),
        # The voice's plain name, not the engine's key ("vi").
        "voice_label": dict(forms.voice_choices()).get(asset.voice, asset.voice) if asset.voice else "",
    }


@require_POST
@page_requires("module.open")
def listen(request):
    """Request the speech of the editor's text (rendered once per text and voice) and show its progress."""
    if not _may_preview(request.user):
        raise PermissionDenied
    form = forms.PreviewForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["text"]:
        error = (" ".join(e for errors in form.errors.values() for e in errors) if form.errors
                 else _("Write the text first."))
        return _render(request, "broadcasting/_audio.html", {"error": error}, status=400)
    try:
        asset = audio_services.request_speech(text=form.cleaned_data["text"],
                                              voice=form.cleaned_data["voice"] or None, user=request.user)
    except ValidationError as exc:
        return _render(request, "broadcasting/_audio.html", {"error": " ".join(exc.messages)}, status=400)
    return _render(request, "broadcasting/_audio.html", {"audio": _audio_context(asset)})


def _asset(key: str) -> AudioAsset:
    if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
        raise Http404
    return get_object_or_404(AudioAsset, key=key)


@page_requires("module.open")
def audio_status(request, key):
    """The progress of one audio's rendering, then its player (htmx polls this every second)."""
    return _render(request, "broadcasting/_audio.html", {"audio": _audio_context(_asset(key))})


@page_requires("module.open")
def audio_file(request, key):
    """The MP3, whole or a byte range (so that the page's player can seek)."""
    asset = _asset(key)
    if not asset.file or not default_storage.exists(asset.file):
        raise Http404
    response = ranged_file_response(request, asset.file, content_type="audio/mpeg", filename=f"ban-tin-{key[:12]}.mp3")
    if response is None:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{default_storage.size(asset.file)}"
        return response
    response["Cache-Control"] = "private, max-age=86400"
    return response


# --- emergency --------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@page_requires("emergency.send")
def emergency(request):
    form = forms.EmergencyForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        today = timezone.localdate()
        bulletin_data = {"title": data["title"], "category": "emergency", "text": data["text"],
                         "voice": data.get("voice") or "", "valid_from": today, "valid_until": today,
                         "repeats_per_day": 1}
        cluster_ids = None if data.get("everywhere") else [c.pk for c in data["clusters"]]
        try:
            services.send_emergency(user=request.user, bulletin_data=bulletin_data, cluster_ids=cluster_ids,
                                    repeats=data["repeats"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The emergency broadcast was sent: the loudspeakers interrupt what they "
                                        "play at their next poll, once the audio is ready."))
            return redirect("broadcasting:emergency")
    return _emergency_page(request, form, status=400 if form.errors else 200)


def _emergency_page(request, form, status=200):
    now = timezone.now()
    recent = list(Emergency.objects.select_related("bulletin", "bulletin__asset").prefetch_related("clusters")
                  .order_by("-sent_at")[:LIST_SIZE])
    names = user_names([e.sent_by_id for e in recent])
    rows = [{"emergency": e, "active": e.cancelled_at is None and e.until > now,
             "sent_by": names.get(e.sent_by_id, ""), "clusters": list(e.clusters.all()),
             "audio": _audio_context(e.bulletin.asset) if e.bulletin.asset_id else None} for e in recent]
    return _render(request, "broadcasting/emergency.html", {
        "form": form, "rows": rows, "cluster_total": Cluster.objects.filter(active=True).count(),
    }, status=status)


@require_POST
@page_requires("emergency.send")
def emergency_cancel(request, pk):
    item = get_object_or_404(Emergency, pk=pk)
    try:
        services.cancel_emergency(emergency=item, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The emergency broadcast was stopped."))
    return redirect("broadcasting:emergency")


# --- clusters and map -------------------------------------------------------------------------

MAP_WIDTH = 640
MAP_HEIGHT = 420
MAP_MARGIN = 36
MAP_MIN = (420, 280)


def _map(rows: list[dict]) -> dict | None:
    """An SVG plot of the clusters' coordinates (equirectangular, scaled by the cosine of the
    latitude), drawn on the page without map tiles."""
    placed = [r for r in rows if r["cluster"].latitude is not None and r["cluster"].longitude is not None]
    if not placed:
        return None
    lats = [float(r["cluster"].latitude) for r in placed]
    lons = [float(r["cluster"].longitude) for r in placed]
    scale_x = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * scale_x, 0.002)  # at least some 200 m across
    span_y = max(max(lats) - min(lats), 0.002)
    scale = min((MAP_WIDTH - 2 * MAP_MARGIN) / span_x, (MAP_HEIGHT - 2 * MAP_MARGIN) / span_y)
    # A drawing at least MAP_MIN wide and high, the points centred in it.
    width = max(span_x * scale + 2 * MAP_MARGIN, MAP_MIN[0])
    height = max(span_y * scale + 2 * MAP_MARGIN, MAP_MIN[1])
    left = (width - (max(lons) - min(lons)) * scale_x * scale) / 2
    top = (height - (max(lats) - min(lats)) * scale) / 2
    points = []
    for row in placed:
        lat, lon = float(row["cluster"].latitude), float(row["cluster"].longitude)
        x = left + (lon - min(lons)) * scale_x * scale
        y = top + (max(lats) - lat) * scale
        points.append({**row, "x": round(x, 1), "y": round(y, 1)})
    # A scale bar of a round length (kilometres on the ground).
    km_per_unit = 111.32 / scale
    bar_km = next((k for k in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if k / km_per_unit >= 60), 100)
    return {"width": round(width), "height": round(height), "points": points,
            "bar": round(bar_km / km_per_unit, 1), "bar_km": f"{bar_km:g}".replace(".", ","),
            "missing": len(rows) - len(placed)}


def _cluster_rows(now) -> list[dict]:
    rows = []
    for number, cluster in enumerate(selectors.clusters_with_status(now).order_by("village__name", "name"), 1):
        status = cluster.last_status or {}
        rows.append({"cluster": cluster, "number": number, "offline": not (cluster.active and cluster.online),
                     "status": status if isinstance(status, dict) else {},
                     "token_active": bool(cluster.token_hash) and cluster.token_revoked_at is None})
    return rows


def _clusters_page(request, form, status=200):
    now = timezone.now()
    rows = _cluster_rows(now)
    active = [r for r in rows if r["cluster"].active]
    return _render(request, "broadcasting/clusters.html", {
        "rows": rows, "map": _map(active), "form": form,
        "online_count": sum(1 for r in active if not r["offline"]), "offline_count": sum(1 for r in active if r["offline"]),
        "speakers": sum(r["cluster"].speakers for r in active),
        "village_count": len({r["cluster"].village_id for r in active}),
    }, status=status)


@require_http_methods(["GET", "POST"])
@page_requires("cluster.read")
def clusters(request):
    form = None
    if permissions.can(request.user, "cluster.manage"):
        form = forms.ClusterForm(_posted(request), prefix="new")
    elif request.method == "POST":
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        try:
            cluster, token = services.create_cluster(user=request.user, data=form.service_data())
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The cluster %(name)s was added.") % {"name": cluster.name})
            response = _cluster_page(request, cluster, new_token=token)
            response["Cache-Control"] = "no-store"
            return response
    return _clusters_page(request, form, status=400 if form is not None and form.errors else 200)


def _cluster_page(request, cluster, form=None, *, new_token=None, status=200):
    now = timezone.now()
    if form is None and permissions.can(request.user, "cluster.manage"):
        form = forms.ClusterForm(cluster=cluster, prefix="edit")
    heartbeats = Heartbeat.objects.filter(cluster=cluster).order_by("-at")[:LIST_SIZE]
    as_run = AsRunEntry.objects.filter(cluster=cluster).select_related("bulletin").order_by("-started_at")[:LIST_SIZE]
    playlists = (Playlist.objects.filter(cluster=cluster, ends_at__gt=now).prefetch_related("entries__bulletin")
                 .order_by("starts_at")[:4])
    status_data = cluster.last_status if isinstance(cluster.last_status, dict) else {}
    return _render(request, "broadcasting/cluster_detail.html", {
        "cluster": cluster, "form": form, "new_token": new_token, "offline": scheduler.is_offline(cluster, now=now),
        "status": status_data, "heartbeats": heartbeats, "as_run": as_run, "playlists": playlists,
        "token_active": bool(cluster.token_hash) and cluster.token_revoked_at is None,
    }, status=status)


@require_http_methods(["GET", "POST"])
@page_requires("cluster.read")
def cluster_detail(request, pk):
    cluster = get_object_or_404(Cluster.objects.select_related("village"), pk=pk)
    if request.method == "GET":
        return _cluster_page(request, cluster)
    permissions.require(request.user, "cluster.manage")
    form = forms.ClusterForm(request.POST, prefix="edit")
    if form.is_valid():
        try:
            services.update_cluster(cluster=cluster, user=request.user, data=form.service_data())
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The cluster was saved."))
            return redirect("broadcasting:cluster", pk=pk)
    cluster.refresh_from_db()
    return _cluster_page(request, cluster, form, status=400)


@require_POST
@page_requires("cluster.manage")
def cluster_token(request, pk, action):
    cluster = get_object_or_404(Cluster.objects.select_related("village"), pk=pk)
    if action not in ("rotate", "revoke"):
        raise Http404
    try:
        if action == "rotate":
            token = services.rotate_token(cluster=cluster, user=request.user)
        else:
            services.revoke_token(cluster=cluster, user=request.user)
            token = None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("broadcasting:cluster", pk=pk)
    cluster.refresh_from_db()
    if token is None:
        messages.success(request, _("The device token was revoked: the device is refused until a new token is set."))
        return redirect("broadcasting:cluster", pk=pk)
    # The new token is shown on this answer only (it is kept hashed): no redirect, no cache.
    response = _cluster_page(request, cluster, new_token=token)
    response["Cache-Control"] = "no-store"
    return response


# --- slots and exceptions ---------------------------------------------------------------------

def _slots_page(request, *, slot_form=None, exception_form=None, edit=None, status=200):
    today = timezone.localdate()
    manage = permissions.can(request.user, "slot.manage")
    slots = list(Slot.objects.order_by("start"))
    edit_forms = {}
    if manage:
        for slot in slots:
            if edit is not None and edit[0] == slot.pk:
                edit_forms[slot.pk] = edit[1]
            else:
                edit_forms[slot.pk] = forms.SlotForm(prefix=f"slot{slot.pk}", initial={
                    "name": slot.name, "start": slot.start, "end": slot.end, "active": slot.active})
    exceptions = SlotException.objects.filter(date__gte=today - datetime.timedelta(days=7)).select_related("slot")
    return _render(request, "broadcasting/slots.html", {
        "slots": [{"slot": s, "form": edit_forms.get(s.pk)} for s in slots],
        "slot_form": slot_form or (forms.SlotForm(prefix="new") if manage else None),
        "exception_form": exception_form or (forms.SlotExceptionForm(prefix="exc") if manage else None),
        "exceptions": exceptions.order_by("date", "start"), "manage": manage,
        "next_days": [{"date": today + datetime.timedelta(days=n), "windows": _slot_windows(today + datetime.timedelta(days=n))}
                      for n in range(7)],
    }, status=status)


@require_http_methods(["GET", "POST"])
@page_requires("bulletin.read")
def slots(request):
    if request.method == "GET":
        return _slots_page(request)
    permissions.require(request.user, "slot.manage")
    kind = request.POST.get("kind", "")
    if kind == "slot":
        form = forms.SlotForm(request.POST, prefix="new")
        if form.is_valid():
            try:
                services.create_slot(user=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("The slot was added."))
                return redirect("broadcasting:slots")
        return _slots_page(request, slot_form=form, status=400)
    if kind == "exception":
        form = forms.SlotExceptionForm(request.POST, prefix="exc")
        if form.is_valid():
            try:
                services.add_slot_exception(user=request.user, data=form.service_data())
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("The change of that day was saved."))
                return redirect("broadcasting:slots")
        return _slots_page(request, exception_form=form, status=400)
    raise Http404


@require_POST
@page_requires("slot.manage")
def slot_edit(request, pk):
    slot = get_object_or_404(Slot, pk=pk)
    try:
        if request.POST.get("delete"):
            services.delete_slot(slot=slot, user=request.user)
            messages.success(request, _("The slot was removed."))
            return redirect("broadcasting:slots")
        form = forms.SlotForm(request.POST, prefix=f"slot{slot.pk}")
        if not form.is_valid():
            return _slots_page(request, edit=(slot.pk, form), status=400)
        services.update_slot(slot=slot, user=request.user, data=form.cleaned_data)
    except ValidationError as exc:
        form = forms.SlotForm(request.POST, prefix=f"slot{slot.pk}")
        form.is_valid()
        _errors_to_form(form, exc)
        return _slots_page(request, edit=(slot.pk, form), status=400)
    messages.success(request, _("The slot was saved."))
    return redirect("broadcasting:slots")


@require_POST
@page_requires("slot.manage")
def slot_exception_delete(request, pk):
    item = get_object_or_404(SlotException, pk=pk)
    try:
        services.delete_slot_exception(exception=item, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The change of that day was removed."))
    return redirect("broadcasting:slots")


# --- pronunciations ---------------------------------------------------------------------------

def _pronunciations_page(request, form=None, status=200):
    search = forms.PronunciationSearchForm(request.GET or None)
    q = (search.cleaned_data.get("q") or "").replace("\x00", "").strip() if search.is_valid() else ""
    queryset = Pronunciation.objects.order_by("written")
    if q:
        queryset = queryset.filter(Q(written__icontains=q) | Q(spoken__icontains=q))
    manage = permissions.can(request.user, "pronunciation.manage")
    defaults = None
    if not Pronunciation.objects.exists():
        from broadcasting.pronunciations import DEFAULT_PRONUNCIATIONS

        defaults = [{"written": w, "spoken": sp, "case_sensitive": cs, "note": note}
                    for w, sp, cs, note in DEFAULT_PRONUNCIATIONS
                    if not q or q.lower() in w.lower() or q.lower() in sp.lower()]
    return _render(request, "broadcasting/pronunciations.html", {
        "defaults": defaults,
        "page": Paginator(queryset, 50).get_page(request.GET.get("page")), "q": q, "query": f"q={q}&" if q else "",
        "form": form or (forms.PronunciationForm(prefix="new") if manage else None), "manage": manage,
    }, status=status)


@require_http_methods(["GET", "POST"])
@page_requires("bulletin.read")
def pronunciations(request):
    if request.method == "GET":
        return _pronunciations_page(request)
    permissions.require(request.user, "pronunciation.manage")
    form = forms.PronunciationForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            with transaction.atomic():
                if not Pronunciation.objects.exists():
                    # An empty list means the default one: keep it when the first reading is added.
                    from broadcasting.pronunciations import load_default_pronunciations

                    load_default_pronunciations(Pronunciation)
                item = services.save_pronunciation(user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("“%(written)s” is now read “%(spoken)s”.") % {
                "written": item.written, "spoken": item.spoken})
            return redirect("broadcasting:pronunciations")
    return _pronunciations_page(request, form, status=400)


@require_http_methods(["GET", "POST"])
@page_requires("pronunciation.manage")
def pronunciation_edit(request, pk):
    item = get_object_or_404(Pronunciation, pk=pk)
    if request.method == "POST" and request.POST.get("delete"):
        services.delete_pronunciation(pronunciation=item, user=request.user)
        messages.success(request, _("“%(written)s” is read by the rules again.") % {"written": item.written})
        return redirect("broadcasting:pronunciations")
    form = forms.PronunciationForm(_posted(request), initial={
        "written": item.written, "spoken": item.spoken, "case_sensitive": item.case_sensitive, "note": item.note})
    if request.method == "POST" and form.is_valid():
        try:
            services.save_pronunciation(user=request.user, data=form.cleaned_data, pronunciation=item)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The reading was saved."))
            return redirect("broadcasting:pronunciations")
    return _render(request, "broadcasting/pronunciation_form.html", {"form": form, "item": item},
                   status=400 if form.errors else 200)


# --- reports ----------------------------------------------------------------------------------

def _report(request):
    """The period form (``month`` in mm/yyyy or yyyy-mm still names a month), the period, the
    error of a month that names none, and the report (None on an error)."""
    month_text = (request.GET.get("month") or "").replace("\x00", "")[:20]
    data = request.GET.copy() if request.GET else None
    error = ""
    if month_text and not request.GET.get("period"):
        try:
            data["period"] = f"{radio_reports.parse_month(month_text):%Y-%m}"
        except ValidationError as exc:
            error = " ".join(exc.messages)
    form = periods.PeriodForm(data, today=timezone.localdate())
    valid = form.is_valid() if form.is_bound else True
    period = form.get_period()
    report = radio_reports.period_report(period.date_from, period.date_to) if valid and not error else None
    return form, period, error, report


@page_requires("report.read")
def reports(request):
    from core import charts

    form, period, error, report = _report(request)
    context = {"form": form, "period": period, "error": error, "report": report}
    if period.kind != "custom":
        previous = periods.of_date(period.kind, period.date_from - datetime.timedelta(days=1))
        following = periods.of_date(period.kind, period.date_to + datetime.timedelta(days=1))
        context.update({"previous": previous,
                        "following": following if following.date_from <= timezone.localdate() else None})
    if report:
        for row in report["clusters"] + report["categories"]:
            row["hours_text"] = _decimal(row["hours_aired"], 1)
        for row in report["clusters"]:
            row["uptime_text"] = _decimal(row["uptime"] * 100, 1) if row["uptime"] is not None else None
        totals = report["totals"]
        totals["hours_text"] = _decimal(totals["hours_aired"], 1)
        totals["uptime_text"] = _decimal(totals["uptime"] * 100, 1) if totals["uptime"] is not None else None
        clusters = report["clusters"]
        context.update({
            "hours_chart": charts.bar_chart(
                [(row["name"], row["hours_aired"]) for row in clusters], title=_("Hours aired per cluster"),
                unit=_("h"), fmt=lambda value: charts.number(value, 1)) if clusters else None,
            "uptime_chart": charts.bar_chart(
                [(row["name"], row["uptime"] * 100 if row["uptime"] is not None else None) for row in clusters],
                title=_("Device uptime per cluster"), maximum=100, unit="%", fmt=lambda value: charts.number(value, 1),
                colour=charts.PALETTE[1]) if clusters else None,
            "categories_chart": charts.bar_chart(
                [(row["label"], row["plays"]) for row in report["categories"]],
                title=_("Plays by category of bulletin"), colour=charts.PALETTE[4]),
            "export_query": form.query(),
        })
    return _render(request, "broadcasting/reports.html", context, status=400 if error or form.errors else 200)


@page_requires("report.read")
def reports_xlsx(request):
    form, period, error, report = _report(request)
    if report is None:
        return reports(request)
    commune = connection.tenant
    response = HttpResponse(radio_reports.to_xlsx(report, commune_name=str(commune), period=period),
                            content_type=xlsx.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{periods.file_name("bao-cao-truyen-thanh", commune, period, "xlsx")}"'
    return response


def _decimal(value, places: int) -> str:
    """12.5 → '12,5' (a Vietnamese decimal comma)."""
    return f"{float(value):.{places}f}".replace(".", ",")
