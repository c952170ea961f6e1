"""Voices are offered by their plain names, never by the engine's name or key."""
from django.utils import translation

from broadcasting.forms import voice_choices


def test_voices_have_plain_vietnamese_names(db):
    with translation.override("vi"):
        labels = [label for _key, label in voice_choices()]
    assert "Giọng đọc máy (miền Bắc)" in labels
    assert not [label for label in labels if "eSpeak" in label or label in ("vi", "vi-vn-x-central", "vi-vn-x-south")]
