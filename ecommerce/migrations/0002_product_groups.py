"""The OCOP product groups and their sub-groups (the six groups of the 2018–2023 programme,
kept by Decision 148/QĐ-TTg of 2023; the sub-groups are the usual ones of the provinces'
assessment guides [unconfirmed]). Data: the commune administrator may rename, reorder or stop
offering a group in the admin; a later change of the programme is a later migration."""
from django.db import migrations

GROUPS = [
    ("1", "Thực phẩm", "Food", [
        ("1.1", "Nông sản tươi sống", "Fresh produce"),
        ("1.2", "Nông sản sơ chế (gạo, ngũ cốc, hạt)", "Primary processed produce (rice, grains, nuts)"),
        ("1.3", "Thực phẩm chế biến", "Processed food"),
        ("1.4", "Gia vị", "Spices and condiments"),
        ("1.5", "Chè và sản phẩm từ chè", "Tea and tea products"),
        ("1.6", "Mật ong và sản phẩm từ mật ong", "Honey and honey products"),
    ]),
    ("2", "Đồ uống", "Beverages", [
        ("2.1", "Đồ uống có cồn", "Alcoholic beverages"),
        ("2.2", "Đồ uống không cồn", "Non-alcoholic beverages"),
    ]),
    ("3", "Thảo dược", "Herbal products", [
        ("3.1", "Thực phẩm chức năng, thuốc từ dược liệu", "Herbal supplements and medicines"),
        ("3.2", "Mỹ phẩm từ thảo dược", "Herbal cosmetics"),
        ("3.3", "Tinh dầu và thảo dược khác", "Essential oils and other herbs"),
    ]),
    ("4", "Vải và may mặc", "Textiles and garments", [
        ("4.1", "Vải, thổ cẩm", "Fabrics and brocade"),
        ("4.2", "Sản phẩm may mặc", "Garments"),
    ]),
    ("5", "Lưu niệm, nội thất, trang trí", "Handicrafts and souvenirs", [
        ("5.1", "Thủ công mỹ nghệ (mây tre đan, gốm, cói)", "Handicrafts (rattan and bamboo, pottery, sedge)"),
        ("5.2", "Đồ gỗ, nội thất", "Wooden goods and furniture"),
        ("5.3", "Đồ lưu niệm, trang trí", "Souvenirs and decoration"),
    ]),
    ("6", "Dịch vụ du lịch cộng đồng, du lịch nông thôn", "Community and rural tourism services", [
        ("6.1", "Dịch vụ du lịch cộng đồng, homestay", "Community tourism and homestays"),
        ("6.2", "Điểm du lịch nông thôn", "Rural tourist sites"),
    ]),
]


def load(apps, schema_editor):
    ProductGroup = apps.get_model("ecommerce", "ProductGroup")
    ProductSubGroup = apps.get_model("ecommerce", "ProductSubGroup")
    for order, (code, name, name_en, subgroups) in enumerate(GROUPS, start=1):
        group, _ = ProductGroup.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "order": order})
        for sub_order, (sub_code, sub_name, sub_name_en) in enumerate(subgroups, start=1):
            ProductSubGroup.objects.update_or_create(
                code=sub_code, defaults={"group": group, "name": sub_name, "name_en": sub_name_en, "order": sub_order})


def unload(apps, schema_editor):
    codes = [code for code, *_ in GROUPS]
    apps.get_model("ecommerce", "ProductSubGroup").objects.filter(group__code__in=codes).delete()
    apps.get_model("ecommerce", "ProductGroup").objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("ecommerce", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
