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
# The cluster profile (scripts/cluster.js): the real Temporal server, its SQL schema tool and the Web UI server,
# at the versions docker-compose.yml runs (test/unit/compose-drift.test.ts checks that they agree).
TEMPORAL_SERVER_VERSION=1.29.1
TEMPORAL_UI_VERSION=2.42.1

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

# `go install` names both binaries "server": each is built into its own directory and moved into place.
go_install_as() { # name, package@version
  local tmp; tmp=$(mktemp -d)
  GOBIN="$tmp" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "$2"
  mv "$tmp/$(basename "${2%@*}")" "$tools/$1"
  rm -rf "$tmp"
}

install_temporal_server() {
  if have_version temporal-server "$TEMPORAL_SERVER_VERSION" && have_version temporal-sql-tool "$TEMPORAL_SERVER_VERSION" \
    && [ -d "$tools/temporal-server-schema/postgresql/v12" ]; then
    echo "tools: temporal-server $TEMPORAL_SERVER_VERSION already in $tools"; return
  fi
  need_go temporal-server
  echo "tools: building temporal-server $TEMPORAL_SERVER_VERSION and its SQL schema tool (cluster profile)…"
  go_install_as temporal-server "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION"
  go_install_as temporal-sql-tool "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION"
  # The SQL schema files ship in the same module; the schema tool reads them from a directory.
  local dir; dir=$(cd "$tools" && GOFLAGS=-mod=mod go mod download -json "go.temporal.io/server@v$TEMPORAL_SERVER_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  rm -rf "$tools/temporal-server-schema"; cp -r "$dir/schema" "$tools/temporal-server-schema"; chmod -R u+w "$tools/temporal-server-schema"
  [[ "$("$tools/temporal-server" --version)" == *"$TEMPORAL_SERVER_VERSION"* ]] || { echo "tools: temporal-server does not report $TEMPORAL_SERVER_VERSION" >&2; exit 1; }
  stamp temporal-server "$TEMPORAL_SERVER_VERSION"; stamp temporal-sql-tool "$TEMPORAL_SERVER_VERSION"
  echo "tools: temporal-server $TEMPORAL_SERVER_VERSION ready"
}

install_temporal_ui() {
  if [ -x "$tools/temporal-ui-server" ] && [ "$(cat "$tools/temporal-ui-server.version" 2>/dev/null)" = "$TEMPORAL_UI_VERSION" ]; then
    echo "tools: temporal-ui-server $TEMPORAL_UI_VERSION already in $tools"; return
  fi
  need_go temporal-ui-server
  echo "tools: building temporal-ui-server $TEMPORAL_UI_VERSION (cluster profile)…"
  go_install_as temporal-ui-server "github.com/temporalio/ui-server/v2/cmd/server@v$TEMPORAL_UI_VERSION"
  stamp temporal-ui-server "$TEMPORAL_UI_VERSION"
  echo "tools: temporal-ui-server $TEMPORAL_UI_VERSION ready"
}

# PostgreSQL for the cluster profile: Debian's package, installed when missing and we are root with apt-get.
install_postgresql() {
  if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then echo "tools: postgresql already installed"; return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "tools: installing postgresql (Debian package) for the cluster profile…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    # The package starts a cluster of its own as a service; hookrelay runs its own on a free port instead.
    (command -v service >/dev/null && service postgresql stop >/dev/null 2>&1) || true
  else
    echo "tools: postgresql is missing and cannot be installed here (needs root and apt-get): the cluster profile will not start" >&2
  fi
}

# Temporal's Java time-skipping test server (workflow tests run the real 24 h schedule in seconds): its jars from
# Maven Central through mvn, and a launcher that @temporalio/testing starts as an existing-path server.
JAVA_TEST_SERVER_VERSION=1.31.0
install_java_test_server() {
  local dir="$tools/temporal-test-server"
  if [ -x "$dir/run" ] && [ "$(cat "$dir/version" 2>/dev/null)" = "$JAVA_TEST_SERVER_VERSION" ]; then
    echo "tools: temporal-test-server $JAVA_TEST_SERVER_VERSION already in $dir"; return
  fi
  if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "tools: installing maven and a JDK (Debian packages) for the workflow tests…"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven default-jdk-headless >/dev/null
    else
      echo "tools: mvn and java are needed for the workflow tests' time-skipping server" >&2; exit 1
    fi
  fi
  echo "tools: fetching temporal-test-server $JAVA_TEST_SERVER_VERSION (Java, time-skipping) with mvn…"
  rm -rf "$dir"; mkdir -p "$dir"
  mvn -q -B -f "$root/scripts/temporal-test-server/pom.xml" dependency:copy-dependencies -DoutputDirectory="$dir/lib" >/dev/null
  cat > "$dir/run" <<'RUN'
#!/usr/bin/env bash
# Started by @temporalio/testing with: <port> --enable-time-skipping
exec java -Xss4m -cp "$(dirname "$0")/lib/*" io.temporal.testserver.TestServer "$@"
RUN
  chmod +x "$dir/run"
  echo "$JAVA_TEST_SERVER_VERSION" > "$dir/version"
  echo "tools: temporal-test-server $JAVA_TEST_SERVER_VERSION ready"
}

# ---- python ------------------------------------------------------------------------------------------------
# The Python SDK's suite (test/integration/sdk-python.test.ts) needs Python 3.9+ with venv and pip; the test makes
# its own virtualenv (.tools/python-sdk-venv) and installs the SDK's dependencies and pytest there with pip.
# Debian's packages, installed when missing and we are root with apt-get.
python_ok() {
  command -v python3 >/dev/null && python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null
}
install_python() {
  if python_ok; then echo "tools: python $(python3 -c 'import platform; print(platform.python_version())') with venv already installed"; return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "tools: installing python3, venv and pip (Debian packages) for the Python SDK's tests…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
    python_ok || { echo "tools: python3 with venv is still missing" >&2; return 1; }
  else
    echo "tools: Python 3.9+ with venv is needed for the Python SDK's tests (cannot install it here: needs root and apt-get)" >&2; return 1
  fi
}
# ---- end python --------------------------------------------------------------------------------------------

# ---- go/java sdk toolchains -------------------------------------------------------------------------------
# The Go and Java SDKs' suites (test/integration/sdk-go.test.ts, sdk-java.test.ts) run `go test` in sdks/go and
# `mvn -o test` in sdks/java. Go, and a JDK with Maven, come from Debian's packages when missing and we are root
# with apt-get (the Java test server above installs Maven and a JRE-or-JDK the same way; the SDK needs javac too).
# Then everything the suites would otherwise fetch or build inside a test with a timeout happens here, once:
# the Java SDK's dependencies and Maven plugins into .tools/sdk-java/m2 (the test runs Maven offline on it;
# fetched again when pom.xml changes), and the Go SDK's build cache in .tools/sdk-go (no dependencies to fetch).
SDK_GO_CACHE="$tools/sdk-go"
SDK_JAVA_REPO="$tools/sdk-java/m2"
apt_install() { # what for, packages…
  local why=$1; shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "tools: installing $* (Debian packages) for $why…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "tools: $* missing for $why, and cannot be installed here (needs root and apt-get)" >&2; return 1
  fi
}
install_sdk_go_toolchain() {
  if ! command -v go >/dev/null; then apt_install "the Go-built servers and the Go SDK" golang-go || return 1; fi
  # sdks/go needs Go 1.24; a go command from 1.21 on fetches a newer toolchain itself, as a module, when needed.
  local minor; minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  if [ -n "$minor" ] && [ "$minor" -lt 21 ]; then
    echo "tools: $(go env GOVERSION) cannot build the Go SDK, which needs Go 1.24 (a Go from 1.21 on fetches that toolchain itself)" >&2; return 1
  fi
  echo "tools: $(go env GOVERSION) for the Go SDK"
}
prepare_sdk_go() {
  mkdir -p "$SDK_GO_CACHE"
  (cd "$root/sdks/go" && env -u HOOKRELAY_API_URL -u HOOKRELAY_API_KEY GOFLAGS=-mod=mod GOPATH="$SDK_GO_CACHE/gopath" GOCACHE="$SDK_GO_CACHE/build" \
    go test -count=1 -run '^$' ./... >/dev/null) || { echo "tools: the Go SDK does not build" >&2; return 1; }
  echo "tools: go sdk build cache ready in $SDK_GO_CACHE"
}
prepare_sdk_java() {
  if ! command -v mvn >/dev/null || ! command -v javac >/dev/null; then apt_install "the Java SDK" maven default-jdk-headless || return 1; fi
  local want; want=$(sha256sum "$root/sdks/java/pom.xml" | cut -d' ' -f1)
  if [ -d "$SDK_JAVA_REPO" ] && [ "$(cat "$SDK_JAVA_REPO.pom-sha256" 2>/dev/null)" = "$want" ]; then
    echo "tools: java sdk dependencies already in $SDK_JAVA_REPO"; return
  fi
  echo "tools: fetching the Java SDK's dependencies and Maven plugins with mvn (once, into $SDK_JAVA_REPO)…"
  # The build and the unit tests, without the stack's variables: what `mvn -o test` needs later is all here then.
  local log; log=$(mktemp)
  (cd "$root/sdks/java" && env -u HOOKRELAY_API_URL -u HOOKRELAY_API_KEY mvn -q -B -Dmaven.repo.local="$SDK_JAVA_REPO" test >"$log" 2>&1) \
    || { cat "$log" >&2; rm -f "$log"; echo "tools: mvn could not build the Java SDK" >&2; return 1; }
  rm -f "$log"
  echo "$want" > "$SDK_JAVA_REPO.pom-sha256"
  echo "tools: java sdk dependencies ready in $SDK_JAVA_REPO"
}
# ---- end go/java sdk toolchains ----------------------------------------------------------------------------

# `tools.sh start` (npm start's prestart): only what the embedded stack runs — the Temporal CLI dev server and
# FerretDB. Everything below them is for the tests, the cluster profile and the SDKs (npm test, start:cluster).
if [ "${1:-}" = "start" ]; then
  install_temporal & t=$!
  install_ferretdb & f=$!
  status=0
  wait $t || status=1
  wait $f || status=1
  exit $status
fi

# go/java sdk toolchains (block above): Go before anything is built with it
sdk_go=0
install_sdk_go_toolchain || sdk_go=1
# Built side by side: each spends most of its time fetching modules and linking.
install_temporal & t=$!
install_ferretdb & f=$!
status=0
wait $t || status=1
wait $f || status=1
# After the first two: they share most modules with the Temporal server.
install_temporal_server & s=$!
install_temporal_ui & u=$!
install_postgresql & p=$!
wait $s || status=1
wait $u || status=1
wait $p || status=1
# After PostgreSQL: both may need apt-get, which runs one at a time.
install_java_test_server || status=1
# python (block above): after the JDK, since apt-get runs one at a time
install_python || status=1
# go/java sdk toolchains (block above): after the JDK and Maven of the Java test server, apt-get one at a time
prepare_sdk_java || status=1
if [ "$sdk_go" = 0 ]; then prepare_sdk_go || status=1; else status=1; fi
exit $status
