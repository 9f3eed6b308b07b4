#!/usr/bin/env bash
# Builds the Qdrant server from its source at a release tag and caches the binary:
#
#   bash build.sh            (called by `launcher.sh install` when ENGRAM_BUILD_QDRANT=1)
#
# Qdrant ships no binary through any package registry, so the server is compiled with cargo
# (dependencies from crates.io). Long: over an hour on 2 busy cores. The binary lands in
# $ENGRAM_QDRANT_CACHE/<tag>/qdrant; the launcher uses it from there.
#
#   ENGRAM_QDRANT_VERSION     release tag (default v1.19.0)
#   ENGRAM_QDRANT_SOURCE      git repository of qdrant/qdrant (default its GitHub URL)
#   ENGRAM_QDRANT_GIT_MIRROR  where the git dependencies of Cargo.lock come from when GitHub is
#                             not reachable: a URL or path with {owner} and {name}, e.g.
#                             /srv/mirrors/{owner}/{name}.git (default: cargo fetches them)
#   ENGRAM_QDRANT_TOOLCHAIN   rustup toolchain to build with (default: the first installed one
#                             that satisfies the tag's rust-version, stable before nightly;
#                             v1.19.0 needs Rust 1.97)
#   ENGRAM_QDRANT_PROFILE     cargo profile (default perf: qdrant's release settings without
#                             fat LTO and with many codegen units, several times faster to build
#                             than its release profile, which ships the official binaries)
#   CARGO_BUILD_JOBS          parallel jobs (default 2); the build runs under `nice -n 19`
#
# Needs cargo, git, a C/C++ compiler, cmake, libclang (Debian: clang), protoc (Debian:
# protobuf-compiler) and protoc's well-known .proto files (Debian: libprotobuf-dev, installed here
# when missing and run as root). Progress goes to stderr.
set -euo pipefail

service_name=qdrant-build
log() { echo "[$service_name] $*" >&2; }
fail() {
  log "error: $*"
  exit 1
}

version="${ENGRAM_QDRANT_VERSION:-v1.19.0}"
cache="${ENGRAM_QDRANT_CACHE:-$HOME/.cache/engram-qdrant}"
source_repository="${ENGRAM_QDRANT_SOURCE:-https://github.com/qdrant/qdrant.git}"
mirror="${ENGRAM_QDRANT_GIT_MIRROR:-}"
build="$cache/build-$version"
binary="$cache/$version/qdrant"
profile="${ENGRAM_QDRANT_PROFILE:-perf}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

for tool in cargo git cmake protoc; do
  command -v "$tool" >/dev/null ||
    fail "$tool is needed to build Qdrant (Debian: apt-get install protobuf-compiler libprotobuf-dev clang cmake; Rust from rustup)"
done

# protoc's well-known types (google/protobuf/*.proto), which prost-wkt-types compiles against; on
# Debian they come with libprotobuf-dev, not protobuf-compiler.
well_known_types() {
  local include
  for include in "${PROTOC_INCLUDE:-}" /usr/include /usr/local/include "$(dirname "$(command -v protoc)")/../include"; do
    [ -n "$include" ] && [ -f "$include/google/protobuf/timestamp.proto" ] && return 0
  done
  return 1
}
if ! well_known_types && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  log "installing libprotobuf-dev (protoc's well-known .proto files)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q libprotobuf-dev >&2 ||
    log "apt-get install libprotobuf-dev failed"
fi
well_known_types ||
  fail "protoc's well-known types (google/protobuf/timestamp.proto) are missing: apt-get install libprotobuf-dev, or set PROTOC_INCLUDE to the folder holding google/protobuf"

# Checks out <commit or ref> of <repository> into <directory> (reused when already there).
checkout() {
  local repository="$1" revision="$2" directory="$3"
  if [ -f "$directory/.engram-checkout" ] && [ "$(cat "$directory/.engram-checkout")" = "$revision" ]; then
    return 0
  fi
  rm -rf "$directory"
  mkdir -p "$directory"
  git -C "$directory" init -q
  git -C "$directory" fetch -q --depth 1 "$repository" "$revision" 2>/dev/null ||
    git -C "$directory" fetch -q "$repository" "$revision" || return 1
  git -C "$directory" -c advice.detachedHead=false checkout -q FETCH_HEAD
  echo "$revision" >"$directory/.engram-checkout"
}

mirror_url() { # <owner> <name>
  local url="${mirror//\{owner\}/$1}"
  echo "${url//\{name\}/$2}"
}

# The folder holding the crate <package> in a checkout (its Cargo.toml names it).
crate_folder() {
  local root="$1" package="$2" manifest
  manifest="$(grep -rl --include=Cargo.toml -E "^name = \"$package\"" "$root" | head -1)"
  [ -n "$manifest" ] || fail "no crate $package in $root"
  dirname "$manifest"
}

# The source of crates.io's <crate> <version>, from cargo's registry cache.
registry_crate() {
  local crate="$1" crate_version="$2" probe="$build/registry-probe"
  mkdir -p "$probe/src"
  printf '[package]\nname = "probe"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n%s = { version = "=%s", default-features = false }\n' \
    "$crate" "$crate_version" >"$probe/Cargo.toml"
  touch "$probe/src/lib.rs"
  (cd "$probe" && cargo fetch -q >&2)
  local found
  found="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$crate-$crate_version" | head -1)"
  [ -d "$found" ] || fail "cargo fetched $crate $crate_version but its source is not in the registry cache"
  echo "$found"
}

# A fork's locked commit missing from the mirror (a branch named v<version>-<owner>, e.g.
# qdrant's tonic fork): the crates.io release <version> with the fork's own changes, the
# difference between the mirror's newest branch of that naming and its merge base with the
# default branch. Read in place, so the mirror must be a local repository here (mirrors may hold
# partial trees that cannot be fetched).
rebuild_fork() {
  local repository="$1" owner="$2" package="$3" crate_version="$4" directory="$5"
  [ -d "$repository" ] || return 1
  local git=(git --git-dir="$(git -C "$repository" rev-parse --absolute-git-dir)")
  local heads default branch base
  heads="$("${git[@]}" for-each-ref --format='%(refname:short)' refs/heads)"
  default="$(echo "$heads" | grep -xE 'master|main' | head -1)"
  branch="$(echo "$heads" | grep -E "^v[0-9.]+-$owner\$" | sort -V | tail -1)"
  [ -n "$branch" ] && [ -n "$default" ] || return 1
  base="$("${git[@]}" merge-base "$default" "$branch")" || return 1
  local subfolder=""
  if "${git[@]}" cat-file -e "$branch:$package/Cargo.toml" 2>/dev/null; then subfolder="$package/"; fi
  log "the fork's branch for $package $crate_version is not in the mirror: using crates.io $package $crate_version with the changes of $branch over ${base:0:12}"
  rm -rf "$directory"
  mkdir -p "$directory"
  cp -r "$(registry_crate "$package" "$crate_version")" "$directory/$package"
  "${git[@]}" diff "$base" "$branch" --relative="$subfolder" -- "${subfolder}src" |
    (cd "$directory/$package" && patch -s -p1 --no-backup-if-mismatch) || return 1
  echo "fork:$crate_version" >"$directory/.engram-checkout"
}

# Points every git dependency of Cargo.lock at a local checkout from the mirror.
use_mirror_for_git_dependencies() {
  local lock="$build/src/Cargo.lock" sources source
  sources="$(grep -oE '^source = "git\+https://github.com/[^"]+"' "$lock" | sort -u | sed -E 's/^source = "git\+//; s/"$//')"
  for source in $sources; do
    local base="${source%%[?#]*}" commit="${source##*#}" query="${source#*\?}"
    query="${query%%#*}"
    local owner name
    owner="$(echo "$base" | cut -d/ -f4)"
    name="$(echo "$base" | cut -d/ -f5)"
    name="${name%.git}"
    local repository directory="$build/git/$name-${commit:0:12}"
    repository="$(mirror_url "$owner" "$name")"
    local packages
    packages="$(grep -B2 -F "source = \"git+$source\"" "$lock" | sed -nE 's/^name = "(.*)"/\1/p' | sort -u)"
    local branch="${query#branch=}" package_version
    package_version="$(echo "$branch" | sed -nE "s/^v([0-9.]+)-$owner\$/\1/p")"
    # A fork rebuilt by an earlier run is kept, so its crate and its dependents are not recompiled.
    if [ -n "$package_version" ] && [ "$(cat "$directory/.engram-checkout" 2>/dev/null)" = "fork:$package_version" ]; then
      :
    elif ! checkout "$repository" "$commit" "$directory"; then
      [ "$query" != "$branch" ] && [ -n "$package_version" ] && [ "$(echo "$packages" | wc -l)" -eq 1 ] &&
        rebuild_fork "$repository" "$owner" "$packages" "$package_version" "$directory" ||
        fail "$base at $commit is not in $repository"
    fi
    log "git dependency $base ($commit): $(echo "$packages" | tr '\n' ' ')from $directory"
    local package folder manifest
    for package in $packages; do
      folder="$(crate_folder "$directory" "$package")"
      # Every manifest line naming the package with this git URL gets a path instead.
      while IFS= read -r manifest; do
        sed -i -E "/^$package = \\{[^}]*git = \"${base//\//\\/}(\\.git)?\"/{
          s#git = \"[^\"]*\"#path = \"$folder\"#
          s#,? *(rev|branch|tag) = \"[^\"]*\"##g
        }" "$manifest"
      done < <(grep -rl --include=Cargo.toml -F "$base" "$build/src")
    done
  done
}

# The toolchain: the first one installed whose rustc satisfies the tag's rust-version, stable
# releases before nightly and beta ones (a tag may need a Rust newer than the newest stable
# installed; nightly of that version then builds it).
choose_toolchain() {
  if [ -n "${ENGRAM_QDRANT_TOOLCHAIN:-}" ]; then
    log "toolchain: +$ENGRAM_QDRANT_TOOLCHAIN (ENGRAM_QDRANT_TOOLCHAIN)"
    echo "+$ENGRAM_QDRANT_TOOLCHAIN"
    return
  fi
  local required candidates candidate have
  required="$(sed -nE 's/^rust-version = "([0-9.]+)"/\1/p' "$build/src/Cargo.toml" | head -1)"
  candidates="default"
  if command -v rustup >/dev/null; then
    local installed
    installed="$(rustup toolchain list | cut -d' ' -f1)"
    candidates="$candidates $(echo "$installed" | grep -vE '^(nightly|beta)' | tr '\n' ' ')"
    candidates="$candidates $(echo "$installed" | grep -E '^(nightly|beta)' | tr '\n' ' ')"
  fi
  for candidate in $candidates; do
    local flag=""
    [ "$candidate" = default ] || flag="+$candidate"
    have="$(cargo $flag --version 2>/dev/null | sed -nE 's/^cargo ([0-9]+\.[0-9]+).*/\1/p')"
    [ -n "$have" ] || continue
    if [ -z "$required" ] || [ "$(printf '%s\n%s\n' "$required" "$have" | sort -V | head -1)" = "$required" ]; then
      log "toolchain: ${flag:-default} (cargo $have; the tag needs rust $required)"
      echo "$flag"
      return
    fi
  done
  fail "Qdrant $version needs Rust $required; no installed toolchain has it (rustup toolchain install $required)"
}

if [ -x "$binary" ]; then
  log "qdrant $version already built: $binary"
  exit 0
fi
mkdir -p "$build"
log "checking out qdrant $version from $source_repository into $build/src"
checkout "$source_repository" "refs/tags/$version" "$build/src" ||
  fail "could not fetch tag $version from $source_repository (set ENGRAM_QDRANT_SOURCE to a reachable copy)"
# manifests as tagged, so an interrupted build can start over
git -C "$build/src" checkout -q -- .
if [ -n "$mirror" ]; then use_mirror_for_git_dependencies; fi
toolchain="$(choose_toolchain)"
started=$SECONDS
log "cargo build --profile $profile --bin qdrant ($CARGO_BUILD_JOBS jobs, nice 19): long on 2 cores"
(cd "$build/src" && nice -n 19 cargo $toolchain build --profile "$profile" --bin qdrant >&2)
mkdir -p "$(dirname "$binary")"
output="$profile"
[ "$profile" != dev ] || output=debug
cp "$build/src/target/$output/qdrant" "$binary.partial"
mv "$binary.partial" "$binary"
log "built in $((SECONDS - started)) s: $binary"
