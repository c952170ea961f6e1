"""A production environment passes Django's deployment checks with no warning."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_with_the_documented_environment():
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "XASO_SECRETS_KEYS": secrets.token_urlsafe(48),
        # Production: no key file of a development checkout, not the test suite's environment.
        "XASO_LOCAL_ENV_FILE": str(ROOT / "no-such-local.env"),
        "DJANGO_ALLOWED_HOSTS": ".xaso.example.gov.vn",
        "XASO_SECURE_COOKIES": "1",
        "XASO_BEHIND_PROXY": "1",
        "XASO_HSTS_SECONDS": "31536000",
        "XASO_HSTS_INCLUDE_SUBDOMAINS": "1",
        "XASO_HSTS_PRELOAD": "1",
    }
    env.pop("DJANGO_DEBUG", None)
    env.pop("XASO_DEVELOPMENT", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_development_defaults_are_not_fit_for_production():
    env = {**os.environ, "XASO_LOCAL_ENV_FILE": str(ROOT / "no-such-local.env")}
    for name in ("DJANGO_SECRET_KEY", "XASO_SECRETS_KEYS", "XASO_SECURE_COOKIES", "DJANGO_DEBUG", "XASO_DEVELOPMENT"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    # Without a secret key, production does not start at all (and never falls back to a known key).
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr and "ImproperlyConfigured" in result.stderr
    # With its secrets but the development cookies, the deployment checks still complain.
    env.update({"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "XASO_SECRETS_KEYS": secrets.token_urlsafe(48)})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode != 0 and "SESSION_COOKIE_SECURE" in result.stdout + result.stderr
