#!/bin/sh
# The figures of the replication-truth suite on real PostgreSQL (issue 9): the worst deviation
# of the lag regionwatch shows from the test's own oracle, and the time from a second writable
# primary to the split-brain alarm (in the state and on screen). Needs what `.ci/run` installs.
#
#   scripts/bench-replication-truth.sh
set -eu
cd "$(dirname "$0")/.."
swift build --build-tests > /dev/null
swift test --skip-build --filter PostgresReplicationTests 2>&1 | grep -E '^FIGURE|✘|passed after|failed after' | grep -E 'FIGURE|Suite "PostgreSQL replication truth"|✘'
