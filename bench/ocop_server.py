"""Settings of the server that ``bench/ocop.py`` starts: the portal's own, with the URLs of
``ocop_urls`` (one minimal view added as the baseline on the commune's host)."""
from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "ocop_urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
# The pages' static files without a collectstatic run (the manifest is not there).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
