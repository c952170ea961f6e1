"""Demo data: the pilot communes at fixed hosts, one official per role, a supervising-unit account.

Everything here is idempotent: running it again changes nothing that is already there.
"""
from __future__ import annotations

from collections.abc import Callable
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
    Role.ECONOMY_OFFICER: "Công chức phụ trách kinh tế, OCOP",
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


@dataclass
class DemoContext:
    """What every app's demo step receives (``communes.modules.DemoStep``)."""

    communes: list  # [(DemoCommune, Commune)], in the order of DEMO_COMMUNES
    citizen: User
    households: int | None
    pin: str
    out: Callable[[str], None]

    def officials(self, commune: Commune) -> dict:
        """{role: user} of the commune's active memberships (one official per role in the demo)."""
        return {
            m.role: m.user for m in Membership.objects.filter(commune=commune, is_active=True).select_related("user")
        }


def seed(out=print, households: int | None = None) -> dict:
    """The communes, their officials, the supervising unit's account and the citizen; then the
    data of every app, in the order its demo step asks (``communes.modules.demo_steps``)."""
    from communes.modules import run_demo_steps

    load_administrative_units()
    communes = [_public_part(spec, out) for spec in DEMO_COMMUNES]
    staff, _ = _user("thanhhoa.staff", "Lê Văn Quang", email="sonv@thanhhoa.example.gov.vn")
    UnitStaff.objects.get_or_create(
        user=staff, unit=SupervisingUnit.objects.get(code="38"), defaults={"job_title": "Chuyên viên Sở Nội vụ"},
    )
    token, _ = Token.objects.get_or_create(user=staff)
    admin, created = _user("admin", "Quản trị viên", is_staff=True, is_superuser=True)
    citizen, _ = _user("congdan", "Hoàng Văn Nam", phone="0912345678", email="congdan@example.vn")
    run_demo_steps(DemoContext(
        communes=list(zip(DEMO_COMMUNES, communes)), citizen=citizen, households=households, pin=DEMO_PIN, out=out,
    ))
    return {"communes": communes, "staff": staff, "token": token.key, "admin": admin, "citizen": citizen}
