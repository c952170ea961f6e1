"""Demo documents of a commune: incoming documents at every step (some overdue), outgoing
drafts, documents in review and approved ones waiting for the leader's signature, and a
secret document's register line.

``populate(commune, officials)`` is idempotent: a commune that already has documents is left
alone. ``officials`` maps roles (``communes.models.Role`` or its value) to users who hold that
role in the commune. Signing is left to the caller (the approved documents are returned), since
it needs the certificates of the signatures app.
"""
from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from documents import services
from documents.models import DocumentType, IncomingDocument, OutgoingDocument, SigningAuthority

INCOMING = [
    # (sender, number/symbol, type code, subject, urgency, days ago, step)
    ("UBND tỉnh", "245/UBND-KT", "cong-van", "V/v triển khai Kế hoạch chuyển đổi số cấp xã năm 2026", "normal", 12, "overdue"),
    ("Sở Nội vụ", "118/SNV-CCVC", "cong-van", "V/v rà soát, báo cáo số lượng công chức cấp xã", "urgent", 9, "overdue"),
    ("Sở Nông nghiệp và Môi trường", "56/KH-SNNMT", "ke-hoach", "Kế hoạch phòng, chống thiên tai năm 2026", "normal", 6, "in_progress"),
    ("Trung tâm Y tế khu vực", "33/TB-TTYT", "thong-bao", "Thông báo lịch tiêm chủng mở rộng tháng này", "normal", 3, "assigned"),
    ("Công an tỉnh", "21/CAT-PV01", "cong-van", "V/v bảo đảm an ninh trật tự dịp lễ hội", "immediate", 1, "presented"),
    ("Sở Tài chính", "77/STC-NS", "huong-dan", "Hướng dẫn quyết toán ngân sách xã năm 2025", "normal", 0, "registered"),
    ("Bảo hiểm xã hội tỉnh", "140/BHXH-QLT", "cong-van", "V/v đôn đốc thu bảo hiểm y tế hộ gia đình", "normal", 20, "completed"),
]
OUTGOING = [
    # (type code, subject, body, step)
    ("ke-hoach", "Kế hoạch tổ chức Tết Trồng cây đời đời nhớ ơn Bác Hồ",
     "Thực hiện chỉ đạo của cấp trên, Ủy ban nhân dân xã xây dựng Kế hoạch tổ chức Tết Trồng cây như sau:\n"
     "I. MỤC ĐÍCH, YÊU CẦU\n1. Phát động phong trào trồng cây xanh tại các thôn, bản.\n"
     "II. NỘI DUNG\n1. Thời gian: tháng 02 năm 2026.\n2. Địa điểm: các thôn, bản trên địa bàn xã.", "draft"),
    ("cong-van", "đề nghị hỗ trợ kinh phí sửa chữa đường giao thông liên thôn",
     "Kính gửi: Ủy ban nhân dân tỉnh.\nỦy ban nhân dân xã trân trọng đề nghị hỗ trợ kinh phí sửa chữa tuyến "
     "đường liên thôn bị hư hỏng sau mưa lũ.", "in_review"),
    ("quyet-dinh", "Về việc thành lập Tổ công nghệ số cộng đồng của xã",
     "Căn cứ Luật Tổ chức chính quyền địa phương;\nĐiều 1. Thành lập Tổ công nghệ số cộng đồng của xã.\n"
     "Điều 2. Tổ có nhiệm vụ hướng dẫn người dân sử dụng dịch vụ công trực tuyến.\n"
     "Điều 3. Quyết định có hiệu lực kể từ ngày ký.", "approved"),
    ("thong-bao", "Thông báo lịch tiếp công dân của Chủ tịch Ủy ban nhân dân xã",
     "Chủ tịch Ủy ban nhân dân xã tiếp công dân vào sáng thứ Năm hằng tuần tại Trụ sở Ủy ban nhân dân xã.", "approved"),
]


def _role(officials: dict, name: str):
    for key, user in officials.items():
        if str(getattr(key, "value", key)) == name:
            return user
    return None


def _authorities(chairman, vice) -> dict:
    types = list(DocumentType.objects.filter(active=True))
    made = {}
    if chairman is not None:
        made["chairman"] = SigningAuthority.objects.filter(user=chairman).first() or _authority(
            chairman, "TM.", "CHỦ TỊCH", "", types)
    if vice is not None:
        made["vice"] = SigningAuthority.objects.filter(user=vice).first() or _authority(
            vice, "KT.", "PHÓ CHỦ TỊCH", "CHỦ TỊCH", [t for t in types if t.code != "nghi-quyet"])
    return made


def _authority(user, prefix, title, principal, types):
    authority = SigningAuthority.objects.create(
        user=user, prefix=prefix, title=title, principal_title=principal, collective="ỦY BAN NHÂN DÂN",
        valid_from=datetime.date(2025, 7, 1),
    )
    authority.document_types.set(types)
    return authority


def populate(commune, officials: dict, *, seed: int | None = None) -> dict:
    """Demo documents in ``commune``; an empty dict when it already has some."""
    clerk, chairman = _role(officials, "clerk"), _role(officials, "chairman")
    vice, specialist = _role(officials, "vice_chairman"), _role(officials, "specialist")
    if clerk is None or chairman is None or specialist is None:
        return {}
    rng = random.Random(seed if seed is not None else int(commune.code))
    with tenant_context(commune), transaction.atomic():
        if IncomingDocument.objects.exists() or OutgoingDocument.objects.exists():
            return {}
        authorities = _authorities(chairman, vice)
        province = commune.supervising_unit.name if commune.supervising_unit_id else ""
        incoming = [_incoming(spec, province, clerk, chairman, specialist, vice, rng) for spec in INCOMING]
        approved, outgoing = [], []
        for index, (code, subject, body, step) in enumerate(OUTGOING):
            authority = authorities.get("vice") if index % 2 and "vice" in authorities else authorities["chairman"]
            doc = services.save_draft(OutgoingDocument(
                doc_type=DocumentType.objects.get(code=code, active=True), subject=subject, body=body,
                recipients_text="Như trên;\nTT Đảng ủy, HĐND xã;", drafting_unit="VP" if code == "cong-van" else "",
                authority=authority, copies_count=3, archive_holder="Văn phòng",
            ), user=specialist)
            if step in ("in_review", "approved"):
                doc = services.submit(doc, user=specialist)
            if step == "approved":
                doc = services.approve(doc, user=vice or chairman, note="Đồng ý trình ký.")
                approved.append(doc.pk)
            outgoing.append(doc.pk)
        secret = services.save_draft(OutgoingDocument(
            doc_type=DocumentType.objects.get(code="bao-cao", active=True), subject="Báo cáo tình hình an ninh trên địa bàn",
            confidentiality="confidential", authority=authorities["chairman"], recipients_text="Công an tỉnh;",
        ), user=clerk)
        services.issue(secret, clerk)
        outgoing.append(secret.pk)
    return {"incoming": len(incoming), "outgoing": len(outgoing), "approved": approved}


def _incoming(spec, province, clerk, chairman, specialist, vice, rng) -> IncomingDocument:
    sender, symbol, code, subject, urgency, days_ago, step = spec
    now = timezone.now()
    arrived = now - datetime.timedelta(days=days_ago, hours=rng.randint(1, 5))
    doc = services.register_incoming(IncomingDocument(
        arrived_at=arrived, sender_org=f"{sender} {province}".strip(), original_number_symbol=symbol,
        document_date=(arrived - datetime.timedelta(days=2)).date(), doc_type=DocumentType.objects.get(code=code, active=True),
        subject=subject, urgency=urgency,
    ), user=clerk)
    if step == "registered":
        return doc
    doc = services.present(doc, user=clerk, leader_id=chairman.pk)
    if step == "presented":
        return doc
    co = [vice.pk] if vice is not None and rng.random() < 0.5 else []
    doc = services.assign(doc, user=chairman, lead_handler_id=specialist.pk, co_handler_ids=co, working_days=5,
                          instruction="Giao công chức chuyên môn tham mưu, báo cáo đúng hạn.")
    if step == "overdue":  # assigned long ago: the deadline has passed
        IncomingDocument.objects.filter(pk=doc.pk).update(
            assigned_at=arrived + datetime.timedelta(hours=20), deadline=now - datetime.timedelta(days=days_ago - 7))
        doc.refresh_from_db()
    if step in ("in_progress", "completed", "overdue"):
        doc = services.start(doc, user=specialist)
        services.add_note(doc, user=specialist, text="Đã liên hệ cơ quan gửi để thống nhất số liệu.")
    if step == "completed":
        doc = services.complete(doc, user=specialist, note="Đã báo cáo bằng văn bản.")
    return doc


def seed_demo(context) -> None:
    """The demo step (``communes.modules.DemoStep``, after the demo PKI): each commune's
    documents; the approved ones are then signed by their leader and issued by the clerk with
    the demo certificates, the signing jobs run here as a worker would run them."""
    from communes.models import Role
    from jobs.models import JobState
    from jobs.services import execute
    from signatures.models import SigningJob

    def run_signing_jobs(commune):  # so that the next step finds the signed file
        for pk in SigningJob.objects.filter(state=JobState.QUEUED).values_list("pk", flat=True):
            execute(SigningJob, pk, commune.schema_name)

    for _spec, commune in context.communes:
        officials = context.officials(commune)
        made = populate(commune, officials)
        if not made:
            continue
        with tenant_context(commune):
            for pk in made["approved"]:
                doc = OutgoingDocument.objects.get(pk=pk)
                services.sign_as_leader(doc, doc.authority.user, context.pin)
                run_signing_jobs(commune)
                doc.refresh_from_db()
                services.issue(doc, officials[Role.CLERK], context.pin)
                run_signing_jobs(commune)
            issued = OutgoingDocument.objects.filter(state="issued").exclude(issued_pdf="").count()
        context.out(f"  {commune}: {made['incoming']} incoming and {made['outgoing']} outgoing documents "
                    f"({issued} issued and signed)")
