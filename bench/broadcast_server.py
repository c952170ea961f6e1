"""Settings of the server that ``bench/broadcast.py`` starts: the portal's own, with the URLs of
``broadcast_urls`` (one minimal view added as the baseline)."""
from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "broadcast_urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
# The week page's static files without a collectstatic run (the manifest is not there).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
