"""Production (debug off, outside the tests and a prepared checkout) refuses to start without its
secrets; the demo runs with debug off and a random key of its own, made once and kept out of git."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW_KEY = "from django.conf import settings; print(settings.SECRET_KEY); print(settings.DEBUG)"


def production_env(tmp_path, **extra) -> dict:
    env = {**os.environ, "XASO_LOCAL_ENV_FILE": str(tmp_path / "absent.env"), **extra}
    for name in ("DJANGO_SECRET_KEY", "XASO_SECRETS_KEYS", "DJANGO_DEBUG", "XASO_DEVELOPMENT"):
        if name not in extra:
            env.pop(name, None)
    return env


def manage(env, *args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_production_refuses_to_start_without_its_secrets(tmp_path):
    result = manage(production_env(tmp_path), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY and XASO_SECRETS_KEYS" in result.stderr
    keyless = manage(production_env(tmp_path, XASO_SECRETS_KEYS="k" * 40), "check")
    assert keyless.returncode != 0 and "DJANGO_SECRET_KEY must be set" in keyless.stderr
    ok = manage(production_env(tmp_path, DJANGO_SECRET_KEY="s" * 60, XASO_SECRETS_KEYS="k" * 40), "shell", "-c", SHOW_KEY)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split()[-2:] == ["s" * 60, "False"]


def test_the_checkout_key_file_is_made_once_and_read_with_debug_off(tmp_path):
    key_file = tmp_path / "local.env"
    script = f'. "{ROOT}/bin/_lib.sh" >/dev/null && ensure_local_secrets'
    env = {**os.environ, "XASO_LOCAL_ENV_FILE": str(key_file)}
    for _ in range(2):
        subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True)
    content = key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    (line,) = [line for line in content.splitlines() if line.startswith("DJANGO_SECRET_KEY=")]
    key = line.split("=", 1)[1]
    assert len(key) >= 50 and "insecure" not in key
    other = tmp_path / "other.env"
    subprocess.run(["bash", "-c", script], cwd=ROOT, env={**env, "XASO_LOCAL_ENV_FILE": str(other)}, check=True,
                   capture_output=True)
    assert other.read_text() != content  # random, per checkout

    shown = manage(production_env(tmp_path, XASO_LOCAL_ENV_FILE=str(key_file)), "shell", "-c", SHOW_KEY)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[-2:] == [key, "False"]


def test_the_demo_runs_with_debug_off_and_its_own_key():
    demo = (ROOT / "bin/demo").read_text()
    assert "ensure_local_secrets" in demo
    assert "DJANGO_DEBUG" not in demo.replace("# Debug stays off", "")
    assert "/.xaso-local.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_a_missing_page_shows_no_debug_information(db, client):
    response = client.get("/no-such-page/", HTTP_HOST="tule.localhost")
    assert response.status_code == 404
    assert "URLconf" not in response.content.decode() and "DATABASES" not in response.content.decode()
