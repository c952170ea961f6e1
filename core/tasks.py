"""Periodic tasks of the shared layer."""
from celery import shared_task


@shared_task(name="core.prune_kept_uploads", ignore_result=True)
def prune_kept_uploads() -> int:
    """Files kept for a refused form that was never sent again (core.uploads)."""
    from core.uploads import prune

    return prune()
