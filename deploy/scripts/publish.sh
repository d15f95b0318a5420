#!/usr/bin/env bash
# Release artefacts: self-contained single-file builds of the agent for linux-x64, linux-arm64 and win-x64 (no
# .NET runtime needed where they run; compiled ahead of time as one ReadyToRun composite image with the runtime,
# which the project file sets for a self-contained build for a platform), each as an archive, a CycloneDX SBOM of
# what they are built from, and SHA-256 sums of it all. Run from anywhere, with the .NET 10 SDK:
#   deploy/scripts/publish.sh [OUTPUT_DIR]        (default: artifacts/ in the repository)
# Check a download with `sha256sum -c SHA256SUMS` in the output folder.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/artifacts}"
project="$root/src/AuditAgent/AuditAgent.csproj"
rids=(linux-x64 linux-arm64 win-x64)

rm -rf "$out"
mkdir -p "$out"
for rid in "${rids[@]}"; do
  dotnet publish "$project" -c Release -r "$rid" --self-contained true \
    -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -p:DebugType=none \
    -o "$out/auditagent-$rid" --nologo -v quiet
  if [[ "$rid" == win-* ]]; then
    (cd "$out" && zip -qr "auditagent-$rid.zip" "auditagent-$rid")
  else
    tar -C "$out" -czf "$out/auditagent-$rid.tar.gz" "auditagent-$rid"
  fi
  rm -rf "${out:?}/auditagent-$rid"
done

# The SBOM: the CycloneDX tool pinned in .config/dotnet-tools.json, over the agent's project and its references.
(cd "$root" && dotnet tool restore >/dev/null && dotnet tool run dotnet-CycloneDX "$project" --recursive --include-project-references --set-name auditagent --output "$out" --filename auditagent.cdx.json --output-format Json >/dev/null)

(cd "$out" && sha256sum -- *.tar.gz *.zip auditagent.cdx.json > SHA256SUMS)
echo "Release artefacts in $out:"
ls -1 "$out"
