"""Demo data: the pilot communes at fixed hosts, one official per role, a supervising-unit account.

Everything here is idempotent: running it again changes nothing that is already there.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from communes.models import Commune, Domain, Membership, Role, SupervisingUnit, UnitStaff, User
from communes.services import create_commune, load_administrative_units

DEMO_PASSWORD = "xaso-demo-2026"
DEMO_PIN = "123456"  # the PIN of every demo signing key (demo PKI, clearly labelled)


@dataclass(frozen=True)
class DemoCommune:
    slug: str
    code: str
    name: str
    province: str
    villages: tuple[str, ...]
    households: int
    note: str = ""


DEMO_COMMUNES = [
    DemoCommune("tule", "04630", "Tú Lệ", "15", (
        "Bản Lướt", "Bản Phạ", "Bản Chao", "Khau Thán", "Nà Lóng", "Tà Chơ", "Sài Lương", "Nậm Lành", "Bản Đồng",
    ), 120),
    DemoCommune("yenhoa", "14701", "Yên Hòa", "37", (
        "Thôn Bình Hòa", "Thôn Yên Phú", "Thôn Đông Đoài", "Thôn Quảng Thượng", "Thôn Ninh Hòa",
        "Thôn Yên Thịnh", "Thôn Bình Hải", "Thôn Đồng Tâm", "Thôn Trung Hòa", "Thôn Mai Thượng",
    ), 120, "Xã thí điểm Yên Hòa (huyện Yên Mô cũ); từ ngày 01/07/2025 là một phần của xã Yên Mô (mã 14701)."),
    DemoCommune("ngaan", "16144", "Nga An", "38", (
        "Thôn 1", "Thôn 2", "Thôn 3", "Thôn 4", "Thôn 5", "Thôn 6",
    ), 80),
    DemoCommune("hason", "15316", "Hà Sơn", "38", (
        "Thôn Đông Môn", "Thôn Tây Môn", "Thôn Nam Sơn", "Thôn Bắc Sơn",
    ), 60, "Xã thí điểm Hà Sơn (huyện Hà Trung cũ); từ ngày 01/07/2025 là một phần của xã Tống Sơn (mã 15316)."),
    DemoCommune("yentho", "16264", "Yên Thọ", "38", (
        "Thôn Tân Thành", "Thôn Đồng Lớn", "Thôn Đồng Xuân", "Thôn Xuân Thọ", "Thôn Làng Sung",
    ), 60),
]

ROLE_TITLES = {
    Role.CHAIRMAN: "Chủ tịch UBND xã",
    Role.VICE_CHAIRMAN: "Phó Chủ tịch UBND xã",
    Role.CLERK: "Văn thư",
    Role.ONESTOP_OFFICER: "Công chức Bộ phận Một cửa",
    Role.SPECIALIST: "Công chức chuyên môn",
    Role.RADIO_OPERATOR: "Nhân viên Đài truyền thanh",
    Role.HEALTH_STAFF: "Nhân viên Trạm Y tế",
    Role.SCHOOL_STAFF: "Giáo viên",
    Role.PRODUCER: "Chủ thể OCOP",
    Role.TECH_TEAM: "Tổ công nghệ số cộng đồng",
    Role.COMMUNE_ADMIN: "Quản trị hệ thống xã",
}

OFFICIAL_NAMES = [
    "Lò Văn Thành", "Nguyễn Thị Hoa", "Hà Văn Dũng", "Trần Thị Lan", "Lường Văn Minh", "Phạm Thị Hương",
    "Đinh Văn Khánh", "Vũ Thị Mai", "Hoàng Văn Sơn", "Bùi Thị Ngọc", "Mai Văn Tùng",
]


_demo_hash: list[str] = []


def _user(username: str, full_name: str, **extra) -> tuple[User, bool]:
    if not _demo_hash:  # hashing is slow on purpose: hash the shared demo password once
        _demo_hash.append(make_password(DEMO_PASSWORD))
    return User.objects.get_or_create(
        username=username, defaults={"full_name": full_name, "password": _demo_hash[0], **extra},
    )


@transaction.atomic
def _public_part(spec: DemoCommune, out) -> Commune:
    commune = Commune.objects.filter(code=spec.code).first()
    host = f"{spec.slug}.localhost"
    if commune is not None and commune.note != spec.note:
        commune.note = spec.note
        commune.save(update_fields=["note"])
    if commune is None:
        commune, seconds = create_commune(
            code=spec.code, name=spec.name, domain=host, province_code=spec.province,
            note=spec.note,  # the agency identifier is derived from the official code (unique)
        )
        out(f"  created {commune} at {host} in {seconds:.2f} s")
    elif not Domain.objects.filter(domain=host).exists():
        Domain.objects.create(domain=host, tenant=commune, is_primary=not commune.domains.exists())
    for index, role in enumerate(Role):
        user, _created = _user(f"{spec.slug}.{role.value}", OFFICIAL_NAMES[index % len(OFFICIAL_NAMES)])
        Membership.objects.get_or_create(
            user=user, commune=commune, role=role.value, defaults={"job_title": ROLE_TITLES[role]},
        )
    return commune


def seed(out=print, households: int | None = None) -> dict:
    load_administrative_units()
    communes = [_public_part(spec, out) for spec in DEMO_COMMUNES]
    staff, _ = _user("thanhhoa.staff", "Lê Văn Quang", email="sonv@thanhhoa.example.gov.vn")
    UnitStaff.objects.get_or_create(
        user=staff, unit=SupervisingUnit.objects.get(code="38"), defaults={"job_title": "Chuyên viên Sở Nội vụ"},
    )
    token, _ = Token.objects.get_or_create(user=staff)
    admin, created = _user("admin", "Quản trị viên", is_staff=True, is_superuser=True)
    try:
        from population.demo import populate
    except ImportError:  # the registry app is optional for the demo
        populate = None
    if populate is not None:
        for spec, commune in zip(DEMO_COMMUNES, communes):
            made = populate(commune, villages=spec.villages, households=households or spec.households, seed=int(spec.code))
            if made:
                out(f"  {commune}: {made['households']} households, {made['residents']} residents")
    _documents(communes, out)
    citizen, _ = _user("congdan", "Hoàng Văn Nam", phone="0912345678", email="congdan@example.vn")
    _onestop(communes, citizen, out)
    _radio(communes, out)
    return {"communes": communes, "staff": staff, "token": token.key, "admin": admin, "citizen": citizen}


def _onestop(communes: list[Commune], citizen: User, out) -> None:
    """One-stop dossiers: a half year of history, and today's dossiers in every state (results
    signed with the demo PKI)."""
    from onestop import demo as onestop_demo

    for commune in communes:
        officials = {
            m.role: m.user for m in Membership.objects.filter(commune=commune, is_active=True).select_related("user")
        }
        made = onestop_demo.populate(commune, officials, citizen=citizen)
        if made:
            history = made["history"]
            out(f"  {commune}: {sum(history[k] for k in ('early', 'on_time', 'late'))} dossiers in the last six months "
                f"({history['early']} early, {history['on_time']} on time, {history['late']} late); "
                f"today: {', '.join(f'{n} {state}' for state, n in made['today'].items())}")


def _documents(communes: list[Commune], out) -> None:
    """The demo PKI (certificates of the officials who sign and of each commune), then documents:
    incoming ones at every step, drafts, and outgoing ones issued with both signatures."""
    from django_tenants.utils import tenant_context

    from documents import demo as documents_demo
    from documents import services as documents_services
    from documents.models import OutgoingDocument
    from jobs.models import JobState
    from jobs.services import execute
    from signatures import demo as signatures_demo
    from signatures.models import SigningJob

    _ca, report = signatures_demo.seed(pin=DEMO_PIN)
    if report.personal or report.agency:
        out(f"  demo PKI: {report.personal} personal and {report.agency} agency certificates (PIN {DEMO_PIN})")

    def run_signing_jobs(commune):  # as a worker would, so that the next step finds the signed file
        for pk in SigningJob.objects.filter(state=JobState.QUEUED).values_list("pk", flat=True):
            execute(SigningJob, pk, commune.schema_name)

    for commune in communes:
        officials = {
            m.role: m.user for m in Membership.objects.filter(commune=commune, is_active=True).select_related("user")
        }
        made = documents_demo.populate(commune, officials)
        if not made:
            continue
        with tenant_context(commune):
            for pk in made["approved"]:
                doc = OutgoingDocument.objects.get(pk=pk)
                documents_services.sign_as_leader(doc, doc.authority.user, DEMO_PIN)
                run_signing_jobs(commune)
                doc.refresh_from_db()
                documents_services.issue(doc, officials[Role.CLERK], DEMO_PIN)
                run_signing_jobs(commune)
            issued = OutgoingDocument.objects.filter(state="issued").exclude(issued_pdf="").count()
        out(f"  {commune}: {made['incoming']} incoming and {made['outgoing']} outgoing documents ({issued} issued and signed)")


def _radio(communes: list[Commune], out) -> None:
    """The commune radio: loudspeaker clusters in the villages, the daily slots, a week of
    bulletins read by eSpeak NG, heartbeats (some clusters offline) and the as-run log."""
    from broadcasting import demo as radio_demo

    for commune in communes:
        officials = {
            m.role: m.user for m in Membership.objects.filter(commune=commune, is_active=True).select_related("user")
        }
        made = radio_demo.populate(commune, officials)
        if made:
            bulletins = made["bulletins"]
            out(f"  {commune}: {made['clusters']} loudspeaker clusters in {made['villages']} villages "
                f"({made['offline']} offline), {bulletins['approved']} approved bulletins "
                f"({bulletins['with_audio']} with audio), {made['as_run']} plays in the as-run log")
