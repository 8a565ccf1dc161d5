#!/usr/bin/env bash
# Installs the Go-built servers hookrelay runs against (Temporal CLI dev server with its UI, FerretDB)
# into an ignored tools directory. Skips what is already there at the wanted version.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${HOOKRELAY_TOOLS_DIR:-$root/.tools}"
mkdir -p "$tools"

TEMPORAL_VERSION=1.5.1
FERRETDB_VERSION=1.24.2
# The stamp names our build: upstream 1.24.2 plus the one-line _id lookup fix below.
FERRETDB_BUILD=1.24.2-idfix1

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
#
# One line is patched. The SQLite backend looks documents up by _id with `_ferretdb_sjson->'$._id'` while its
# unique _id index is on `_ferretdb_sjson->"_id"`; SQLite only uses an index whose expression matches, so
# every find/update/delete by _id scanned the whole table (26 ms per update at 2,500 documents, growing
# linearly). With the query written like the index, lookups stay ~1 ms at any size. Same results, same
# on-disk format.
install_ferretdb() {
  if have_version ferretdb "$FERRETDB_BUILD"; then echo "tools: ferretdb $FERRETDB_BUILD already in $tools"; return; fi
  need_go ferretdb
  echo "tools: building ferretdb $FERRETDB_VERSION (SQLite backend) from its module source; a few minutes the first time…"
  local dir src
  dir=$(cd "$tools" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@v$FERRETDB_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  [ -n "$dir" ] || { echo "tools: could not download the FerretDB module" >&2; exit 1; }
  src="$tools/src/ferretdb-$FERRETDB_VERSION"
  rm -rf "$src"; mkdir -p "$tools/src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  echo "v$FERRETDB_VERSION" > "$src/build/version/version.txt"
  local meta="$src/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \`->\"_id\"\`|" "$meta"
  grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$meta" || { echo "tools: the FerretDB _id lookup patch did not apply" >&2; exit 1; }
  (cd "$src" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -o "$tools/ferretdb" ./cmd/ferretdb)
  rm -rf "$src"
  local reported; reported=$("$tools/ferretdb" --version)
  [[ "$reported" == *"v$FERRETDB_VERSION"* ]] || { echo "tools: ferretdb built but does not report $FERRETDB_VERSION" >&2; exit 1; }
  stamp ferretdb "$FERRETDB_BUILD"
  echo "tools: ferretdb $FERRETDB_BUILD ready"
}

# Built side by side: each spends most of its time fetching modules and linking.
install_temporal & t=$!
install_ferretdb & f=$!
status=0
wait $t || status=1
wait $f || status=1
exit $status
