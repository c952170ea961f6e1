"""How the announcer reads abbreviations and units: the default list, and the commune's list.

The list is data per commune (``broadcasting.models.Pronunciation``): the defaults below are
loaded into a commune by ``load_default_pronunciations`` (from a data migration, or on demand),
and the radio operator edits them. An editor's reading of a word wins over every rule of the
normaliser (``broadcasting.speech.normalize``).

A commune whose list is empty is read with the defaults (``commune_pronunciations``).
"""
from __future__ import annotations

# (written, spoken, case_sensitive, note)
DEFAULT_PRONUNCIATIONS: list[tuple[str, str, bool, str]] = [
    # the commune's institutions
    ("UBND", "ủy ban nhân dân", True, ""),
    ("HĐND", "hội đồng nhân dân", True, ""),
    ("UBMTTQ", "ủy ban mặt trận tổ quốc", True, ""),
    ("UBMTTQVN", "ủy ban mặt trận tổ quốc việt nam", True, ""),
    ("MTTQ", "mặt trận tổ quốc", True, ""),
    ("MTTQVN", "mặt trận tổ quốc việt nam", True, ""),
    ("ĐTN", "đoàn thanh niên", True, ""),
    ("TNCS", "thanh niên cộng sản", True, ""),
    ("HLHPN", "hội liên hiệp phụ nữ", True, ""),
    ("HND", "hội nông dân", True, ""),
    ("HCCB", "hội cựu chiến binh", True, ""),
    ("CCB", "cựu chiến binh", True, ""),
    ("HTX", "hợp tác xã", True, ""),
    ("BCH", "ban chấp hành", True, ""),
    ("BCĐ", "ban chỉ đạo", True, ""),
    ("BQL", "ban quản lý", True, ""),
    ("ĐBQH", "đại biểu quốc hội", True, ""),
    ("TW", "trung ương", True, ""),
    ("TP", "thành phố", True, ""),
    ("Tp.", "thành phố", False, ""),
    ("TX", "thị xã", True, ""),
    ("VN", "việt nam", True, ""),
    ("TTYT", "trung tâm y tế", True, ""),
    ("TYT", "trạm y tế", True, ""),
    # documents and procedures
    ("TTHC", "thủ tục hành chính", True, ""),
    ("NĐ-CP", "nghị định của chính phủ", True, ""),
    ("QĐ-TTg", "quyết định của thủ tướng chính phủ", True, ""),
    ("QĐ", "quyết định", True, ""),
    ("NĐ", "nghị định", True, ""),
    ("NQ", "nghị quyết", True, ""),
    ("CCCD", "căn cước công dân", True, ""),
    ("CMND", "chứng minh nhân dân", True, ""),
    ("BHYT", "bảo hiểm y tế", True, ""),
    ("BHXH", "bảo hiểm xã hội", True, ""),
    ("BHTN", "bảo hiểm thất nghiệp", True, ""),
    ("SĐT", "số điện thoại", True, ""),
    ("V/v", "về việc", False, ""),
    ("đ/c", "đồng chí", False, ""),
    # schools
    ("THCS", "trung học cơ sở", True, ""),
    ("THPT", "trung học phổ thông", True, ""),
    ("GDTX", "giáo dục thường xuyên", True, ""),
    ("GD&ĐT", "giáo dục và đào tạo", True, ""),
    ("HSSV", "học sinh sinh viên", True, ""),
    # safety, programmes
    ("ATTP", "an toàn thực phẩm", True, ""),
    ("VSATTP", "vệ sinh an toàn thực phẩm", True, ""),
    ("ATGT", "an toàn giao thông", True, ""),
    ("CSGT", "cảnh sát giao thông", True, ""),
    ("PCCC", "phòng cháy chữa cháy", True, ""),
    ("PCCCR", "phòng cháy chữa cháy rừng", True, ""),
    ("PCTT", "phòng chống thiên tai", True, ""),
    ("TKCN", "tìm kiếm cứu nạn", True, ""),
    ("ANTT", "an ninh trật tự", True, ""),
    ("ANQP", "an ninh quốc phòng", True, ""),
    ("KT-XH", "kinh tế xã hội", True, ""),
    ("NTM", "nông thôn mới", True, ""),
    ("GPMB", "giải phóng mặt bằng", True, ""),
    ("CNTT", "công nghệ thông tin", True, ""),
    ("COVID-19", "cô vít mười chín", False, ""),
    ("COVID", "cô vít", False, ""),
    # money
    ("VNĐ", "đồng", True, ""),
    ("USD", "đô la mỹ", True, ""),
    # units (after a number; the normaliser also knows the common units)
    ("km", "ki lô mét", True, ""),
    ("km2", "ki lô mét vuông", True, ""),
    ("km²", "ki lô mét vuông", True, ""),
    ("km/h", "ki lô mét trên giờ", True, ""),
    ("kg", "ki lô gam", True, ""),
    ("ha", "héc ta", True, ""),
    ("m2", "mét vuông", True, ""),
    ("m²", "mét vuông", True, ""),
    ("m3", "mét khối", True, ""),
    ("m³", "mét khối", True, ""),
    ("cm", "xen ti mét", True, ""),
    ("mm", "mi li mét", True, ""),
    ("°C", "độ xê", True, ""),
]


def default_pronunciations() -> tuple[dict[str, str], set[str]]:
    """The default list as ``normalize`` takes it: (written → spoken, case-insensitive keys)."""
    mapping = {written: spoken for written, spoken, _cs, _note in DEFAULT_PRONUNCIATIONS}
    insensitive = {written for written, _spoken, case_sensitive, _note in DEFAULT_PRONUNCIATIONS if not case_sensitive}
    return mapping, insensitive


def load_default_pronunciations(Pronunciation) -> int:
    """Add the default entries a commune does not have yet (its own readings are kept).

    ``Pronunciation`` is the model class, so a data migration can pass
    ``apps.get_model("broadcasting", "Pronunciation")``. Returns how many rows were added.
    """
    existing = set(Pronunciation.objects.values_list("written", flat=True))
    rows = [
        Pronunciation(written=written, spoken=spoken, case_sensitive=case_sensitive, note=note)
        for written, spoken, case_sensitive, note in DEFAULT_PRONUNCIATIONS
        if written not in existing
    ]
    Pronunciation.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def commune_pronunciations() -> tuple[dict[str, str], set[str]]:
    """The current commune's list (the defaults when the list is empty)."""
    from broadcasting.models import Pronunciation

    rows = list(Pronunciation.objects.values_list("written", "spoken", "case_sensitive"))
    if not rows:
        return default_pronunciations()
    mapping = {written: spoken for written, spoken, _cs in rows}
    insensitive = {written for written, _spoken, case_sensitive in rows if not case_sensitive}
    return mapping, insensitive
