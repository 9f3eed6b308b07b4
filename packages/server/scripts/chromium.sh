#!/usr/bin/env bash
# Makes Debian's chromium available for the memory browser's tests: prints its path, installing
# the package first when it is missing and this runs as root with apt-get. Otherwise exits 1
# with the reason on stderr (the tests then report themselves skipped with it).
set -euo pipefail
for candidate in "${ENGRAM_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [[ -n $candidate && -x $candidate ]]; then
    echo "$candidate"
    exit 0
  fi
done
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get > /dev/null 2>&1; then
  echo "chromium is not installed and cannot be installed here (needs root and apt-get): apt-get install chromium, or set ENGRAM_CHROMIUM" >&2
  exit 1
fi
log="$(mktemp)"
export DEBIAN_FRONTEND=noninteractive
apt_get=(apt-get -o DPkg::Lock::Timeout=600 -q)
if ! "${apt_get[@]}" install -y --no-install-recommends chromium > "$log" 2>&1; then
  "${apt_get[@]}" update >> "$log" 2>&1 || true
  if ! "${apt_get[@]}" install -y --no-install-recommends chromium >> "$log" 2>&1; then
    echo "apt-get install chromium failed: $(tail -3 "$log" | tr '\n' ' ')" >&2
    rm -f "$log"
    exit 1
  fi
fi
rm -f "$log"
if [[ -x /usr/bin/chromium ]]; then
  echo /usr/bin/chromium
  exit 0
fi
echo "apt-get installed chromium but /usr/bin/chromium is missing" >&2
exit 1
