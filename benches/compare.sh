#!/usr/bin/env bash
# Compare nimbus with moto on the SQS scenarios, plus startup time and idle memory.
#
#   bash benches/compare.sh
#
# Knobs (environment): CONNECTIONS=16 DURATION=10 WARMUP=2 THREADS=1 REPEAT=10
#   NIMBUS_PORT=4566 MOTO_PORT=5000 SCENARIOS="sqs-send sqs-cycle" SKIP_MOTO=1 SKIP_NIMBUS=1
# Results (one JSON file per run) stay in the directory printed at the end.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CONNECTIONS=${CONNECTIONS:-16}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-1}
REPEAT=${REPEAT:-10}
NIMBUS_PORT=${NIMBUS_PORT:-4566}
MOTO_PORT=${MOTO_PORT:-5000}
SCENARIOS=${SCENARIOS:-"sqs-send sqs-cycle"}
VENV=$ROOT/benches/.venv
OUT=$(mktemp -d /tmp/nimbus-compare.XXXXXX)
BENCH=$ROOT/target/release/nimbus-bench
SERVER_PID=""

log() { printf '\n== %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        port_open "$1" && return 0
        sleep 0.05
    done
    return 1
}

stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
trap stop_server EXIT

require_free() {
    if port_open "$1"; then
        echo "port $1 is already in use: stop what listens there (or set ${2}_PORT)" >&2
        exit 1
    fi
}

run_scenarios() { # label port
    local s
    for s in $SCENARIOS; do
        log "$1: $s ($CONNECTIONS connections, ${DURATION}s after ${WARMUP}s warm-up)"
        "$BENCH" "$s" --endpoint "http://127.0.0.1:$2" --connections "$CONNECTIONS" \
            --duration "$DURATION" --warmup "$WARMUP" --threads "$THREADS" \
            --label "$1" --json >"$OUT/$1-$s.json" || echo "  $1 $s failed" >&2
    done
}

log "building nimbus-bench"
cargo build --release -p nimbus-bench

# ---- nimbus -------------------------------------------------------------------
if [[ -z ${SKIP_NIMBUS:-} ]]; then
    log "building nimbus"
    if cargo build --release -p nimbus; then
        require_free "$NIMBUS_PORT" NIMBUS
        DATA=$(mktemp -d /tmp/nimbus-bench-data.XXXXXX)
        "$ROOT/target/release/nimbus" serve --port "$NIMBUS_PORT" --data-dir "$DATA" >"$OUT/nimbus.log" 2>&1 &
        SERVER_PID=$!
        if wait_port "$NIMBUS_PORT" 30; then
            run_scenarios nimbus "$NIMBUS_PORT"
        else
            echo "nimbus did not listen on $NIMBUS_PORT; its output:" >&2
            cat "$OUT/nimbus.log" >&2
        fi
        stop_server
        rm -rf "$DATA"

        log "nimbus: startup x$REPEAT"
        "$BENCH" startup --endpoint "http://127.0.0.1:$NIMBUS_PORT" --repeat "$REPEAT" --label nimbus --json \
            --server-cmd "exec '$ROOT/target/release/nimbus' serve --port $NIMBUS_PORT --data-dir {tmpdir}" \
            --ready line --ready-match ready >"$OUT/nimbus-startup.json" || echo "  nimbus startup failed" >&2
    else
        echo "nimbus does not build yet: skipping it" >&2
    fi
fi

# ---- moto ---------------------------------------------------------------------
if [[ -z ${SKIP_MOTO:-} ]]; then
    if [[ ! -x $VENV/bin/moto_server ]]; then
        log "creating $VENV with moto[server]"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --upgrade pip
        "$VENV/bin/pip" install --quiet 'moto[server]'
    fi
    MOTO_VERSION=$("$VENV/bin/python" -c 'import moto; print(moto.__version__)')
    if [[ ${MOTO_VERSION%%.*} -lt 5 ]]; then
        echo "moto $MOTO_VERSION answers SQS only over the query protocol; need moto >= 5" >&2
        exit 1
    fi
    require_free "$MOTO_PORT" MOTO
    log "moto $MOTO_VERSION on port $MOTO_PORT"
    "$VENV/bin/moto_server" -p "$MOTO_PORT" >"$OUT/moto.log" 2>&1 &
    SERVER_PID=$!
    if wait_port "$MOTO_PORT" 60; then
        run_scenarios moto "$MOTO_PORT"
    else
        echo "moto did not listen on $MOTO_PORT" >&2
        cat "$OUT/moto.log" >&2
    fi
    stop_server

    log "moto: startup x$REPEAT"
    "$BENCH" startup --endpoint "http://127.0.0.1:$MOTO_PORT" --repeat "$REPEAT" --label moto --json \
        --server-cmd "exec '$VENV/bin/moto_server' -p $MOTO_PORT" \
        --ready line --ready-match "Running on" >"$OUT/moto-startup.json" || echo "  moto startup failed" >&2
fi

# ---- table --------------------------------------------------------------------
log "results (raw JSON in $OUT)"
python3 - "$OUT" "$SCENARIOS" <<'EOF'
import json, os, sys

out, scenarios = sys.argv[1], sys.argv[2].split()
systems = ["nimbus", "moto"]

def load(system, name):
    path = os.path.join(out, f"{system}-{name}.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

rows = []
for s in scenarios:
    r = {sys_: load(sys_, s) for sys_ in systems}
    unit = next((x["throughput"]["unit"].split(" ")[0] for x in r.values() if x), "")
    rows.append((f"{s} throughput ({unit})", {k: v and v["throughput"]["value"] for k, v in r.items()}, "higher"))
    of = next((x["latency_ms"]["of"] for x in r.values() if x), "")
    rows.append((f"{s} {of} p50 (ms)", {k: v and v["latency_ms"]["p50"] for k, v in r.items()}, "lower"))
    rows.append((f"{s} {of} p99 (ms)", {k: v and v["latency_ms"]["p99"] for k, v in r.items()}, "lower"))
    rows.append((f"{s} errors", {k: v and v["errors"] for k, v in r.items()}, None))
st = {sys_: load(sys_, "startup") for sys_ in systems}
rows.append(("startup to ready, median (ms)", {k: v and v["ready_ms"]["median"] for k, v in st.items()}, "lower"))
rows.append(("idle RSS after 1 s, median (MiB)", {k: v and v["idle_rss_mib"]["median"] for k, v in st.items()}, "lower"))

def fmt(x):
    if x is None:
        return "n/a"
    return f"{x:,.1f}" if isinstance(x, float) else f"{x:,}"

def ratio(vals, better):
    a, b = vals.get("nimbus"), vals.get("moto")
    if better is None or not a or not b:
        return ""
    r = a / b if better == "higher" else b / a
    return f"{r:,.1f}x"

w = max(len(r[0]) for r in rows)
print(f"{'metric':<{w}}  {'nimbus':>12}  {'moto':>12}  {'nimbus advantage':>16}")
print("-" * (w + 48))
for name, vals, better in rows:
    print(f"{name:<{w}}  {fmt(vals.get('nimbus')):>12}  {fmt(vals.get('moto')):>12}  {ratio(vals, better):>16}")
any_json = next((load(s, sc) for s in systems for sc in scenarios if load(s, sc)), None)
if any_json:
    print(f"\nload: {any_json['connections']} connections, {any_json['duration_s']} s after "
          f"{any_json['warmup_s']} s warm-up, generator on {any_json['generator_threads']} runtime thread(s) "
          "(the default 1 leaves the other core of a 2-core machine to the server)")
EOF
