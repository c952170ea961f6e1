"""Forms 1–6 of Circular 03/2025, the fee receipt and the result document, read back with
pdftotext: the Vietnamese words of each form and the dossier's values; the QR codes of form 1."""
from __future__ import annotations

import datetime
import io
import shutil
import subprocess
import unicodedata
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from .conftest import flat, pdftotext

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "04630-260105-0001"
ID_NUMBER = "015190001234"
APPLICANT = "Nguyễn Thị Phương Thảo"


def at(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def procedure(in_tule):
    """A certified-copy procedure of the commune's own (not the shipped catalogue's code)."""
    from onestop.models import Procedure, ProcedureStep, RequiredDocument, Sector

    sector, _ = Sector.objects.get_or_create(code="pdf-test", defaults={"name": "Chứng thực"})
    procedure = Procedure.objects.create(
        code="PDF-CT-01", version=1, valid_from=datetime.date(2025, 7, 1), sector=sector,
        name="Chứng thực bản sao từ bản chính giấy tờ, văn bản", agency="UBND cấp xã",
        time_amount=Decimal("0"), cutoff=datetime.time(15, 0),
        fee_rule={"kind": "per_page", "first_pages": 2, "first_page_amount": 2000, "next_page_amount": 1000, "cap": 200000},
        result_type="Bản sao chứng thực", result_title="Giấy xác nhận",
        result_template=(
            "Ủy ban nhân dân {commune_name} xác nhận Ông/Bà {applicant_name}, nơi cư trú {applicant_address}, "
            "có yêu cầu chứng thực {so_trang} trang giấy tờ (mã hồ sơ {code}).\n"
            "Ghi chú: {khong_co_truong}. Ngoặc nhọn: {{giữ nguyên}}."
        ),
    )
    RequiredDocument.objects.create(procedure=procedure, order=1, name="Bản chính giấy tờ, văn bản cần chứng thực",
                                    copy_kind="original")
    RequiredDocument.objects.create(procedure=procedure, order=2, name="Bản sao cần chứng thực", copy_kind="copy", count=2)
    for order, (kind, name, role, hours) in enumerate([
        ("receive", "Tiếp nhận hồ sơ", "onestop_officer", 0.5), ("process", "Xử lý, thẩm định", "specialist", 4),
        ("sign", "Ký chứng thực", "leader", 2), ("return", "Trả kết quả", "onestop_officer", 1),
    ], start=1):
        ProcedureStep.objects.create(procedure=procedure, order=order, kind=kind, name=name, role=role,
                                     duration_hours=Decimal(str(hours)))
    return procedure


@pytest.fixture
def dossier(procedure, people, tule):
    """A dossier received at the desk at 10:00 on Monday 05/01/2026, due at 17:00 the same day,
    2.000 đ to pay; its papers and its history (form 6)."""
    from onestop.models import Dossier, DossierDocument, DossierEvent

    tule.bank_bin, tule.bank_account, tule.bank_account_name = "970415", "113366668888", "UBND XA TU LE"
    officer = people["onestop_officer"]
    steps = {s.kind: s for s in procedure.steps.all()}
    dossier = Dossier.objects.create(
        code=CODE, procedure=procedure, channel="counter", state="in_progress",
        applicant_name=unicodedata.normalize("NFD", APPLICANT), applicant_id_number=ID_NUMBER,
        applicant_phone="0912345678", applicant_email="thao@example.vn", applicant_address="Bản Tú Lệ, xã Tú Lệ, tỉnh Lào Cai",
        form_data={"so_trang": "2"}, page_count=2, fee_amount=2000, received_at=at(5, 10), received_by=officer,
        due_at=at(5, 17), original_due_at=at(5, 17), current_step=steps["sign"],
    )
    DossierDocument.objects.create(dossier=dossier, requirement=procedure.requirements.get(order=1),
                                   name="Bản chính giấy tờ, văn bản cần chứng thực", provided=True, copy_kind="original")
    DossierDocument.objects.create(dossier=dossier, requirement=procedure.requirements.get(order=2),
                                   name="Bản sao cần chứng thực", provided=True, copy_kind="copy", count=2,
                                   file="onestop/x/scan.pdf", content_type="application/pdf", size=10)
    DossierDocument.objects.create(dossier=dossier, name="Giấy tờ không nộp", provided=False)
    specialist = people["specialist"]
    leader = people["chairman"]
    events = [
        dict(kind="received", at=at(5, 10), actor_name="Lường Thị Thu", to_step=steps["receive"]),
        dict(kind="handover", at=at(5, 10, 20), actor_name="Lường Thị Thu", to_user_name="Trần Văn Lâm",
             from_step=steps["receive"], to_step=steps["process"], step_due_at=at(5, 10, 30), actor=officer,
             to_user=specialist),
        dict(kind="handover", at=at(5, 15, 10), actor_name="Trần Văn Lâm", to_user_name="Lò Văn Thành",
             from_step=steps["process"], to_step=steps["sign"], step_due_at=at(5, 14, 30), actor=specialist,
             to_user=leader, note="Chờ đối chiếu bản chính"),
        dict(kind="handover", at=at(5, 16, 30), actor_name="Lò Văn Thành", to_user_name="Lường Thị Thu",
             from_step=steps["sign"], to_step=steps["return"], step_due_at=at(6, 9, 0), actor=leader, to_user=officer),
    ]
    for event in events:
        DossierEvent.objects.create(dossier=dossier, **event)
    return dossier


def pdf_images(data: bytes, tmp_path) -> list:
    """The images of a PDF (pdfimages), as PIL images in grey levels."""
    from PIL import Image

    out = tmp_path / "img"
    out.mkdir(exist_ok=True)
    subprocess.run(["pdfimages", "-png", "-", str(out / "i")], input=data, check=True, capture_output=True)
    return [Image.open(path).convert("L") for path in sorted(out.glob("i-*.png"))]


def page_count(data: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(info.split("Pages:")[1].split()[0])


def same_image(a, b) -> bool:
    return a.size == b.size and a.tobytes() == b.tobytes()


def png_image(png: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("L")


def test_form_1_receipt_and_appointment(dossier, people, tmp_path):
    from onestop import links, pdf, vietqr

    data = pdf.render_form("1", dossier, officer=people["onestop_officer"])
    assert data.startswith(b"%PDF-")
    text = pdftotext(data)
    assert unicodedata.is_normalized("NFC", text)
    single = flat(text)
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "UBND XÃ TÚ LỆ", "BỘ PHẬN MỘT CỬA",
        "Mẫu số 01", "Tú Lệ, ngày 05 tháng 01 năm 2026", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        f"Mã hồ sơ: {CODE}", f"Ông/Bà: {APPLICANT}", "Số định danh cá nhân: ********1234",
        "Bản Tú Lệ, xã Tú Lệ, tỉnh Lào Cai", "Số điện thoại: 0912345678",
        "Nội dung yêu cầu giải quyết: Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        "Bản chính giấy tờ, văn bản cần chứng thực", "Bản sao cần chứng thực", "Bản sao (kèm 1 tệp điện tử)",
        "2. Số lượng hồ sơ: 01 bộ",
        "Trong ngày làm việc (hồ sơ nhận sau 15:00 được tính từ ngày làm việc tiếp theo)",
        "4. Thời gian nhận hồ sơ: 10:00 ngày 05/01/2026",
        "5. Thời gian trả kết quả giải quyết hồ sơ: 17:00 ngày 05/01/2026",
        "6. Đăng ký nhận kết quả tại: Bộ phận Một cửa Ủy ban nhân dân xã Tú Lệ",
        "7. Phí, lệ phí: 2.000 đ (chưa nộp)",
        "Tra cứu tình trạng hồ sơ", "Đánh giá mức độ hài lòng", "Nộp phí, lệ phí qua VietQR", "Số tiền: 2.000 đ",
        "Tài khoản: 113366668888", "NGƯỜI NỘP HỒ SƠ", "NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)", "Lường Thị Thu",
    ]:
        assert expected in single, expected
    assert ID_NUMBER not in single
    assert "Giấy tờ không nộp" not in single  # only the papers provided are listed
    status_url = links.status_url(dossier)
    assert status_url == f"http://tule.localhost/lookup/?code={CODE}"
    assert f"Địa chỉ tra cứu: {status_url}" in single
    assert f"Địa chỉ đánh giá: {links.rating_url(dossier)}" in single

    # Three images: the status QR, the rating QR, the VietQR of the fee — each the exact code
    # of its text (the same pixels as the QR made from that text).
    images = pdf_images(data, tmp_path)
    assert len(images) == 3
    payload = pdf.vietqr_payload(dossier, dossier_commune())
    parsed = vietqr.parse_payload(payload)
    assert parsed["54"] == "2000" and parsed["38"]["01"] == {"00": "970415", "01": "113366668888"}
    assert CODE.replace("-", "") in parsed["62"]["08"].replace("-", "")
    expected_images = [png_image(pdf.qr_png(status_url)), png_image(pdf.qr_png(links.rating_url(dossier))),
                       png_image(vietqr.qr_png(payload))]
    for image, wanted in zip(images, expected_images):
        assert same_image(image, wanted)
    assert shutil.which("zbarimg"), "zbarimg is missing: bin/test installs Debian's zbar-tools"
    path = tmp_path / "status.png"
    images[0].save(path)
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True).stdout.strip()
    assert decoded == status_url


def dossier_commune():
    from communes.permissions import current_commune

    return current_commune()


def test_form_1_without_a_fee_due_has_no_vietqr(dossier, tmp_path):
    from onestop import pdf

    dossier.fee_paid_at = at(5, 10, 5)
    data = pdf.render_form("1", dossier)
    single = flat(pdftotext(data))
    assert "7. Phí, lệ phí: 2.000 đ (đã nộp lúc 10:05 ngày 05/01/2026)" in single
    assert "VietQR" not in single
    assert "Lường Thị Thu" in single  # the receiving officer by default
    assert len(pdf_images(data, tmp_path)) == 2

    dossier.fee_paid_at, dossier.fee_amount, dossier.delivery = None, 0, "post"
    single = flat(pdftotext(pdf.render_form("1", dossier)))
    assert "7. Phí, lệ phí: Không thu" in single
    assert "6. Đăng ký nhận kết quả tại: Qua dịch vụ bưu chính: Bản Tú Lệ, xã Tú Lệ, tỉnh Lào Cai" in single


def test_form_2_supplement_request(dossier, people):
    from onestop import pdf
    from onestop.models import SupplementPause

    SupplementPause.objects.create(dossier=dossier, started_at=at(5, 14), items=["Bản sao sổ hộ khẩu"],
                                   reason="Bản sao mờ, không đọc được")
    single = flat(pdftotext(pdf.render_form("2", dossier, officer=people["specialist"])))
    for expected in ["PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "Mẫu số 02", f"Mã hồ sơ: {CODE}", f"Hồ sơ của: {APPLICANT}",
                     "Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau:", "1. Bản sao sổ hộ khẩu",
                     "Lý do: Bản sao mờ, không đọc được", "tạm dừng từ 14:00 ngày 05/01/2026",
                     "Ngày nộp hồ sơ: 05/01/2026", "NGƯỜI HƯỚNG DẪN", "Trần Văn Lâm",
                     "Tú Lệ, ngày 05 tháng 01 năm 2026"]:  # the day the supplement was asked for
        assert expected in single, expected

    # Before receipt (form 2 at the desk): no code yet, the items given by the caller.
    dossier.code, dossier.state, dossier.received_at = None, "incomplete", None
    dossier.submitted_at = at(4, 9, month=1)
    single = flat(pdftotext(pdf.render_form("2", dossier, officer=people["onestop_officer"],
                                            extra={"items": ["Tờ khai có chữ ký", "Bản chính giấy khai sinh"],
                                                   "reason": "Thiếu giấy tờ theo quy định"})))
    assert "Mã hồ sơ" not in single
    assert "1. Tờ khai có chữ ký" in single and "2. Bản chính giấy khai sinh" in single
    assert "Lý do: Thiếu giấy tờ theo quy định" in single and "Ngày nộp hồ sơ: 04/01/2026" in single
    assert "Lường Thị Thu" in single


def test_form_3_refusal(dossier, people):
    from onestop import pdf

    dossier.code, dossier.state = None, "refused"
    dossier.closed_reason = "Yêu cầu không thuộc thẩm quyền giải quyết của Ủy ban nhân dân xã"
    single = flat(pdftotext(pdf.render_form("3", dossier, officer=people["onestop_officer"])))
    for expected in ["PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", "Mẫu số 03", f"Ông/Bà: {APPLICANT}",
                     "không đủ điều kiện tiếp nhận, giải quyết", dossier.closed_reason,
                     "NGƯỜI TIẾP NHẬN HỒ SƠ", "Lường Thị Thu"]:
        assert expected in single, expected
    assert ID_NUMBER not in single and "********1234" not in single  # no ID number at all


def test_form_4_apology_and_new_date(dossier, people):
    from onestop import pdf

    single = flat(pdftotext(pdf.render_form(
        "4", dossier, officer=people["chairman"],
        extra={"new_due_at": at(7, 17), "reason": "Cần xác minh thêm thông tin với cơ quan khác",
               "issued_on": datetime.date(2026, 1, 5)})))
    for expected in ["PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "Mẫu số 04", f"Kính gửi: Ông/Bà {APPLICANT}",
                     f"mã hồ sơ {CODE}", "Ngày 05/01/2026",
                     "Thời gian hẹn trả kết quả giải quyết hồ sơ: 17:00 ngày 05/01/2026",
                     "Lý do: Cần xác minh thêm thông tin với cơ quan khác",
                     "xin lỗi Ông/Bà và sẽ trả kết quả giải quyết hồ sơ cho Ông/Bà vào 17:00 ngày 07/01/2026",
                     "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH", "Lò Văn Thành", "Tú Lệ, ngày 05 tháng 01 năm 2026"]:
        assert expected in single, expected


def test_form_4_takes_the_recorded_extension(dossier, people):
    from onestop import pdf
    from onestop.models import Extension

    Extension.objects.create(dossier=dossier, new_due_at=at(8, 11, 30), reason="Hệ thống mất điện",
                             created_at=at(5, 16))
    dossier.extended_due_at = at(8, 11, 30)
    single = flat(pdftotext(pdf.render_form("4", dossier, officer=people["vice_chairman"])))
    assert "vào 11:30 ngày 08/01/2026" in single and "Lý do: Hệ thống mất điện" in single
    assert "KT. CHỦ TỊCH PHÓ CHỦ TỊCH" in single and "Nguyễn Thị Hoa" in single


def test_form_5_stop_notice(dossier, people):
    from onestop import pdf

    dossier.state = "stopped"
    dossier.closed_reason = "Người yêu cầu rút hồ sơ bằng văn bản"
    single = flat(pdftotext(pdf.render_form("5", dossier, officer=people["onestop_officer"])))
    for expected in ["THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ", "Mẫu số 05", f"mã hồ sơ {CODE}",
                     "thông báo dừng giải quyết hồ sơ nêu trên", "Lý do: Người yêu cầu rút hồ sơ bằng văn bản",
                     "Lường Thị Thu"]:
        assert expected in single, expected


def test_form_6_control_sheet_lists_every_hand_over(dossier):
    from onestop import pdf

    lines = pdf.control_lines(dossier)
    assert [line["class"] for line in lines] == [None, "on_time", "late", "early"]
    text = pdftotext(pdf.render_form("6", dossier))
    single = flat(text)
    for expected in ["PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", "Mẫu số 06", f"(Kèm theo hồ sơ của: {APPLICANT})",
                     f"Mã hồ sơ: {CODE}", "Thời gian nhận hồ sơ: 10:00 ngày 05/01/2026",
                     "Thời gian hẹn trả kết quả: 17:00 ngày 05/01/2026", "Hạn của bước",
                     "Tiếp nhận hồ sơ", "Giao: Trần Văn Lâm", "Nhận: Lò Văn Thành", "Ghi chú: Chờ đối chiếu bản chính"]:
        assert expected in single, expected
    # Each hand-over on its line: when, the step's due time, and on time / late / early.
    rows = [flat(line) for line in text.splitlines()]
    assert any("05/01/2026 10:20" in r and "05/01/2026 10:30" in r and "Đúng hạn" in r for r in rows)
    assert any("05/01/2026 15:10" in r and "05/01/2026 14:30" in r and "Quá hạn" in r for r in rows)
    assert any("05/01/2026 16:30" in r and "06/01/2026 09:00" in r and "Trước hạn" in r for r in rows)
    assert "Xử lý, thẩm định" in single and "Ký chứng thực" in single


def test_fee_receipt(dossier, people):
    from onestop import pdf
    from onestop.models import Payment

    with pytest.raises(ValidationError) as exc:
        pdf.render_form("fee", dossier)
    assert "payment" in exc.value.message_dict

    Payment.objects.create(dossier=dossier, amount=2000, method="vietqr", reference="FT26005123456",
                           received_at=at(5, 10, 15), recorded_by=people["onestop_officer"], receipt_number="0000123")
    single = flat(pdftotext(pdf.render_form("fee", dossier)))
    for expected in ["BIÊN LAI THU PHÍ, LỆ PHÍ", "Số: 0000123", f"Mã hồ sơ: {CODE}", f"Họ và tên người nộp: {APPLICANT}",
                     "Số tiền: 2.000 đ", "Viết bằng chữ: Hai nghìn đồng", "Chuyển khoản (VietQR)",
                     "Mã giao dịch: FT26005123456", "Thời gian nộp: 10:15 ngày 05/01/2026", "NGƯỜI NỘP TIỀN",
                     "NGƯỜI THU TIỀN", "Lường Thị Thu", "Tú Lệ, ngày 05 tháng 01 năm 2026"]:
        assert expected in single, expected


@pytest.mark.parametrize("amount, words", [
    (2000, "Hai nghìn đồng"), (15000, "Mười lăm nghìn đồng"), (120000, "Một trăm hai mươi nghìn đồng"),
    (200000, "Hai trăm nghìn đồng"), (1005000, "Một triệu không trăm linh năm nghìn đồng"),
    (21000, "Hai mươi mốt nghìn đồng"), (0, "Không đồng"),
])
def test_amount_in_words(amount, words):
    from onestop.pdf import amount_in_words

    assert amount_in_words(amount) == words


def test_long_names_and_lists_wrap_over_pages(dossier, people):
    from onestop import pdf
    from onestop.models import DossierEvent

    long_name = "Nguyễn Thị " + "Phương " * 26 + "Thảo"  # 197 characters, the field holds 200
    dossier.applicant_name = long_name
    dossier.applicant_address = "Thôn Bản Lè, " * 23  # 299 characters, the field holds 300
    items = [f"Giấy tờ bổ sung số {n}: bản sao có chứng thực của giấy tờ liên quan" for n in range(1, 121)]
    data = pdf.render_form("2", dossier, officer=people["onestop_officer"],
                           extra={"items": items, "reason": "Lý do rất dài. " * 600})
    text = flat(pdftotext(data))
    assert "120. Giấy tờ bổ sung số 120" in text and "Phương Phương" in text
    assert page_count(data) >= 3

    steps = list(dossier.procedure.steps.all())
    for n in range(90):
        DossierEvent.objects.create(dossier=dossier, kind="handover", at=at(6, 8) + datetime.timedelta(minutes=n),
                                    actor_name="Trần Văn Lâm", to_user_name="Lò Văn Thành", from_step=steps[1],
                                    to_step=steps[2], step_due_at=at(6, 10), note="Ghi chú dài " * 300)
    data = pdf.render_form("6", dossier)
    text = pdftotext(data)
    assert page_count(data) >= 3
    assert text.count("STT") == page_count(data)  # the heading row on every page
    assert len(pdf.control_lines(dossier)) == 94 and "06/01/2026 09:29" in text  # the last line
    assert "…" in text  # an over-long note is cut to fit on a page
    # The other forms with the long name and address still render.
    for kind in ("1", "3", "4", "5"):
        assert long_name.split()[-1] in flat(pdftotext(pdf.render_form(kind, dossier)))


def test_text_is_not_markup(dossier):
    from onestop import pdf

    dossier.applicant_name = "Lê <b>Văn</b> & Tèo <br/>"
    single = flat(pdftotext(pdf.render_form("3", dossier, extra={"reason": "Sai <font size=40>mẫu</font> & thiếu"})))
    assert "Lê <b>Văn</b> & Tèo <br/>" in single
    assert "Sai <font size=40>mẫu</font> & thiếu" in single


def test_unknown_form_is_refused(dossier):
    from onestop import pdf

    with pytest.raises(ValueError):
        pdf.render_form("9", dossier)


def test_result_document_from_the_procedure_template(dossier):
    from onestop import pdf

    dossier.result_number = "15/GXN-UBND"
    rendered = pdf.render_result(dossier, signer_name="Lò Văn Thành", signer_title_lines=["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"],
                                 issued_on=datetime.date(2026, 1, 5))
    text = pdftotext(rendered.pdf)
    assert unicodedata.is_normalized("NFC", text)
    single = flat(text)
    for expected in [
        "ỦY BAN NHÂN DÂN", "XÃ TÚ LỆ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "GIẤY XÁC NHẬN",
        f"Ủy ban nhân dân xã Tú Lệ xác nhận Ông/Bà {APPLICANT}, nơi cư trú Bản Tú Lệ, xã Tú Lệ, tỉnh Lào Cai, "
        f"có yêu cầu chứng thực 2 trang giấy tờ (mã hồ sơ {CODE}).",
        "Ghi chú: …. Ngoặc nhọn: {giữ nguyên}.",
        "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lò Văn Thành", "Nơi nhận:", f"Ông/Bà {APPLICANT};",
        "Số: 15/GXN-UBND", "Tú Lệ, ngày 05 tháng 01 năm 2026",
    ]:
        assert expected in single, expected
    assert {"signature", "seal", "number", "date"} <= set(rendered.layout)
    assert rendered.pages == 1


def test_result_document_invites_the_rating_by_link_and_qr(dossier, tmp_path):
    """The paper result carries the rating page's address and its QR code, below the text."""
    from onestop import links, pdf

    rendered = pdf.render_result(dossier, signer_name="Lò Văn Thành", signer_title_lines=["CHỦ TỊCH"])
    single = flat(pdftotext(rendered.pdf))
    url = links.rating_url(dossier)
    assert "đánh giá mức độ hài lòng" in single and url in single
    images = pdf_images(rendered.pdf, tmp_path)
    assert len(images) == 1 and same_image(images[0], png_image(pdf.qr_png(url)))


def test_result_template_cannot_reach_attributes(dossier):
    from onestop import pdf

    dossier.procedure.result_template = "A {applicant_name.__class__} B {code[0]} C {applicant_name!r} D {code:>30} E {"
    assert pdf.fill_template(dossier.procedure.result_template, {"applicant_name": "X", "code": "Y"}) == \
        dossier.procedure.result_template  # unbalanced: printed as written
    assert pdf.fill_template("A {applicant_name.__class__} B {code[0]} C {applicant_name!r} D {code:>30}",
                             {"applicant_name": "X", "code": "Y"}) == "A … B … C X D Y"
    dossier.result_number = "05/GXN ☃"
    with pytest.raises(ValidationError) as exc:
        pdf.render_result(dossier, signer_name="Lò Văn Thành", signer_title_lines=["CHỦ TỊCH"])
    assert "result_number" in exc.value.message_dict
    dossier.result_number = ""
    single = flat(pdftotext(pdf.render_result(dossier, signer_name="Lò Văn Thành", signer_title_lines=["CHỦ TỊCH"]).pdf))
    assert "Số:" not in single


def test_links_follow_the_public_settings(dossier, settings):
    from onestop import links

    settings.XASO_PUBLIC_SCHEME, settings.XASO_PUBLIC_PORT = "https", "8443"
    assert links.base_url() == "https://tule.localhost:8443"
    assert links.status_url(dossier) == f"https://tule.localhost:8443/lookup/?code={CODE}"
    assert links.rating_url(dossier) == f"https://tule.localhost:8443/rate/{dossier.rating_token}/"
    assert links.result_url(dossier) == f"https://tule.localhost:8443/my/dossiers/{dossier.pk}/"
    settings.XASO_PUBLIC_PORT = "443"
    assert links.base_url() == "https://tule.localhost"


def test_every_standard_placeholder_of_the_catalogue_is_filled(dossier):
    """The catalogue allows result templates to use STANDARD_PLACEHOLDERS: each one gets a value,
    so a shipped template never prints "…" for them (the certified copy's "Số bản sao", say)."""
    from onestop import pdf
    from onestop.catalogue import STANDARD_PLACEHOLDERS

    dossier.result_number = "15/GXN-UBND"
    dossier.copy_count = 3
    values = pdf.result_fields(dossier)
    assert STANDARD_PLACEHOLDERS <= set(values), STANDARD_PLACEHOLDERS - set(values)
    assert values["page_count"] == "2" and values["copy_count"] == "3"
    assert pdf.fill_template("{page_count} trang, {copy_count} bản", values) == "2 trang, 3 bản"
