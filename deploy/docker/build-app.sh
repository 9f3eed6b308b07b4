#!/usr/bin/env bash
# Builds the runtime tree of the Engram image: the `engram` command (@engram/cli with
# @engram/server, @engram/sqlite and @engram/ai-sdk), the store adapters named in
# ENGRAM_ADAPTERS and the model provider packages named in ENGRAM_PROVIDERS, with production
# dependencies only, into OUT_DIR.
#
#   ENGRAM_ADAPTERS="pgvector neo4j" deploy/docker/build-app.sh /out
#
# ENGRAM_PROVIDERS defaults to `all`: every provider package the catalog of @engram/ai-sdk names
# (Anthropic, Google, Azure, Bedrock, Groq, Together AI, Mistral, DeepSeek, xAI, Cohere, Voyage,
# OpenAI-compatible), at the exact versions its tests and the lockfile pin; a list of prefixes
# (`anthropic cohere`) installs those; `none` or "" installs none (OpenAI and Ollama only). See
# deploy/docker/provider-packages.mjs.
#
# Run from the repository root with the pinned pnpm on PATH. The Dockerfile runs it in its build
# stage; it runs the same way on a machine without Docker (deploy/check.sh --build).
#
# Adapters are loaded by name at run time (`ENGRAM_VECTOR_STORE=pgvector` imports
# @engram/pgvector), so each one is deployed on its own and placed at
# OUT_DIR/node_modules/@engram/<name>, where the server resolves it; they share the @engram/core
# of the command (a peer dependency, never a second copy).
set -euo pipefail

out=${1:?usage: build-app.sh <output directory>}
adapters=${ENGRAM_ADAPTERS-pgvector}

[[ -f pnpm-workspace.yaml ]] || { echo "build-app.sh: run it from the repository root" >&2; exit 2; }
[[ -e "$out" ]] && { echo "build-app.sh: $out exists; give a new directory" >&2; exit 2; }

filters=(--filter '@engram/cli...')
for adapter in $adapters; do
  if [[ ! "$adapter" =~ ^[a-z0-9][a-z0-9-]*$ || ! -f "adapters/$adapter/package.json" ]]; then
    echo "build-app.sh: ENGRAM_ADAPTERS names \"$adapter\", which is not a package under adapters/" >&2
    exit 2
  fi
  filters+=(--filter "@engram/$adapter...")
done

echo "== install (frozen lockfile): @engram/cli ${adapters:+and $adapters}"
# The root project brings the build tools (TypeScript); the filters bring what is built.
pnpm install --frozen-lockfile --filter engram-monorepo "${filters[@]}"

echo "== build"
pnpm "${filters[@]}" run build

echo "== deploy @engram/cli (production dependencies) to $out"
pnpm --filter @engram/cli deploy --prod --legacy "$out"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for adapter in $adapters; do
  echo "== deploy @engram/$adapter"
  pnpm --filter "@engram/$adapter" deploy --prod --legacy "$scratch/$adapter"
  # @engram/core is a peer dependency: the adapter must use the command's copy.
  rm -rf "$scratch/$adapter/node_modules/@engram/core"
  rm -rf "$out/node_modules/@engram/$adapter"
  mv "$scratch/$adapter" "$out/node_modules/@engram/$adapter"
done

# Provider packages are optional peers of @engram/ai-sdk, which imports them by name when a model
# of theirs is configured: each is installed with its own dependencies nested inside it and
# placed at OUT_DIR/node_modules/<package>, where that import finds it.
providers=$(node deploy/docker/provider-packages.mjs "${ENGRAM_PROVIDERS-all}")
if [[ -n "$providers" ]]; then
  echo "== install provider packages: $providers"
  mkdir -p "$scratch/providers"
  echo '{"private": true}' > "$scratch/providers/package.json"
  # shellcheck disable=SC2086
  npm install --prefix "$scratch/providers" --omit=dev --ignore-scripts --no-audit --no-fund \
    --install-strategy=nested $providers
  for spec in $providers; do
    name=${spec%@*}
    mkdir -p "$(dirname "$out/node_modules/$name")"
    rm -rf "${out:?}/node_modules/$name"
    mv "$scratch/providers/node_modules/$name" "$out/node_modules/$name"
  done
fi

# Files only needed while native packages install: kuzu ships its whole C++ source tree and the
# binaries of every platform (about 480 MB) and copies the right one to kuzujs.node;
# better-sqlite3 keeps the SQLite sources and object files of its build.
for package in "$out"/node_modules/.pnpm/kuzu@*/node_modules/kuzu; do
  [[ -f "$package/kuzujs.node" ]] && rm -rf "$package/kuzu-source" "$package/prebuilt"
done
for package in "$out"/node_modules/.pnpm/better-sqlite3@*/node_modules/better-sqlite3; do
  [[ -f "$package/build/Release/better_sqlite3.node" ]] &&
    rm -rf "$package/deps" "$package/src" "$package/build/Release/obj.target" "$package/build/Release/.deps"
done

chmod 0755 "$out/dist/bin.js"
echo "== done: $(du -sh "$out" | cut -f1) in $out"
