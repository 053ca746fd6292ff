#!/usr/bin/env bash
# Installs what the browser and PostgreSQL tests need when it is missing and we may (root).
# Where we may not, the tests skip themselves with a message, except under CI=true.
# Arguments name optional extras: `sqlmap` (for make security).
set -u
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
VENV_BIN=${VENV_BIN:-.venv/bin}

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x "$PG_BIN/initdb" ] || need_apt+=(postgresql postgresql-contrib)
# The rate limits' shared storage test starts its own redis-server on a free port.
command -v redis-server >/dev/null || need_apt+=(redis-server)
for extra in "$@"; do
  case "$extra" in
    sqlmap) command -v sqlmap >/dev/null || need_apt+=(sqlmap) ;;
  esac
done

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing ${need_apt[*]} with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}") >/dev/null 2>&1 \
      || echo "apt-get could not install ${need_apt[*]}"
  else
    echo "missing ${need_apt[*]} and not root: those tests will be skipped (or fail under CI=true)"
  fi
fi
exit 0
