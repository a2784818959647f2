#!/usr/bin/env bash
# System packages the tests use that pip cannot provide. Idempotent and quick when present.
# (The engine's tests need none yet; the store and web issues add PostgreSQL and Chromium here.)
set -euo pipefail
exit 0
