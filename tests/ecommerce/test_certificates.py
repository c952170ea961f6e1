"""OCOP certificates that end: the stars hidden after the end (the day moved in the test), and
the 90- and 30-day warnings to the producer and the commune's economy officers, sent once each as
durable notifications, by the beat task in every commune; with a real Celery worker the SMS
reaches the (fake) gateway."""
from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from communes.models import Role
from ecommerce import certificates, selectors, services
from ecommerce.models import Certificate, Product
from notifications.models import Channel, Notification

ISSUED = datetime.date(2023, 5, 10)  # ends on 10/05/2026 (36 months)


@pytest.fixture
def certified(market, in_commune, tule):
    """The rice certified 4 stars on 10/05/2023 (valid until 10/05/2026); the officer has an
    e-mail address, a second officer only a phone."""
    officer = market["officer"]
    officer.email, officer.phone = "kinh.te@tule.example.vn", "0912000999"
    officer.save(update_fields=["email", "phone"])
    from django.contrib.auth import get_user_model

    second = get_user_model().objects.create_user("ocop_officer2", password="x", full_name="Cán bộ Hai",
                                                  phone="0987 000 111")
    from communes.models import Membership

    Membership.objects.create(user=second, commune=tule, role=Role.ECONOMY_OFFICER)
    with in_commune(tule):
        certificate = Certificate.objects.create(product=market["rice"], number="412/QĐ-UBND", score=78,
                                                 issuing_authority="UBND tỉnh Yên Bái", issued_on=ISSUED)
        yield certificate


def test_the_stars_go_at_the_end_of_the_certificate(certified, market, in_commune, tule):
    assert certified.expires_on == datetime.date(2026, 5, 10)
    rice = market["rice"]
    with in_commune(tule), translation.override("vi"):
        on_last_day = datetime.date(2026, 5, 9)
        assert selectors.stars_now(rice, on_last_day).stars == 4
        assert selectors.with_stars(Product.objects.filter(pk=rice.pk), on_last_day).get().stars_today == 4
        expired = selectors.stars_now(rice, datetime.date(2026, 5, 10))
        assert expired.stars == 0 and expired.expired
        assert expired.reason == "Giấy chứng nhận OCOP đã hết hạn ngày 10/05/2026."
        assert selectors.with_stars(Product.objects.filter(pk=rice.pk), datetime.date(2026, 5, 10)).get().stars_today == 0


def _sent(in_commune, tule):
    with in_commune(tule):
        return list(Notification.objects.order_by("pk").values("channel", "recipients", "subject", "message"))


def test_the_90_and_30_day_warnings_go_once_each_to_the_producer_and_the_officers(certified, market, in_commune,
                                                                                 tule):
    with in_commune(tule):
        assert certificates.warn_due(datetime.date(2026, 2, 8), tule) == {"30": 0, "90": 0, "notifications": 0}
        counts = certificates.warn_due(datetime.date(2026, 2, 9), tule)  # 90 days before the end
        assert counts == {"30": 0, "90": 1, "notifications": 3}
        certified.refresh_from_db()
        assert certified.warned_90_on == datetime.date(2026, 2, 9) and certified.warned_30_on is None
    sent = _sent(in_commune, tule)
    by_channel = {(n["channel"], tuple(n["recipients"])): n for n in sent}
    producer_sms = by_channel[(Channel.SMS, ("0912000101",))]["message"]
    assert "412/QĐ-UBND" in producer_sms and "10/05/2026" in producer_sms and "còn 90 ngày" in producer_sms
    assert f"http://tule.localhost/ocop/products/{market['rice'].pk}/" in producer_sms
    officer_mail = by_channel[(Channel.EMAIL, ("kinh.te@tule.example.vn",))]
    assert officer_mail["subject"] == "Giấy chứng nhận OCOP 412/QĐ-UBND hết hạn ngày 10/05/2026"
    assert "HTX Nếp Thử" in officer_mail["message"] and "4 sao" in officer_mail["message"]
    assert (Channel.SMS, ("0987000111",)) in by_channel  # the officer without an e-mail address
    with in_commune(tule):
        # Run again the same day, and the days after: nothing more until 30 days before the end.
        for day in (datetime.date(2026, 2, 9), datetime.date(2026, 3, 1), datetime.date(2026, 4, 9)):
            assert certificates.warn_due(day, tule)["notifications"] == 0
        counts = certificates.warn_due(datetime.date(2026, 4, 10), tule)
        assert counts == {"30": 1, "90": 0, "notifications": 3}
        certified.refresh_from_db()
        assert certified.warned_30_on == datetime.date(2026, 4, 10)
        assert certificates.warn_due(datetime.date(2026, 4, 11), tule)["notifications"] == 0
        # Expired: no more warnings.
        assert certificates.warn_due(datetime.date(2026, 6, 1), tule)["notifications"] == 0
    assert "còn 30 ngày" in _sent(in_commune, tule)[-3]["message"]


def test_a_certificate_recorded_late_gets_the_30_day_warning_only(market, in_commune, tule):
    with in_commune(tule):
        late = Certificate.objects.create(product=market["tea"], number="9/QĐ-UBND", score=55,
                                          issuing_authority="UBND tỉnh", issued_on=datetime.date(2023, 6, 1))
        counts = certificates.warn_due(datetime.date(2026, 5, 12), tule)  # 20 days before its end
        assert counts["30"] == 1 and counts["90"] == 0
        late.refresh_from_db()
        assert late.warned_30_on == late.warned_90_on == datetime.date(2026, 5, 12)
        assert certificates.warn_due(datetime.date(2026, 5, 13), tule)["notifications"] == 0


def test_the_beat_task_visits_every_commune_and_tells_each_its_own_officers(certified, market, in_commune, tule,
                                                                           yenhoa, make_user):
    other = make_user("ocop_officer_ym2", roles={yenhoa: [Role.ECONOMY_OFFICER]}, email="kinhte@yenmo.example.vn")
    seller = make_user("ocop_seller_ym", roles={yenhoa: [Role.PRODUCER]})
    with in_commune(yenhoa):
        from population.models import Village

        village = Village.objects.create(name="Thôn Thử")
        honey_maker = services.register_producer(seller, kind="cooperative", name="HTX Mật Ong Thử",
                                                 representative="B", phone="0912000202", address="Thôn", village=village)
        honey = services.create_product(seller, honey_maker, name="Mật ong Thử", group="1", price=200000, unit="chai",
                                        description="Mật ong hoa nhãn.")
        Certificate.objects.create(product=honey, number="5/QĐ-UBND", score=91, issuing_authority="UBND tỉnh Ninh Bình",
                                   issued_on=ISSUED)
    from ecommerce.tasks import warn_certificates

    totals = certificates.warn_all(datetime.date(2026, 2, 9))
    assert totals["90"] == 2 and totals["communes"] >= 2
    with in_commune(yenhoa):
        mails = list(Notification.objects.filter(channel=Channel.EMAIL).values_list("recipients", flat=True))
        assert mails == [[other.email]]  # Tú Lệ's officer is not told about Yên Mô's honey
    assert warn_certificates.name == "ecommerce.warn_certificates"
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["ocop-certificate-warnings"]["task"] == "ecommerce.warn_certificates"


@pytest.mark.celery
def test_a_warning_reaches_the_producers_phone_through_the_worker(worker, gateway, tule_live):
    """Committed rows, the beat task's function, a real Celery worker and the fake SMS gateway."""
    from django_tenants.utils import tenant_context

    from communes.models import User
    from ecommerce.models import Producer, ProducerMember, ProductVersion
    from population.models import Village
    from tests.jobs.helpers import wait_for

    seller = User.objects.create_user("ocop_live_seller", password="x")
    officer = User.objects.create_user("ocop_live_officer", password="x")
    from communes.models import Membership

    Membership.objects.create(user=seller, commune=tule_live, role=Role.PRODUCER)
    Membership.objects.create(user=officer, commune=tule_live, role=Role.ECONOMY_OFFICER)
    created: dict = {}
    try:
        with tenant_context(tule_live):
            created["village"] = Village.objects.create(name="Bản Thử Sống")
            producer = services.register_producer(seller, kind="cooperative", name="HTX Thử Sống",
                                                  representative="A", phone="0912555001", address="Bản",
                                                  village=created["village"])
            created["producer"] = producer
            product = services.create_product(seller, producer, name="Gạo Thử Sống", group="1", price=50000,
                                              unit="kg", description="Gạo.")
            created["product"] = product
            created["certificate"] = Certificate.objects.create(
                product=product, number="LIVE-1", score=80, issuing_authority="UBND tỉnh Thử", issued_on=ISSUED)
        totals = certificates.warn_all(datetime.date(2026, 2, 9))
        assert totals["90"] >= 1
        effects = wait_for(lambda: [(key, phone) for key, phone in gateway.effects.items() if phone == "0912555001"],
                           timeout=30, message="the warning SMS at the gateway")
        assert len(effects) == 1
        with tenant_context(tule_live):
            job = Notification.objects.filter(recipients=["0912555001"]).get()
            wait_for(lambda: Notification.objects.get(pk=job.pk).state == "succeeded", message="the job done")
            assert "LIVE-1" in job.message
            # The next morning's run sends nothing again.
            assert certificates.warn_due(datetime.date(2026, 2, 10), tule_live)["notifications"] == 0
    finally:
        with tenant_context(tule_live):
            if "certificate" in created:
                Certificate.objects.filter(pk=created["certificate"].pk).delete()
            if "product" in created:
                Product.objects.filter(pk=created["product"].pk).update(live_version=None, pending_version=None)
                ProductVersion.objects.filter(product_id=created["product"].pk).delete()
                Product.objects.filter(pk=created["product"].pk).delete()
            if "producer" in created:
                ProducerMember.objects.filter(producer_id=created["producer"].pk).delete()
                Producer.objects.filter(pk=created["producer"].pk).delete()
            if "village" in created:
                Village.objects.filter(pk=created["village"].pk).delete()
