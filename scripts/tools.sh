#!/usr/bin/env bash
# Installs the Go-built servers hookrelay runs against (Temporal CLI dev server with its UI, FerretDB)
# into an ignored tools directory. Skips what is already there at the wanted version.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${HOOKRELAY_TOOLS_DIR:-$root/.tools}"
mkdir -p "$tools"

TEMPORAL_VERSION=1.5.1
FERRETDB_VERSION=1.24.2

# A binary built from the module proxy does not always stamp its own version (the Temporal CLI says
# 0.0.0-DEV), so each install leaves a stamp file beside the binary naming the version it built.
have_version() { # binary, version
  [ -x "$tools/$1" ] && [ "$(cat "$tools/$1.version" 2>/dev/null)" = "$2" ] && "$tools/$1" --version >/dev/null 2>&1
}
stamp() { echo "$2" > "$tools/$1.version"; }

need_go() {
  command -v go >/dev/null || { echo "tools: Go 1.22+ is required to build $1" >&2; exit 1; }
}

install_temporal() {
  if have_version temporal "$TEMPORAL_VERSION"; then echo "tools: temporal $TEMPORAL_VERSION already in $tools"; return; fi
  need_go temporal
  echo "tools: building temporal $TEMPORAL_VERSION (Temporal CLI dev server + Web UI) with go install; several minutes the first time…"
  GOBIN="$tools" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_VERSION"
  # Output captured first: with pipefail, grep -q closing the pipe early would fail the check.
  local reported; reported=$("$tools/temporal" --version)
  [[ "$reported" == *"Server 1.29"* ]] || { echo "tools: temporal built but is not the expected server 1.29" >&2; exit 1; }
  stamp temporal "$TEMPORAL_VERSION"
  echo "tools: temporal $TEMPORAL_VERSION ready"
}

# FerretDB cannot be `go install`ed by version: the module proxy refuses its version list (needed for the
# deprecation check), and its module zip lacks build/version/version.txt, without which the binary panics
# at start. So: download the exact module version, copy it, write version.txt, build it as the main module.
install_ferretdb() {
  if have_version ferretdb "$FERRETDB_VERSION"; then echo "tools: ferretdb $FERRETDB_VERSION already in $tools"; return; fi
  need_go ferretdb
  echo "tools: building ferretdb $FERRETDB_VERSION (SQLite backend) from its module source; a few minutes the first time…"
  local dir src
  dir=$(cd "$tools" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@v$FERRETDB_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  [ -n "$dir" ] || { echo "tools: could not download the FerretDB module" >&2; exit 1; }
  src="$tools/src/ferretdb-$FERRETDB_VERSION"
  rm -rf "$src"; mkdir -p "$tools/src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  echo "v$FERRETDB_VERSION" > "$src/build/version/version.txt"
  (cd "$src" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -o "$tools/ferretdb" ./cmd/ferretdb)
  rm -rf "$src"
  local reported; reported=$("$tools/ferretdb" --version)
  [[ "$reported" == *"v$FERRETDB_VERSION"* ]] || { echo "tools: ferretdb built but does not report $FERRETDB_VERSION" >&2; exit 1; }
  stamp ferretdb "$FERRETDB_VERSION"
  echo "tools: ferretdb $FERRETDB_VERSION ready"
}

# Built side by side: each spends most of its time fetching modules and linking.
install_temporal & t=$!
install_ferretdb & f=$!
status=0
wait $t || status=1
wait $f || status=1
exit $status
