"""Fixtures of the marketplace's tests: in Tú Lệ, an economy officer, a chairman, two producers
each with its member, a buyer; products listed (published, approved producer) with stock."""
from __future__ import annotations

import pytest

from communes.models import Role


@pytest.fixture
def people(tule, make_user):
    return {
        "officer": make_user("ocop_officer", roles={tule: [Role.ECONOMY_OFFICER]}, full_name="Lò Văn Kinh"),
        "chairman": make_user("ocop_chairman", roles={tule: [Role.CHAIRMAN]}, full_name="Hà Văn Chủ"),
        "seller": make_user("ocop_seller", roles={tule: [Role.PRODUCER]}, full_name="Lò Văn Pản"),
        "rival": make_user("ocop_rival", roles={tule: [Role.PRODUCER]}, full_name="Hà Thị Mai"),
        "clerk": make_user("ocop_clerk", roles={tule: [Role.CLERK]}, full_name="Vì Thị Văn"),
        "buyer": make_user("ocop_buyer", full_name="Hoàng Văn Nam", phone="0912345678"),
    }


@pytest.fixture
def market(tule, in_commune, people):
    """Inside Tú Lệ's schema: two approved producers (the seller's and the rival's) and a listed
    product of each."""
    from ecommerce import services
    from population.models import Village

    with in_commune(tule):
        village = Village.objects.create(name="Bản Thử Chợ")
        officer = people["officer"]
        ours = services.register_producer(people["seller"], kind="cooperative", name="HTX Nếp Thử",
                                          representative="Lò Văn Pản", phone="0912000101", address="Bản Thử Chợ",
                                          village=village, bank_bin="970405", bank_account="000004630001",
                                          bank_account_name="Tài khoản thử nghiệm")
        theirs = services.register_producer(people["rival"], kind="household_business", name="Hộ Chè Thử",
                                            representative="Hà Thị Mai", phone="0983000202", address="Bản Thử Chợ",
                                            village=village)
        for producer in (ours, theirs):
            services.approve_producer(officer, producer)
        rice = services.create_product(people["seller"], ours, stock=10, name="Gạo nếp Thử", group="1",
                                       subgroup="1.2", price="60.000", unit="kg", min_order=2,
                                       description="Gạo nếp Tan.", submit=True)
        services.approve_version(officer, rice.pending_version)
        tea = services.create_product(people["rival"], theirs, stock=5, name="Chè Thử", group="1", subgroup="1.5",
                                      price=180000, unit="hộp", description="Chè Shan tuyết.", submit=True)
        services.approve_version(officer, tea.pending_version)
        rice.refresh_from_db()
        tea.refresh_from_db()
        yield {"village": village, "ours": ours, "theirs": theirs, "rice": rice, "tea": tea, **people}
