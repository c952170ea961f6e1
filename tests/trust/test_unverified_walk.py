"""Every URL of both URLconfs, GET and POST, for every role in a session that was not confirmed
by the second factor: no approve, sign, issue, broadcast or admin action passes.

The URLs come from the resolvers themselves (``get_resolver(urlconf).url_patterns``, walked
recursively), with sample arguments for every converter and the primary keys of real objects
that wait for such an action: an outgoing document waiting for approval, a bulletin waiting for
approval, a dossier waiting at the leader's signature, a cluster with a device token. A pass
would show as a success status or as a change of those objects (their states, and the rows
such actions create), which the test compares before and after.
"""
from __future__ import annotations

import datetime
import re
import time
import uuid

import pytest
from django.db import connection
from django.urls import URLResolver, get_resolver, resolve, Resolver404
from django_tenants.utils import tenant_context

from communes.models import Membership, Role, SupervisingUnit
from communes.second_factor import OPEN_URL_NAMES

TENANT_HOST = "tule.localhost"
NATIONAL_HOST = "localhost"
# The actions of the pages' ``<slug:action>`` URLs, by the text before them.
ACTIONS = {
    "outgoing": ["approve", "return", "sign", "issue", "agency_sign", "dispatch", "file", "withdraw", "submit"],
    "incoming": ["register", "return", "present", "assign", "start", "forward", "complete"],
    "dossiers": ["sign_leader", "sign_agency", "extend", "stop", "return", "hand_over", "prepare_result"],
    "bulletins": ["approve", "reject", "withdraw", "submit"],
    "token": ["rotate", "revoke"],
}
POWER = re.compile(r"approve|reject|sign|issue|dispatch|emergenc|admin|rotate|revoke|campaign|export|withdraw|"
                   r"extend|stop|return|assign|present|authorit|certificate|grant|numbering|settings|cancel")


def _regex_sample(regex: str, samples: dict) -> str | None:
    text = regex.lstrip("^").rstrip("$")
    if "(?P<format>" in text or "\\." in text and "format" in text:
        return None

    def group(match):
        name, body = match.group(1), match.group(2)
        if name in samples:
            return str(samples[name])
        if "|" in body:  # the admin's app_label: the first alternative
            return body.split("|")[0].strip("()")
        if name == "url":
            return "anything/"
        return "1"

    text = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", group, text)
    text = text.replace("\\", "")
    if re.search(r"[()\[\]*+?]", text):
        return None
    return text


def _route_sample(route: str, samples: dict, base: str = "") -> list[str]:
    urls = [route]
    for match in re.finditer(r"<(?:(\w+):)?(\w+)>", route):
        converter, name = match.group(1), match.group(2)
        if name == "action":
            values = next((actions for key, actions in ACTIONS.items() if key in base + route), ["approve"])
        elif name in samples:
            values = [samples[name]]
        elif converter == "uuid" or name == "token":
            values = [uuid.uuid4()]
        elif converter in ("int", None) or name.endswith("pk") or name.endswith("_id"):
            values = [samples.get("pk", 1)]
        else:
            values = ["x"]
        urls = [u.replace(match.group(0), str(v), 1) for u in urls for v in values]
    return urls


def _expand(patterns, prefix: list, samples: dict, out: list):
    for pattern in patterns:
        raw = pattern.pattern
        regex = getattr(raw, "_regex", None)
        route = getattr(raw, "_route", None)
        for base in prefix:
            if route is not None:
                parts = _route_sample(str(route), samples, base)
            else:
                sample = _regex_sample(str(regex), samples)
                if sample is None:
                    continue
                parts = [sample]
            for part in parts:
                if isinstance(pattern, URLResolver):
                    _expand(pattern.url_patterns, [base + part], samples, out)
                else:
                    out.append((base + part, pattern.name))


def all_urls(urlconf: str, samples_for) -> list[tuple[str, str]]:
    """(url, name) for every pattern of ``urlconf``, with the sample arguments of ``samples_for``
    (called with the pattern's text: the pk of the right kind of object)."""
    out: list = []
    for pattern in get_resolver(urlconf).url_patterns:
        _expand([pattern], ["/"], samples_for(str(pattern.pattern)), out)
    seen, result = set(), []
    for url, name in out:
        url = url.replace("//", "/")
        if url not in seen:
            seen.add(url)
            result.append((url, name))
    return result


def is_open(url: str, urlconf: str) -> bool:
    if url.startswith("/static/"):
        return True
    try:
        return resolve(url, urlconf=urlconf).url_name in OPEN_URL_NAMES
    except Resolver404:
        return False


def refused_for_second_factor(response) -> bool:
    if response.status_code == 302:
        return response["Location"].startswith("/accounts/2fa/")
    if response.status_code == 403:
        if response.get("HX-Redirect", "").startswith("/accounts/2fa/"):
            return True
        try:
            return response.json().get("code") == "second_factor_required"
        except ValueError:
            return False
    return False


@pytest.fixture
def world(tule, make_user):
    """Objects that wait for an approve / sign / issue / broadcast action, in Tú Lệ."""
    from documents import services as documents
    from documents.models import DocumentType, OutgoingDocument, SigningAuthority
    from onestop import services as onestop
    from onestop.models import Procedure
    from tests.broadcasting.helpers import make_cluster, ready_asset
    from tests.onestop.helpers import received_dossier

    staff = {role: make_user(f"walk_staff_{role.value}", roles={tule: [role]}) for role in
             (Role.CHAIRMAN, Role.SPECIALIST, Role.ONESTOP_OFFICER, Role.RADIO_OPERATOR)}
    with tenant_context(tule):
        authority = SigningAuthority.objects.create(
            user=staff[Role.CHAIRMAN], prefix="TM.", title="CHỦ TỊCH", collective="ỦY BAN NHÂN DÂN",
            valid_from=datetime.date(2020, 1, 1),
        )
        doc_type = DocumentType.objects.get(code="quyet-dinh")
        authority.document_types.set([doc_type])
        draft = documents.save_draft(OutgoingDocument(
            doc_type=doc_type, subject="Về việc tổ chức Tết Trồng cây", body="Điều 1. Tổ chức Tết Trồng cây.",
            recipients_text="Như Điều 3;", authority=authority,
        ), user=staff[Role.SPECIALIST], electronic_recipients=None)
        document = documents.submit(draft, user=staff[Role.SPECIALIST])

        procedures = {p.code: p for p in Procedure.objects.filter(is_current=True)}
        dossier = received_dossier(procedures["HT-02"], staff[Role.ONESTOP_OFFICER])
        dossier = onestop.hand_over(dossier=dossier, user=staff[Role.ONESTOP_OFFICER])
        dossier = onestop.hand_over(dossier=dossier, user=staff[Role.SPECIALIST])
        dossier = onestop.hand_over(dossier=dossier, user=staff[Role.CHAIRMAN])

        from broadcasting.models import Bulletin
        from population.models import Village

        village = Village.objects.first() or Village.objects.create(name="Bản Thái")
        cluster, _token = make_cluster(staff[Role.RADIO_OPERATOR], village)
        asset = ready_asset(30, text="thông báo lịch tiêm chủng")
        bulletin = Bulletin.objects.create(
            title="Lịch tiêm chủng", category="news", priority=5, text=asset.text, normalized_text=asset.text,
            voice="vi", asset=asset, valid_from=datetime.date.today(), valid_until=datetime.date.today(),
            repeats_per_day=1, state="submitted",
        )
    return {"document": document, "dossier": dossier, "bulletin": bulletin, "cluster": cluster}


def snapshot(tule, world) -> dict:
    """What an approve / sign / issue / broadcast / admin action would change."""
    from django.apps import apps

    with tenant_context(tule):
        state = {name: type(obj).objects.filter(pk=obj.pk).values().first() for name, obj in world.items()}
        for label in ("broadcasting.Emergency", "broadcasting.Bulletin", "signatures.SigningJob",
                      "signatures.SigningCertificate", "documents.OutgoingDocument", "documents.SigningAuthority",
                      "documents.NumberSequence", "onestop.Dossier", "onestop.Procedure", "population.Resident",
                      "notifications.Notification", "broadcasting.Cluster", "broadcasting.Slot"):
            model = apps.get_model(label)
            state[label] = (model.objects.count(), sorted(model.objects.values_list("pk", flat=True))[-5:])
    connection.set_schema_to_public()
    from django.contrib.admin.models import LogEntry

    state["memberships"] = sorted(Membership.objects.values_list("pk", "user_id", "role", "is_active"))
    state["admin log"] = LogEntry.objects.count()
    return state


def samples_for(world, tule):
    def pick(text: str) -> dict:
        pk = 1
        if "outgoing" in text or "documents" in text:
            pk = world["document"].pk
        if "dossier" in text or "onestop" in text:
            pk = world["dossier"].pk
        if "bulletin" in text or "radio" in text:
            pk = world["bulletin"].pk
        if "cluster" in text:
            pk = world["cluster"].pk
        return {"pk": pk, "commune_code": tule.code, "code": tule.code, "year": 2026, "key": "x",
                "app_label": "communes", "content_type_id": "1", "object_id": "1", "kind": "draft"}

    return pick


def _urls(urlconf, world, tule):
    """Every URL of the URLconf; a pattern's pk is that of the object its text names."""
    out = []
    for url, name in all_urls(urlconf, samples_for(world, tule)):
        fixed = url
        for key in ("outgoing", "dossiers", "bulletins", "clusters"):
            if f"/{key}/" in url:
                pk = {"outgoing": world["document"].pk, "dossiers": world["dossier"].pk,
                      "bulletins": world["bulletin"].pk, "clusters": world["cluster"].pk}[key]
                fixed = re.sub(rf"/{key}/\d+/", f"/{key}/{pk}/", url)
        out.append((fixed, name))
    return sorted(set(out))


def walk(client, urls, urlconf, methods=("get", "post")):
    """The (method, URL, status) whose answers were not the second factor's refusal."""
    passed = []
    for url, _name in urls:
        if is_open(url, urlconf):
            continue
        for method in methods:
            response = getattr(client, method)(url)
            if not refused_for_second_factor(response):
                passed.append((method.upper(), url, response.status_code))
    return passed


def test_walk_every_url_for_every_role_with_an_unverified_session(db, tule, make_user, client_for, world):
    started = time.monotonic()
    tenant_urls = _urls("config.urls_tenant", world, tule)
    national_urls = _urls("config.urls_public", world, tule)
    assert len(tenant_urls) > 400 and len(national_urls) > 200
    # The URLs built resolve, and reach the objects that wait for an action.
    unresolved = [url for url, _ in tenant_urls if not _resolves(url, "config.urls_tenant")]
    assert len(unresolved) < len(tenant_urls) // 20, unresolved[:20]
    tenant_set = {url for url, _ in tenant_urls}
    for url in (f"/documents/outgoing/{world['document'].pk}/approve/", f"/radio/bulletins/{world['bulletin'].pk}/approve/",
                f"/onestop/dossiers/{world['dossier'].pk}/sign_leader/", "/radio/emergency/",
                f"/api/v1/radio/bulletins/{world['bulletin'].pk}/approve/", "/admin/communes/membership/add/"):
        assert url in tenant_set, url
    power_urls = [(url, name) for url, name in tenant_urls if POWER.search(url)]
    assert len(power_urls) > 60
    # Each role alone: the actions on the objects that wait for one, and the emergency, export
    # and admin pages (every URL is walked above for a user holding every role).
    object_paths = {f"/{key}/{obj.pk}/" for key, obj in (("outgoing", world["document"]), ("dossiers", world["dossier"]),
                                                       ("bulletins", world["bulletin"]), ("clusters", world["cluster"]))}
    action_urls = [(url, name) for url, name in power_urls
                   if any(path in url for path in object_paths)
                   or url in ("/admin/", "/admin/communes/membership/add/", "/radio/emergency/", "/api/v1/radio/emergencies/",
                              "/population/residents/export.xlsx", "/api/v1/residents/export/", "/documents/settings/",
                              "/signatures/sign/", "/signatures/commune/seal/")]
    assert 40 < len(action_urls) < 80, len(action_urls)

    # Everyone, before the walk: every role alone, every role at once, the installation's
    # operator, and a supervising unit's staff.
    needing = [role for role in Role if role.value in sf_roles()]
    plain = [role for role in Role if role.value not in sf_roles()]
    assert set(needing) >= {Role.CHAIRMAN, Role.VICE_CHAIRMAN, Role.CLERK, Role.COMMUNE_ADMIN}
    users = {role: make_user(f"walk_{role.value}", roles={tule: [role]}) for role in Role}
    everyone = make_user("walk_every_role", roles={tule: list(Role)})
    operator = make_user("walk_operator", is_superuser=True, is_staff=True, roles={tule: [Role.CHAIRMAN]})
    unit_staff = make_user("walk_unit", units=[SupervisingUnit.objects.get(code="15")])
    before = snapshot(tule, world)
    timings = {}

    # Every URL of the commune's host, GET and POST, for a user holding every role, and every
    # action URL for each role that needs the second factor alone: each answers with the code
    # page (or its API refusal).
    failures = {"every role": walk(client_for(TENANT_HOST, everyone, second_factor=False), tenant_urls,
                                   "config.urls_tenant", methods=("get", "post"))}
    timings["every role"] = time.monotonic() - started
    for role in needing:
        client = client_for(TENANT_HOST, users[role], second_factor=False)
        failures[role.value] = walk(client, action_urls, "config.urls_tenant", methods=("post",))
    timings["each role"] = time.monotonic() - started
    # Every URL of the national host for the installation's operator.
    failures["operator (national host)"] = walk(client_for(NATIONAL_HOST, operator, second_factor=False),
                                                national_urls, "config.urls_public", methods=("get", "post"))
    timings["national"] = time.monotonic() - started
    assert not any(failures.values()), {k: v[:15] for k, v in failures.items() if v}

    # Roles without the second factor hold no such action: their POSTs pass none either.
    passed = []
    for role in plain:
        client = client_for(TENANT_HOST, users[role], second_factor=False)
        passed += [(role.value, url, status) for url, status in _posts(client, action_urls, "config.urls_tenant")
                   if status < 300]
    national = client_for(NATIONAL_HOST, unit_staff, second_factor=False)
    national_power = [(url, name) for url, name in national_urls if POWER.search(url)]
    passed += [("unit staff", url, status) for url, status in _posts(national, national_power, "config.urls_public")
               if status < 300]
    timings["plain roles"] = time.monotonic() - started
    assert not passed, passed[:20]

    assert snapshot(tule, world) == before
    print("walk timings (s):", {key: round(value, 1) for key, value in timings.items()})


def sf_roles() -> set[str]:
    from communes.second_factor import second_factor_roles

    return second_factor_roles()


def _posts(client, urls, urlconf):
    for url, _name in urls:
        if not is_open(url, urlconf):
            yield url, client.post(url).status_code


def _resolves(url: str, urlconf: str) -> bool:
    try:
        resolve(url.split("?")[0], urlconf=urlconf)
        return True
    except Resolver404:
        return False
