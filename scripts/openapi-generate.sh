#!/usr/bin/env bash
# Regenerates the HTTP API's Swift code from its contract, Sources/KinkoServer/openapi.yaml,
# with swift-openapi-generator 1.14.3 (the configuration is openapi-generator-config.yaml beside
# it), into Sources/KinkoServer/Generated/, and records the contract's SHA-256 there.
#
#   scripts/openapi-generate.sh          regenerate (after any change to openapi.yaml)
#   scripts/openapi-generate.sh --check  exit 1 if the committed code was made from another contract
#
# The code is generated here and committed, not by a build plugin: the plugin built the
# generator and OpenAPIKit before anything else on every clean build, minutes of CI's 30. A
# test (OpenAPIGeneratedTests) fails when openapi.yaml no longer matches the recorded SHA-256.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER="$ROOT/Sources/KinkoServer"
OUT="$SERVER/Generated"
SPEC="$SERVER/openapi.yaml"
recorded() { sed -n 's/^\([0-9a-f]\{64\}\)  openapi.yaml$/\1/p' "$OUT/openapi.yaml.sha256" 2>/dev/null; }
current=$(sha256sum "$SPEC" | cut -d' ' -f1)

if [ "${1:-}" = "--check" ]; then
    if [ "$(recorded)" = "$current" ]; then echo "openapi: generated code matches openapi.yaml ($current)"; exit 0; fi
    echo "openapi: Sources/KinkoServer/Generated was made from another openapi.yaml; run scripts/openapi-generate.sh" >&2
    exit 1
fi

export PATH="/opt/swift/usr/bin:$PATH"
TOOL="$ROOT/.build-openapi"
mkdir -p "$TOOL/Sources/placeholder"
cat > "$TOOL/Package.swift" <<'SWIFT'
// swift-tools-version: 6.1
// Builds swift-openapi-generator's command-line tool for scripts/openapi-generate.sh.
import PackageDescription

let package = Package(
    name: "openapi-tool",
    dependencies: [.package(url: "https://github.com/apple/swift-openapi-generator.git", exact: "1.14.3")],
    targets: [.target(name: "placeholder", path: "Sources/placeholder")]
)
SWIFT
echo "// The package only builds swift-openapi-generator." > "$TOOL/Sources/placeholder/placeholder.swift"
swift build --package-path "$TOOL" --product swift-openapi-generator -c release
GENERATOR=$(swift build --package-path "$TOOL" --product swift-openapi-generator -c release --show-bin-path)/swift-openapi-generator

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
"$GENERATOR" generate "$SPEC" --config "$SERVER/openapi-generator-config.yaml" --output-directory "$staging"
rm -rf "$OUT" && mkdir -p "$OUT"
for file in "$staging"/*.swift; do
    # The configuration generates no client: its file is empty and left out.
    [ -s "$file" ] && cp "$file" "$OUT/"
done
(cd "$SERVER" && sha256sum openapi.yaml) > "$OUT/openapi.yaml.sha256"
echo "openapi: generated $(ls "$OUT" | grep -c '\.swift$') files from openapi.yaml ($current) into Sources/KinkoServer/Generated"
