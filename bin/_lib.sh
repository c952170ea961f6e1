# Shared by bin/demo and bin/test: a virtual environment with the pinned packages, the Debian
# packages the portal needs, and PostgreSQL and Redis reachable (started or installed when we can).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${XASO_VENV:-$ROOT/.venv}"
# Debian packages: gettext compiles the translations; Liberation Serif (Times New Roman metrics,
# Vietnamese glyphs) sets official documents and signature appearances; eSpeak NG reads the
# radio's bulletins in its Vietnamese voices.
APT_PACKAGES="${XASO_APT_PACKAGES:-gettext fonts-liberation2 espeak-ng}"
# The browser tests drive Debian's Chromium; the signature tests check signed PDFs with poppler's
# pdfsig (trusting the demo CA through an NSS database made with certutil) and sign on a SoftHSM
# PKCS#11 token (OpenSC's pkcs11-tool puts the test keys on it); zbar reads the printed QR codes back.
TEST_APT_PACKAGES="chromium fonts-dejavu-core poppler-utils libnss3-tools softhsm2 opensc zbar-tools"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || return 1
  say "Installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

find_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)'; then
      echo "$candidate"; return 0
    fi
  done
  die "Python 3.11 or newer is needed (apt-get install python3 python3-venv)."
}

ensure_system_packages() {
  # shellcheck disable=SC2086
  apt_install $APT_PACKAGES || say "Could not install Debian packages ($APT_PACKAGES); run: sudo apt-get install $APT_PACKAGES"
}

ensure_test_packages() {
  # shellcheck disable=SC2086
  apt_install $TEST_APT_PACKAGES ||
    die "The browser tests need Debian's packages: sudo apt-get install $TEST_APT_PACKAGES"
}

ensure_venv() {
  local py; py="$(find_python)"
  if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the virtual environment in $VENV"
    "$py" -m venv "$VENV" || { apt_install python3-venv && "$py" -m venv "$VENV"; } ||
      die "Could not create a virtual environment: sudo apt-get install python3-venv"
  fi
  local stamp="$VENV/.requirements.sha"
  local want; want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Installing Python packages"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r requirements.txt -r requirements-dev.txt
    echo "$want" > "$stamp"
  fi
  # shellcheck disable=SC1091
  . "$VENV/bin/activate"
}

# --- PostgreSQL --------------------------------------------------------------------------
pg_ok() {
  python - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg2, dj_database_url
cfg = dj_database_url.parse(sys.argv[1])
psycopg2.connect(dbname="postgres", user=cfg["USER"] or None, password=cfg["PASSWORD"] or None,
                 host=cfg["HOST"] or None, port=cfg["PORT"] or None, connect_timeout=3).close()
PY
}

ensure_postgres() {
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/xaso}"
  pg_ok "$DATABASE_URL" && return 0
  if command -v pg_lsclusters >/dev/null 2>&1 && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
    say "Starting PostgreSQL"
    local version; version="$(pg_lsclusters -h | awk 'NR==1{print $1}')"
    local cluster; cluster="$(pg_lsclusters -h | awk 'NR==1{print $2}')"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start 2>/dev/null ||
      as_root pg_ctlcluster "$version" "$cluster" start || true
  elif apt_install postgresql; then
    say "Starting the PostgreSQL installed from Debian"
    local version; version="$(pg_lsclusters -h | awk 'NR==1{print $1}')"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null ||
      as_root pg_ctlcluster "$version" main start || true
    # A fresh Debian cluster asks for a password on 127.0.0.1: give the postgres role one.
    as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
    pg_ok "$DATABASE_URL" || export DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/xaso"
  fi
  for _ in $(seq 1 30); do pg_ok "$DATABASE_URL" && return 0; sleep 1; done
  die "PostgreSQL is not reachable at $DATABASE_URL.
Start it with:  sudo pg_ctlcluster 15 main start   (or: sudo apt-get install postgresql)
or point DATABASE_URL at a server:  export DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/xaso"
}

ensure_database() {
  python - "$DATABASE_URL" <<'PY'
import sys, psycopg2, dj_database_url
cfg = dj_database_url.parse(sys.argv[1])
conn = psycopg2.connect(dbname="postgres", user=cfg["USER"] or None, password=cfg["PASSWORD"] or None,
                        host=cfg["HOST"] or None, port=cfg["PORT"] or None)
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
    if cur.fetchone() is None:
        cur.execute('CREATE DATABASE "%s"' % cfg["NAME"].replace('"', ''))
        print("Created database", cfg["NAME"])
PY
}

# --- Redis -------------------------------------------------------------------------------
redis_ok() {
  python - "$1" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2).ping()
PY
}

start_local_redis() {
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/xaso.log >/dev/null 2>&1 ||
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1 || true
}

ensure_redis() {
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
  redis_ok "$REDIS_URL" && return 0
  if command -v redis-server >/dev/null 2>&1 || apt_install redis-server; then
    say "Starting Redis"
    start_local_redis
  fi
  for _ in $(seq 1 20); do redis_ok "$REDIS_URL" && return 0; sleep 0.5; done
  die "Redis is not reachable at $REDIS_URL.
Start it with:  redis-server --daemonize yes --port 6379 --save '' --appendonly no   (or: sudo apt-get install redis-server)
or point REDIS_URL at a server:  export REDIS_URL=redis://HOST:6379/0"
}

# The secret key of this checkout (development and the demo): random, made once, kept out of git
# in .xaso-local.env, which the settings read when DJANGO_SECRET_KEY is not in the environment.
ensure_local_secrets() {
  local file="${XASO_LOCAL_ENV_FILE:-$ROOT/.xaso-local.env}"
  if [ ! -s "$file" ]; then
    say "Generating a random secret key in $file"
    (umask 077 && python -c 'import secrets; print("# Secrets of this checkout (development and the demo). Never commit this file.\nDJANGO_SECRET_KEY=" + secrets.token_urlsafe(50))' > "$file")
  fi
}

compile_translations() {
  if command -v msgfmt >/dev/null 2>&1; then
    python manage.py compilemessages -l vi --ignore=.venv >/dev/null
  else
    die "msgfmt is missing: sudo apt-get install gettext"
  fi
}
