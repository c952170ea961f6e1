"""The catalogue of document types and abbreviations of Decree 30/2020/NĐ-CP (Article 7 and
Appendix III), in force from 5 March 2020. Names and abbreviations are the decree's words."""
import datetime

from django.db import migrations

VERSION = "30/2020/NĐ-CP"
VALID_FROM = datetime.date(2020, 3, 5)

# (code, name, abbreviation, kind)
TYPES = [
    ("nghi-quyet", "Nghị quyết", "NQ", "administrative"),
    ("quyet-dinh", "Quyết định", "QĐ", "administrative"),
    ("chi-thi", "Chỉ thị", "CT", "administrative"),
    ("quy-che", "Quy chế", "QC", "administrative"),
    ("quy-dinh", "Quy định", "QyĐ", "administrative"),
    ("thong-cao", "Thông cáo", "TC", "administrative"),
    ("thong-bao", "Thông báo", "TB", "administrative"),
    ("huong-dan", "Hướng dẫn", "HD", "administrative"),
    ("chuong-trinh", "Chương trình", "CTr", "administrative"),
    ("ke-hoach", "Kế hoạch", "KH", "administrative"),
    ("phuong-an", "Phương án", "PA", "administrative"),
    ("de-an", "Đề án", "ĐA", "administrative"),
    ("du-an", "Dự án", "DA", "administrative"),
    ("bao-cao", "Báo cáo", "BC", "administrative"),
    ("bien-ban", "Biên bản", "BB", "administrative"),
    ("to-trinh", "Tờ trình", "TTr", "administrative"),
    ("hop-dong", "Hợp đồng", "HĐ", "administrative"),
    ("cong-dien", "Công điện", "CĐ", "administrative"),
    ("ban-ghi-nho", "Bản ghi nhớ", "BGN", "administrative"),
    ("ban-thoa-thuan", "Bản thỏa thuận", "BTT", "administrative"),
    ("giay-uy-quyen", "Giấy ủy quyền", "GUQ", "administrative"),
    ("giay-moi", "Giấy mời", "GM", "administrative"),
    ("giay-gioi-thieu", "Giấy giới thiệu", "GGT", "administrative"),
    ("giay-nghi-phep", "Giấy nghỉ phép", "GNP", "administrative"),
    ("phieu-gui", "Phiếu gửi", "PG", "administrative"),
    ("phieu-chuyen", "Phiếu chuyển", "PC", "administrative"),
    ("phieu-bao", "Phiếu báo", "PB", "administrative"),
    ("cong-van", "Công văn", "", "official_letter"),
    ("sao-y", "Bản sao y", "SY", "copy"),
    ("trich-sao", "Bản trích sao", "TrS", "copy"),
    ("sao-luc", "Bản sao lục", "SL", "copy"),
]


def load(apps, schema_editor):
    DocumentType = apps.get_model("documents", "DocumentType")
    for code, name, abbreviation, kind in TYPES:
        DocumentType.objects.update_or_create(
            code=code, version=VERSION,
            defaults={"name": name, "abbreviation": abbreviation, "kind": kind, "valid_from": VALID_FROM, "active": True},
        )


def unload(apps, schema_editor):
    apps.get_model("documents", "DocumentType").objects.filter(version=VERSION, code__in=[t[0] for t in TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
