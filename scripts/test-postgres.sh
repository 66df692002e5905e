#!/usr/bin/env bash
# byokd on PostgreSQL: a cluster of its own in a temporary folder (scripts/postgres.sh), then the
# daemon's end-to-end tests on it (each byokd there on a database of its own) and the tests only
# a shared database has: row-level security with separate roles, two byokd recording and holding
# the system key's cap at once (also behind PgBouncer in transaction mode), one killed under load,
# migration from an earlier version, a desktop store copied in.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
pg_install
cargo build --locked -q -p byokit-daemon --tests
pg_start
trap pg_stop EXIT
pgbouncer_start
# Every part of the setup is there: a test that finds one missing fails instead of passing unrun.
BYOKIT_TEST_REQUIRE_POSTGRES=1 cargo test --locked -q -p byokit-daemon --test daemon --test postgres
