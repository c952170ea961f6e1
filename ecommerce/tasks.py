"""Celery tasks of the OCOP marketplace (beat tasks; durable jobs run through ``jobs.run``)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="ecommerce.warn_certificates", ignore_result=True)
def warn_certificates() -> dict:
    """Beat, every morning: the 90- and 30-day warnings of OCOP certificates that end, in every
    commune (``ecommerce.certificates``; each warning is sent once, its day kept on the certificate)."""
    from ecommerce.certificates import warn_all

    return warn_all()
