#!/usr/bin/env bash
# Debian packages that `make test` (default) or `make bench` needs; installed
# only when missing (needs root, as CI has).
# Usage: .ci/system-deps.sh [test] [bench]
set -euo pipefail
need=()
want() {  # want COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || need+=("$2")
}
for target in "${@:-test}"; do
  case "$target" in
    # redis-server: the Redis store's tests start one on loopback
    test) want chromium chromium; want redis-server redis-server ;;
    # the recorder bench drives Chromium; wrk is the ingest bench's load
    # client (a Python client saturates before the server on 2 cores);
    # bench/store_redis.py starts a redis-server
    bench) want chromium chromium; want wrk wrk; want redis-server redis-server ;;
    *) echo "system-deps.sh: unknown target $target (test, bench)" >&2; exit 2 ;;
  esac
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${need[*]} (run as root or install them)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
