"""The radio's demo data: Tú Lệ gets the pilot's 12 clusters in 9 villages, a week of approved
bulletins whose audio the real engine rendered, heartbeats that leave some clusters offline, the
as-run log of the past days; other communes get fewer; a second run changes nothing."""
from __future__ import annotations

import datetime

from django.core.files.storage import default_storage
from django.utils import timezone
from django_tenants.utils import tenant_context

from communes.models import Role


def test_demo_gives_tule_the_pilots_radio(tule, people, espeak):
    from broadcasting import demo, scheduler
    from broadcasting.models import (
        AsRunEntry, AudioAsset, Bulletin, BulletinState, Cluster, Heartbeat, Playlist, Slot,
    )
    from broadcasting.speech.audio import decode

    made = demo.populate(tule, people, seed=4630)
    assert made["clusters"] == 12 and made["villages"] == 9 and made["speakers"] == 24
    with tenant_context(tule):
        clusters = list(Cluster.objects.all())
        assert len(clusters) == 12 and len({c.village_id for c in clusters}) == 9
        assert all(c.latitude is not None and c.token_hash for c in clusters)
        assert [(s.start, s.end) for s in Slot.objects.order_by("start")] == [
            (datetime.time(5, 0), datetime.time(7, 30)), (datetime.time(17, 0), datetime.time(19, 0))]
        # Some clusters fell silent: offline; the others reported minutes ago.
        offline = [c for c in clusters if scheduler.is_offline(c)]
        assert 2 <= len(offline) <= 3
        assert Heartbeat.objects.filter(cluster__in=offline).exists()
        # A week of approved bulletins, each with its MP3 rendered by the real engine.
        approved = list(Bulletin.objects.filter(state=BulletinState.APPROVED).select_related("asset"))
        assert len(approved) >= 5
        today = timezone.localdate()
        for offset in range(-6, 7):
            day = today + datetime.timedelta(days=offset)
            assert any(b.valid_from <= day <= b.valid_until for b in approved), day
        for bulletin in approved:
            asset = bulletin.asset
            assert asset.ready and asset.duration_seconds > 1 and bulletin.normalized_text
            assert abs(float(asset.loudness_lufs) + 16) <= 1
        samples, rate = decode(default_storage.open(approved[0].asset.file).read())
        assert len(samples) / rate > 1
        assert Bulletin.objects.filter(state=BulletinState.SUBMITTED).count() == 1
        assert Bulletin.objects.filter(state=BulletinState.DRAFT).count() == 1
        # The audio is never rendered twice: one asset per text.
        assert AudioAsset.objects.count() == Bulletin.objects.count()
        # The as-run log of the past days, for the clusters while they were alive.
        assert made["as_run"] == AsRunEntry.objects.count() > 0
        assert AsRunEntry.objects.filter(started_at__date__lt=today).values("started_at__date").distinct().count() >= 5
        for cluster in offline:
            assert not AsRunEntry.objects.filter(cluster=cluster, started_at__gt=cluster.last_heartbeat_at).exists()
        # Whatever the hour of the run: a cluster that fell silent half a minute into yesterday's
        # morning window played what started before that moment and nothing after it.
        import random

        from broadcasting import services

        starts_at = services.slots_for_day(today - datetime.timedelta(days=1))[0][0]
        quiet = offline[0]
        AsRunEntry.objects.filter(cluster=quiet).delete()
        Cluster.objects.filter(pk=quiet.pk).update(last_heartbeat_at=starts_at + datetime.timedelta(seconds=30))
        quiet.refresh_from_db()
        assert demo._as_run(random.Random(1), [quiet], [quiet]) > 0
        assert AsRunEntry.objects.filter(cluster=quiet, started_at__lte=quiet.last_heartbeat_at).exists()
        assert not AsRunEntry.objects.filter(cluster=quiet, started_at__gt=quiet.last_heartbeat_at).exists()
        assert Playlist.objects.exists()  # the next day's playlists are prepared
        counts = (Cluster.objects.count(), Bulletin.objects.count(), Heartbeat.objects.count(),
                  AsRunEntry.objects.count(), AudioAsset.objects.count())

    # Idempotent: a second run leaves the commune alone.
    assert demo.populate(tule, people, seed=4630) == {}
    with tenant_context(tule):
        assert counts == (Cluster.objects.count(), Bulletin.objects.count(), Heartbeat.objects.count(),
                          AsRunEntry.objects.count(), AudioAsset.objects.count())


def test_demo_gives_other_communes_fewer_clusters(yenhoa, make_user, espeak):
    from broadcasting import demo, scheduler
    from broadcasting.models import Bulletin, BulletinState, Cluster, Slot

    officials = {role: make_user(f"yh_{role.value}", roles={yenhoa: [role]})
                 for role in (Role.RADIO_OPERATOR, Role.CHAIRMAN)}
    # Without a radio operator there is nobody to write bulletins: nothing is made.
    assert demo.populate(yenhoa, {Role.CHAIRMAN: officials[Role.CHAIRMAN]}) == {}
    made = demo.populate(yenhoa, officials)
    assert 0 < made["clusters"] < 12 and made["offline"] >= 1
    with tenant_context(yenhoa):
        assert Cluster.objects.count() == made["clusters"]
        assert sum(scheduler.is_offline(c) for c in Cluster.objects.all()) == made["offline"]
        assert Bulletin.objects.filter(state=BulletinState.APPROVED).exclude(asset__file="").count() >= 3
        # Yên Hòa's loudspeakers played at 05:30 and 17:30.
        assert [s.start for s in Slot.objects.order_by("start")] == [datetime.time(5, 30), datetime.time(17, 30)]
