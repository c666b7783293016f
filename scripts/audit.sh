#!/usr/bin/env bash
# The dependency gate: no high or critical advisory in production dependencies. Fails on advisories;
# when the registry's advisory endpoint cannot be reached (some mirrors do not serve it), says so
# and passes, so that CI on such a network still runs everything else.
set -uo pipefail
cd "$(dirname "$0")/.."
output=$(npm audit --omit=dev --audit-level=high 2>&1)
status=$?
echo "$output" | grep -v '^npm warn Unknown user config' | tail -20
if [ $status -ne 0 ] && echo "$output" | grep -q 'audit endpoint returned an error'; then
  echo "audit: the advisory endpoint is unreachable from here; gate not applied"
  exit 0
fi
exit $status
