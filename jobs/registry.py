"""Which concrete job models exist, keyed by ``app_label.ModelName``.

The generic task ``jobs.run`` receives that label and finds the model here; the sweeper walks
every registered model in every commune schema.
"""
from __future__ import annotations

_MODELS: dict[str, type] = {}


def label_for(model) -> str:
    return model._meta.label


def register(model):
    """Register a concrete ``jobs.models.Job`` subclass. Usable as a class decorator."""
    _MODELS[label_for(model).lower()] = model
    return model


def get_model(label: str):
    try:
        return _MODELS[label.lower()]
    except KeyError:
        raise LookupError(f"No job model registered as {label!r}") from None


def models() -> list[type]:
    return [m for m in _MODELS.values() if not m._meta.proxy]
