"""Settings of the server that ``bench/onestop.py`` starts: the portal's own, with the URLs of
``onestop_urls`` (one minimal view added as the baseline), and throttles set high enough not to
refuse the benchmark's load (they are still counted, in PostgreSQL, on every lookup)."""
import os

from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "onestop_urls"
XASO_LOOKUP_RATE = "100000000/hour"
XASO_LOOKUP_MAX_FAILURES = 100000000
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
# The login page's static files without a collectstatic run (the manifest is not there).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# The jobs' messages (form 1, the SMS) go to a queue of the benchmark's own, emptied at the end:
# no worker of another database takes them.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("XASO_BENCH_QUEUE", "xaso-bench-onestop")
