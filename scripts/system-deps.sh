#!/usr/bin/env bash
# System packages the tests use that pip cannot provide: Debian's PostgreSQL (the storage tests
# start a private cluster with initdb + pg_ctl) and Chromium (the browser test drives it with
# Playwright; Playwright's own browser download is never used) and a Java runtime (the Spark engine's
# test runs PySpark, whose driver is a JVM; PySpark 4 wants Java 17 or newer). Idempotent and quick
# when present.
set -euo pipefail

need=()
command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: please install: ${need[*]} (Debian packages), or run this script as root" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
