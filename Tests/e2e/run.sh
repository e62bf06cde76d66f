#!/usr/bin/env bash
# End-to-end tests of `kinko serve` against a fresh demo exchange.
#
#   Tests/e2e/run.sh [console|contract|all]      (default: all)
#
#   console   Selenium + headless Chromium: sign-in, overview figures = API figures, roles, sign-out
#   contract  Schemathesis against openapi.yaml and the live server
#
# Starts `$KINKO_BIN serve --demo` on a free loopback port in a temporary directory, waits for
# /readyz, runs the tests with the demo admin token, then stops the server with SIGTERM and
# checks it exits 0 within 30 s. Install the tools first with Tests/e2e/setup.sh.
#
# Environment:
#   KINKO_BIN                  server binary (default <repo>/.build/debug/kinko)
#   KINKO_E2E_VENV             Python venv with selenium and schemathesis (default <repo>/.build-e2e/venv)
#   KINKO_SPEC                 OpenAPI document (default <repo>/Sources/KinkoServer/openapi.yaml)
#   KINKO_E2E_OUT              where logs and reports go (default <repo>/.build-e2e/last-run, emptied first)
#   KINKO_E2E_MAX_EXAMPLES     schemathesis --max-examples per operation (default 40)
#   KINKO_E2E_WORKERS          schemathesis --workers (default 1)
#   KINKO_E2E_SEED             a seed instead of the default --generation-deterministic
#   KINKO_E2E_CONTRACT_TIMEOUT hard limit on each contract run in seconds (default 300)
#   KINKO_E2E_CONTRACT_ROLES   demo roles to fuzz as, one run each (default "admin operator treasurer finance compliance")
#   KINKO_E2E_CONTRACT_JOBS    contract runs at once, each as its own role (default 1)
#   KINKO_E2E_COVERAGE_ROLES   roles whose run includes Schemathesis's coverage phase (default: all of
#                              them); the others run examples, fuzzing and stateful only
#   KINKO_E2E_READY_TIMEOUT    seconds to wait for /readyz (default 120)
#   KINKO_E2E_ST_ARGS          extra schemathesis arguments (word-split), e.g. "--continue-on-failure"
#   KINKO_E2E_KEEP=1           keep the temporary directory (database, tokens)
set -uo pipefail

MODE=${1:-all}
case "$MODE" in
    console | contract | all) ;;
    -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [console|contract|all]" >&2; exit 2 ;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KINKO_BIN=${KINKO_BIN:-$ROOT/.build/debug/kinko}
VENV=${KINKO_E2E_VENV:-$ROOT/.build-e2e/venv}
SPEC=${KINKO_SPEC:-$ROOT/Sources/KinkoServer/openapi.yaml}
OUT=${KINKO_E2E_OUT:-$ROOT/.build-e2e/last-run}
MAX_EXAMPLES=${KINKO_E2E_MAX_EXAMPLES:-40}
WORKERS=${KINKO_E2E_WORKERS:-1}
CONTRACT_TIMEOUT=${KINKO_E2E_CONTRACT_TIMEOUT:-300}
READY_TIMEOUT=${KINKO_E2E_READY_TIMEOUT:-120}
CONTRACT_ROLES=${KINKO_E2E_CONTRACT_ROLES:-admin operator treasurer finance compliance}
CONTRACT_JOBS=${KINKO_E2E_CONTRACT_JOBS:-1}
COVERAGE_ROLES=${KINKO_E2E_COVERAGE_ROLES:-$CONTRACT_ROLES}
case "$CONTRACT_JOBS" in '' | *[!0-9]* | 0) echo "KINKO_E2E_CONTRACT_JOBS must be a whole number from 1, not '$CONTRACT_JOBS'" >&2; exit 2 ;; esac
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance

say() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { say "ERROR: $*" >&2; exit 2; }

[ -x "$KINKO_BIN" ] || die "KINKO_BIN=$KINKO_BIN is not an executable (build kinko and set KINKO_BIN)"
[ -x "$VENV/bin/python" ] || die "no venv at $VENV (run Tests/e2e/setup.sh)"
[ -f "$SPEC" ] || die "no OpenAPI document at $SPEC"
PY="$VENV/bin/python"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kinko-e2e.XXXXXX")
rm -rf "$OUT" && mkdir -p "$OUT"
SERVER_LOG="$OUT/server.log"
SERVER_PID=
FAILED=0
PASSED=0
RESULTS=()
declare -A LANE_ROLE=() # pid -> role of each contract run under way in parallel

record() { # name rc
    if [ "$2" -eq 0 ]; then PASSED=$((PASSED + 1)); RESULTS+=("PASS $1"); else FAILED=$((FAILED + 1)); RESULTS+=("FAIL $1 (exit $2)"); fi
}

log_tail() {
    [ -f "$SERVER_LOG" ] || return 0
    echo "----- server log (last 60 lines of $SERVER_LOG) -----" >&2
    tail -n 60 "$SERVER_LOG" >&2
    echo "----- end of server log -----" >&2
}

cleanup() {
    local rc=$?
    for pid in "${!LANE_ROLE[@]}"; do pkill -TERM -P "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 1 20); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$SERVER_PID" 2>/dev/null
    fi
    if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then log_tail; fi
    if [ "${KINKO_E2E_KEEP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ start the server
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE="http://127.0.0.1:$PORT"
say "starting $KINKO_BIN serve --demo on $BASE (data in $TMP, logs in $OUT)"
(cd "$TMP" && exec "$KINKO_BIN" serve --demo --database "$TMP/kinko.sqlite" --host 127.0.0.1 --port "$PORT") >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

started=$(date +%s)
if ! python3 - "$BASE/readyz" "$READY_TIMEOUT" "$SERVER_PID" <<'EOF'
import os, sys, time, urllib.request
url, timeout, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        print(f"the server exited before it was ready", file=sys.stderr); sys.exit(1)
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            if r.status == 200: sys.exit(0)
    except Exception:
        pass
    time.sleep(0.5)
print(f"{url} not ready after {timeout:.0f}s", file=sys.stderr); sys.exit(1)
EOF
then
    FAILED=$((FAILED + 1)); say "server did not become ready"; exit 1
fi
say "ready after $(($(date +%s) - started))s"

TOKENS="$TMP/demo-tokens.json"
[ -f "$TOKENS" ] || { FAILED=$((FAILED + 1)); say "no $TOKENS"; exit 1; }
ADMIN_TOKEN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin"])' "$TOKENS") || { FAILED=$((FAILED + 1)); say "no admin token in $TOKENS"; exit 1; }

# ------------------------------------------------------------------ console (first: the contract run changes data)
if [ "$MODE" = console ] || [ "$MODE" = all ]; then
    say "console test (selenium, headless chromium)"
    "$PY" "$HERE/console_test.py" --base-url "$BASE" --token "$ADMIN_TOKEN" --tokens-file "$TOKENS" --screenshots "$OUT/screenshots" \
        --kinko-bin "$KINKO_BIN" --database "$TMP/kinko.sqlite" 2>&1 | tee "$OUT/console.log"
    record console "${PIPESTATUS[0]}"
fi

# ------------------------------------------------------------------ contract
# One run per role; up to $CONTRACT_JOBS at once (each Schemathesis process is one Python thread,
# so a second lane uses the second core once the other tests are done). A parallel run writes
# its log to a file and prints it when it ends, so logs never interleave.
has_coverage() { case " $COVERAGE_ROLES " in *" $1 "*) return 0 ;; esac; return 1; }
contract_run() { # role token
    local role=$1 token=$2 phases=()
    has_coverage "$role" || phases=(--phases examples,fuzzing,stateful)
    # shellcheck disable=SC2086
    SCHEMATHESIS_HOOKS="$HERE/schemathesis_hooks.py" timeout -k 10 "$CONTRACT_TIMEOUT" \
        "$VENV/bin/schemathesis" run "$SPEC" --url "$BASE" -H "Authorization: Bearer $token" \
        --checks "$CHECKS" --workers "$WORKERS" --max-examples "$MAX_EXAMPLES" "${GEN[@]}" \
        --request-timeout 30 --no-color --report junit,ndjson --report-dir "$OUT/schemathesis-$role" \
        "${phases[@]}" ${KINKO_E2E_ST_ARGS:-}
}
contract_done() { # role rc
    [ "$2" -eq 124 ] && say "contract run as $1 hit the ${CONTRACT_TIMEOUT}s limit"
    record "contract-$1" "$2"
}
reap_lane() { # waits for one parallel run, prints its log and records it
    local finished= rc=0 role
    wait -n -p finished "${!LANE_ROLE[@]}" || rc=$?
    role=${LANE_ROLE[$finished]}; unset "LANE_ROLE[$finished]"
    say "contract run as $role ended ($rc); its log:"; cat "$OUT/contract-$role.log"
    contract_done "$role" "$rc"
}
if [ "$MODE" = contract ] || [ "$MODE" = all ]; then
    if [ -n "${KINKO_E2E_SEED:-}" ]; then GEN=(--seed "$KINKO_E2E_SEED"); else GEN=(--generation-deterministic); fi
    for role in $CONTRACT_ROLES; do
        token=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$TOKENS" "$role") || { record "contract-$role" 2; continue; }
        while [ "${#LANE_ROLE[@]}" -gt 0 ] && [ "${#LANE_ROLE[@]}" -ge "$CONTRACT_JOBS" ]; do
            reap_lane
        done
        if has_coverage "$role"; then phase_note="all phases"; else phase_note="no coverage phase"; fi
        say "contract test as $role (schemathesis, max-examples $MAX_EXAMPLES, workers $WORKERS, ${GEN[*]}, lanes $CONTRACT_JOBS, $phase_note)"
        if [ "$CONTRACT_JOBS" -eq 1 ]; then
            contract_run "$role" "$token" 2>&1 | tee "$OUT/contract-$role.log"
            contract_done "$role" "${PIPESTATUS[0]}"
            continue
        fi
        contract_run "$role" "$token" >"$OUT/contract-$role.log" 2>&1 &
        LANE_ROLE[$!]=$role
    done
    while [ "${#LANE_ROLE[@]}" -gt 0 ]; do
        reap_lane
    done
fi

# ------------------------------------------------------------------ graceful shutdown
say "SIGTERM to the server (pid $SERVER_PID)"
kill -TERM "$SERVER_PID"
stopped=
for _ in $(seq 1 60); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then stopped=1; break; fi
    sleep 0.5
done
if [ -n "$stopped" ]; then
    wait "$SERVER_PID"; rc=$?
    SERVER_PID=
    [ "$rc" -eq 0 ] || say "the server exited with $rc after SIGTERM"
    record shutdown "$rc"
else
    say "the server was still running 30 s after SIGTERM"
    record shutdown 1
fi

for line in "${RESULTS[@]}"; do say "$line"; done
say "artifacts in $OUT"
echo "e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
