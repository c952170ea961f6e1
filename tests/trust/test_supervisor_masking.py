"""A supervising unit reads its communes through the national host's API, and no answer there
carries a full personal ID or phone number, nor can any filter, search or ordering tell whether
a number belongs to a resident, an applicant or a recipient (the masked number plus the birth
year and sex leave three digits: a search that answered exact matches unmasked it).

The walk is built from the national host's URL resolver (``config.urls_public``): every GET
endpoint under ``/api/v1/``, lists and details, with a token and with a session; the filter
parameters come from each view class (django-filter, search and ordering fields) and from the
OpenAPI schema (the parameters a view reads itself).
"""
from __future__ import annotations

import datetime
import re

import pytest
from rest_framework.authtoken.models import Token

from communes.models import Role, SupervisingUnit
from tests.trust.url_walk import body_text, routes

TULE = "04630"

RESIDENTS = [
    # name, birth, sex, ID, phone, relation
    ("Nguyễn Văn An", datetime.date(1990, 5, 1), "male", "015090123456", "0987654321", "head"),
    ("Lò Thị Bình", datetime.date(1992, 7, 9), "female", "015192654321", "0356000333", "wife"),
    ("Nguyễn Thị Hoa", datetime.date(2018, 1, 2), "female", "001318000111", "", "child"),
    ("Lường Văn Dũng", datetime.date(1985, 3, 4), "male", "015085777888", "0868123123", "head"),
]
HOUSEHOLD_PHONES = ["0912000111", "0983000222"]
APPLICANTS = [("015195004321", "0977000444"), ("015088112233", "0399555666")]
SMS_ONLY = ["0708111222"]
# Parameters that page, format or order a list: tested apart (ordering) or not filters.
NOT_FILTERS = {"page", "page_size", "format", "ordering", "limit", "offset", "cursor"}
# Names a masked value could be ordered by.
MASKED_ORDERINGS = ["personal_id", "phone", "household__phone", "applicant_id_number", "applicant_phone",
                    "recipients", "recipient", "deliveries__recipient", "id_number"]


@pytest.fixture
def pii(tule, make_user, in_commune, settings, tmp_path):
    """Tú Lệ with residents, households, received dossiers (whose receipt SMS goes to the
    applicant) and an SMS to a list: every full ID and phone number of the data."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from notifications.models import Notification
    from onestop.models import Procedure
    from population import services
    from population.models import Household, Resident, Village
    from tests.onestop.helpers import applicant, received_dossier

    officer = make_user("pii_officer", roles={tule: [Role.ONESTOP_OFFICER]})
    with in_commune(tule):
        village = services.save_village(Village(name="Bản Lướt", kind=Village.Kind.BAN))
        households = [
            services.save_household(Household(code=f"TL-00{i + 1}", village=village, address="Bản Lướt", phone=phone))
            for i, phone in enumerate(HOUSEHOLD_PHONES)
        ]
        residents = []
        for index, (name, birth, sex, id_number, phone, relation) in enumerate(RESIDENTS):
            residents.append(services.save_resident(Resident(
                household=households[0 if index < 3 else 1], full_name=name, birth_date=birth, sex=sex,
                ethnicity="03", personal_id=id_number, relation=relation, phone=phone,
            )))
        procedure = Procedure.objects.get(code="HT-02", is_current=True)
        dossiers = [received_dossier(procedure, officer, applicant=applicant(id_number=id_number, phone=phone,
                                                                             name=f"Người nộp {i}"))
                    for i, (id_number, phone) in enumerate(APPLICANTS)]
        Notification.objects.create(channel="sms", target="list", recipients=SMS_ONLY + [RESIDENTS[0][4]],
                                    message="Họp thôn lúc 8 giờ")
        assert Notification.objects.filter(channel="sms").count() >= 3  # two receipts and the list
    ids = [r[3] for r in RESIDENTS] + [a[0] for a in APPLICANTS]
    phones = [r[4] for r in RESIDENTS if r[4]] + HOUSEHOLD_PHONES + [a[1] for a in APPLICANTS] + SMS_ONLY
    return {"ids": ids, "phones": phones, "residents": residents, "households": households, "dossiers": dossiers}


@pytest.fixture
def staff(make_user, communes):
    return make_user("staff_laocai_pii", units=[SupervisingUnit.objects.get(code="15")])


def _clients(client_for, staff):
    token, _created = Token.objects.get_or_create(user=staff)
    return {
        "token": (client_for("localhost"), {"HTTP_AUTHORIZATION": f"Token {token.key}"}),
        "session": (client_for("localhost", staff), {}),
    }


def _secrets(pii) -> list[str]:
    """Full numbers as they could appear: IDs, and phones with 0, 84 or +84 in front."""
    out = list(pii["ids"])
    for phone in pii["phones"]:
        out += [phone, "84" + phone[1:]]
    return out


def _leaks(text: str, secrets: list[str]) -> list[str]:
    digits = re.sub(r"(?<=\d)[ .\-](?=\d)", "", text)
    return [s for s in secrets if s in text or s in digits]


def _api_routes():
    return [r for r in routes("config.urls_public", "api/v1/") if r.answers_get]


def _values(route) -> dict:
    return {"commune_code": TULE, "code": TULE}


def _result_keys(response):
    """What a list answered: its status and the identities of its rows (or the whole body)."""
    if response.status_code != 200:
        return response.status_code, None
    if "json" not in response.get("Content-Type", ""):
        return 200, body_text(response)  # a file (an export): its content
    body = response.json()
    rows = body.get("results", body) if isinstance(body, dict) else body
    if isinstance(rows, list):
        return 200, (body.get("count") if isinstance(body, dict) else None,
                     [row.get("id", row.get("code")) if isinstance(row, dict) else row for row in rows])
    return 200, body


def test_walk_is_built_from_the_resolver():
    """The walk reaches the endpoints of every app the national host serves under a commune."""
    paths = {r.path(commune_code=TULE) for r in _api_routes()}
    for expected in ["/api/v1/communes/04630/residents/", "/api/v1/communes/04630/residents/1/",
                     "/api/v1/communes/04630/households/", "/api/v1/communes/04630/notifications/",
                     "/api/v1/communes/04630/onestop/dossiers/", "/api/v1/communes/04630/onestop/dossiers/1/",
                     "/api/v1/communes/04630/documents/incoming/", "/api/v1/communes/04630/signatures/jobs/",
                     "/api/v1/communes/04630/radio/bulletins/", "/api/v1/onestop/statistics/"]:
        assert expected in paths


@pytest.mark.parametrize("auth", ["token", "session"])
def test_no_answer_to_a_supervisor_carries_a_full_id_or_phone(pii, staff, client_for, auth):
    client, headers = _clients(client_for, staff)[auth]
    secrets = _secrets(pii)
    list_ids: dict[str, list] = {}
    read, leaks = [], []
    detail_routes = []
    for route in _api_routes():
        if "pk" in route.params or ("code" in route.params and "commune_code" in route.params):
            detail_routes.append(route)
            continue
        path = route.path(**_values(route))
        response = client.get(path, {"page_size": 500}, **headers)
        assert response.status_code < 500, path
        if response.status_code == 200:
            read.append(path)
            leaks += [(path, s) for s in _leaks(body_text(response), secrets)]
            status, keys = _result_keys(response)
            if keys and isinstance(keys, tuple):
                list_ids[path] = [k for k in keys[1] if k is not None]
    # Details: every row a list showed, and the objects of the data by their own ids.
    known = {"residents": [r.pk for r in pii["residents"]], "households": [h.pk for h in pii["households"]],
             "dossiers": [d.pk for d in pii["dossiers"]]}
    for route in detail_routes:
        list_path = route.path(**_values(route), pk="\x00").split("\x00")[0]
        candidates = set(list_ids.get(list_path, []))
        for name, pks in known.items():
            if list_path.rstrip("/").endswith(name):
                candidates |= set(pks)
        for pk in sorted(candidates, key=str) or [1]:
            path = route.path(**_values(route), pk=pk)
            response = client.get(path, **headers)
            assert response.status_code < 500, path
            if response.status_code == 200:
                read.append(path)
                leaks += [(path, s) for s in _leaks(body_text(response), secrets)]
    assert not leaks, leaks
    # The walk read the personal data a supervisor reaches (masked), not only refusals.
    for path in [f"/api/v1/communes/{TULE}/residents/", f"/api/v1/communes/{TULE}/residents/{pii['residents'][0].pk}/",
                 f"/api/v1/communes/{TULE}/households/", f"/api/v1/communes/{TULE}/residents/export/"]:
        assert path in read


# A parameter that takes a date, a period, a number or one of fixed values holds no personal
# number (a number-shaped probe there answers "not a date", which says nothing of a person).
NOT_TEXT = re.compile(r"(^|_)(date|from|to|month|year|day|at|before|after|min|max)($|_)")


def _filter_params(route, schema_params: dict) -> set[str]:
    import django_filters

    cls = route.view_class
    names = set(schema_params.get(route.pattern, ()))
    filterset_class = getattr(cls, "filterset_class", None)
    if filterset_class is not None:
        for name, declared in filterset_class.base_filters.items():
            if not isinstance(declared, (django_filters.NumberFilter, django_filters.ChoiceFilter,
                                         django_filters.DateFilter, django_filters.BooleanFilter)):
                names.add(name)
            else:
                names.discard(name)
    names |= set(getattr(cls, "filterset_fields", None) or ())
    if getattr(cls, "search_fields", None):
        names.add("search")
    names |= {"search", "q"}  # read by hand by some views
    return {name for name in names - NOT_FILTERS if not NOT_TEXT.search(name)}


def _schema_params() -> dict[str, set[str]]:
    """The query parameters the OpenAPI schema documents, by URL pattern of the walk."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="config.urls_public").get_schema(request=None, public=True)
    by_path = {}
    for path, item in schema["paths"].items():
        get = item.get("get") or {}
        by_path[path] = {p["name"] for p in get.get("parameters", []) if p.get("in") == "query"
                         and (p.get("schema") or {}).get("type", "string") == "string"
                         and not (p.get("schema") or {}).get("enum")
                         and (p.get("schema") or {}).get("format") not in ("date", "date-time")}
    out = {}
    for route in _api_routes():
        openapi = re.sub(r"\(\?P<([^>]+)>[^)]*\)", r"{\1}", route.pattern)
        openapi = "/" + re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", openapi).replace("^", "").replace("$", "")
        out[route.pattern] = by_path.get(openapi, set())
    return out


def _probes(pii) -> list[tuple[str, str]]:
    """(value, decoy) pairs: each full number and prefix, and one of the same shape that
    belongs to nobody."""
    everything = pii["ids"] + pii["phones"]
    # One number of each kind: a resident's ID and phone, a household's phone, an applicant's
    # ID and phone, a phone that only an SMS holds.
    sample = [RESIDENTS[0][3], RESIDENTS[0][4], HOUSEHOLD_PHONES[1], APPLICANTS[0][0], APPLICANTS[0][1], SMS_ONLY[0]]
    pairs = []
    for value in sample:
        for probe in (value, value[:8]):
            decoy = probe[:-3] + "999"
            if decoy == probe or any(v.startswith(decoy) for v in everything):
                decoy = probe[:-3] + "998"
            pairs.append((probe, decoy))
    return pairs


def test_no_filter_search_or_ordering_tells_a_supervisor_whose_number_it_is(pii, staff, client_for):
    client, headers = _clients(client_for, staff)["token"]
    schema_params = _schema_params()
    tried, oracles = [], []
    for route in _api_routes():
        if set(route.params) - {"commune_code"}:
            continue  # details: nothing to filter
        path = route.path(**_values(route))
        if client.get(path, **headers).status_code != 200:
            continue  # refused to supervisors altogether
        for name in sorted(_filter_params(route, schema_params)):
            for value, decoy in _probes(pii):
                answer = client.get(path, {name: value, "page_size": 500}, **headers)
                other = client.get(path, {name: decoy, "page_size": 500}, **headers)
                assert answer.status_code < 500 and other.status_code < 500, (path, name)
                tried.append((path, name))
                if _result_keys(answer) != _result_keys(other):
                    oracles.append((path, name, value))
        # Ordering by a masked value sorts by the hidden digits: it must be ignored or refused.
        for name in MASKED_ORDERINGS:
            up = client.get(path, {"ordering": name, "page_size": 500}, **headers)
            down = client.get(path, {"ordering": "-" + name, "page_size": 500}, **headers)
            if up.status_code == down.status_code == 200 and _result_keys(up) != _result_keys(down):
                oracles.append((path, "ordering", name))
    assert not oracles, oracles
    assert (f"/api/v1/communes/{TULE}/residents/", "search") in tried
    assert (f"/api/v1/communes/{TULE}/households/", "search") in tried


def test_supervisor_search_by_number_is_refused_in_vietnamese(pii, staff, client_for):
    client, headers = _clients(client_for, staff)["token"]
    response = client.get(f"/api/v1/communes/{TULE}/residents/", {"search": RESIDENTS[0][3]}, **headers)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "detail", "fields"} and "search" in body["fields"]
    assert "định danh" in body["fields"]["search"][0]
    by_name = client.get(f"/api/v1/communes/{TULE}/residents/", {"search": "nguyen van an"}, **headers).json()
    [row] = by_name["results"]
    assert row["personal_id"] == "015******456" and row["phone"] == "098*******"


def test_commune_officials_still_find_a_resident_by_id_and_see_phones(pii, make_user, tule, client_for):
    clerk = make_user("pii_clerk", roles={tule: [Role.SPECIALIST]})
    client = client_for("tule.localhost", clerk)
    found = client.get("/api/v1/residents/", {"search": RESIDENTS[0][3]}).json()
    assert [r["full_name"] for r in found["results"]] == ["Nguyễn Văn An"]
    assert found["results"][0]["personal_id"] == "015******456"
    assert found["results"][0]["phone"] == RESIDENTS[0][4]
    households = client.get("/api/v1/households/").json()["results"]
    assert sorted(h["phone"] for h in households) == sorted(HOUSEHOLD_PHONES)
