#!/usr/bin/env bash
# Refreshes the Public Suffix List that `allowlist add` checks domains against
# (src/AuditAgent/Incidents/public_suffix_list.dat, built into the binary). Run it before a release.
#
#   deploy/scripts/refresh-public-suffix-list.sh            # from https://publicsuffix.org (needs internet)
#   deploy/scripts/refresh-public-suffix-list.sh --debian   # from Debian's publicsuffix package, offline
set -euo pipefail

target="$(cd "$(dirname "$0")/../.." && pwd)/src/AuditAgent/Incidents/public_suffix_list.dat"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT

case "${1:-}" in
  --debian)
    source_file=/usr/share/publicsuffix/public_suffix_list.dat
    if [ ! -f "$source_file" ]; then
      echo "$source_file is missing: apt-get install publicsuffix" >&2
      exit 1
    fi
    cp "$source_file" "$tmp"
    ;;
  "")
    curl --fail --silent --show-error --location https://publicsuffix.org/list/public_suffix_list.dat -o "$tmp"
    ;;
  *)
    echo "unknown option: $1" >&2
    exit 2
    ;;
esac

# A truncated download must not replace a good list: the real one holds thousands of rules.
rules=$(grep -cvE '^(//|$)' "$tmp" || true)
if [ "$rules" -lt 5000 ] || ! grep -q '===BEGIN ICANN DOMAINS===' "$tmp"; then
  echo "the downloaded list looks incomplete ($rules rules); $target is unchanged" >&2
  exit 1
fi

mv "$tmp" "$target"
trap - EXIT
echo "Wrote $target ($rules rules). Rebuild to ship it."
