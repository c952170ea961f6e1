"""Settings of the server that ``bench/onestop.py`` starts: the portal's own, with the URLs of
``onestop_urls`` (one minimal view added as the baseline), and throttles set high enough not to
refuse the benchmark's load (they are still counted, in PostgreSQL, on every lookup)."""
from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "onestop_urls"
XASO_LOOKUP_RATE = "100000000/hour"
XASO_LOOKUP_MAX_FAILURES = 100000000
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
