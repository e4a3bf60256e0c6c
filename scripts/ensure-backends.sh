#!/usr/bin/env bash
# Makes sure the real backends the tests need are there: starts them when they are down and this
# machine can, and fails loudly when it cannot. Tests never skip a backend when CI is set.
set -euo pipefail

pg_url="${LIANGDI_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"

pg_up() { "${BIN:-.venv/bin}/python" - "$pg_url" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].split("?")[0], connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {exc}", file=sys.stderr); sys.exit(1)
PY
}

if ! pg_up 2>/dev/null; then
  if [ -z "${LIANGDI_TEST_DATABASE_URL:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "PostgreSQL is down: starting the local cluster" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_up 2>/dev/null && break; sleep 1; done
  fi
  pg_up || { echo "FATAL: PostgreSQL is required for the tests (set LIANGDI_TEST_DATABASE_URL)" >&2; exit 1; }
fi

if [ -z "${LIANGDI_TEST_NATS_URL:-}" ]; then
  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
    echo "nats-server not found: installing it from Debian's packages" >&2
    if command -v apt-get >/dev/null 2>&1; then
      (apt-get update -qq && apt-get install -y -qq nats-server) >&2 || true
    fi
  fi
  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
    echo "FATAL: nats-server is required for the tests (or set LIANGDI_TEST_NATS_URL)" >&2
    exit 1
  fi
fi
# The dashboard's browser test drives Debian's chromium (a browser download cannot work here).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium not found: installing it from Debian's packages" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 || true
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "FATAL: /usr/bin/chromium is required for the browser test (apt-get install chromium)" >&2
  exit 1
fi
# The dashboard is in Chinese: without a CJK font chromium draws boxes in the browser tests'
# screenshots (the assertions read text, the screenshots are for people).
cjk_font() { dpkg -s fonts-noto-cjk >/dev/null 2>&1 || fc-list :lang=zh 2>/dev/null | grep -q .; }
if ! cjk_font && command -v apt-get >/dev/null 2>&1; then
  echo "no CJK font: installing fonts-noto-cjk from Debian's packages" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk) >&2 || true
fi
if ! cjk_font; then
  echo "FATAL: a CJK font is required for the dashboard's browser tests (apt-get install fonts-noto-cjk)" >&2
  exit 1
fi
echo "backends: PostgreSQL ok, nats-server ok, chromium ok, CJK font ok"
