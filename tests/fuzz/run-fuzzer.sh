#!/bin/sh
# run-fuzzer.sh FUZZER SECONDS CORPUS REGRESSIONS SEED… — one short libFuzzer run.
# New inputs go to CORPUS (in the build tree); a crash is copied to
# REGRESSIONS so it becomes a replay test, and the run fails.
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
fuzzer=$1 seconds=$2 corpus=$3 regressions=$4
shift 4
mkdir -p "$corpus" "$regressions"
artifacts=$(mktemp -d)
seeds=""
for s in "$@"; do [ -d "$s" ] && seeds="$seeds $s"; done
# shellcheck disable=SC2086
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" $seeds 2>&1 | tail -25
status=$?
found=$(ls "$artifacts" 2>/dev/null | wc -l)
if [ "$found" -gt 0 ]; then
  cp "$artifacts"/* "$regressions"/
  echo "fuzzing found $found crashing input(s); copied to $regressions"
  status=1
fi
rm -rf "$artifacts"
exit $status
