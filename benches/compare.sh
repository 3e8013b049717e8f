#!/usr/bin/env bash
# Compare nimbus with moto on the SQS and S3 scenarios, plus startup time and idle
# memory; then nimbus's Lambda scenarios against the issue's targets (moto's Lambda
# needs Docker, so it is not run there).
#
#   bash benches/compare.sh
#
# Knobs (environment): CONNECTIONS=16 DURATION=10 WARMUP=2 THREADS=1 REPEAT=10
#   NIMBUS_PORT=4566 MOTO_PORT=5000 NULL_PORT=4598 SKIP_MOTO=1 SKIP_NIMBUS=1 SKIP_NULL=1
#   SCENARIOS="sqs-send sqs-cycle s3-put-4k s3-get-4k s3-put-8m s3-get-8m"
#   LAMBDA_SCENARIOS="lambda-warm lambda-throughput lambda-cold" COLD_REPEAT=10
#   PAYLOAD_HASH=unsigned (or sha256) for the S3 PUTs
#   CLIENT=lean (or hyper): nimbus-bench's HTTP client for the S3 load loops
#   MOTO_VENV=benches/.venv (a venv whose bin/moto_server to use; created there if missing)
#   NO_BUILD=1: use the target/release binaries as they are (no cargo build)
#   PEERS="fakecloud ministack" (default empty): other emulators, each with its own
#     column, run on PEER_SCENARIOS (default: the s3-* ones of SCENARIOS) and startup.
#     Nothing is installed for them; point at an existing install:
#     FAKECLOUD_BIN=fakecloud (from PATH) FAKECLOUD_PORT=4593
#     MINISTACK_VENV=/tmp/peers/ministack-venv (a venv with `pip install ministack`)
#     MINISTACK_PORT=4594
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
NULL_PORT=${NULL_PORT:-4598}
SCENARIOS=${SCENARIOS:-"sqs-send sqs-cycle s3-put-4k s3-get-4k s3-put-8m s3-get-8m"}
LAMBDA_SCENARIOS=${LAMBDA_SCENARIOS:-"lambda-warm lambda-throughput lambda-cold"}
COLD_REPEAT=${COLD_REPEAT:-10}
PAYLOAD_HASH=${PAYLOAD_HASH:-unsigned}
CLIENT=${CLIENT:-lean}
VENV=${MOTO_VENV:-$ROOT/benches/.venv}
PEERS=${PEERS:-}
FAKECLOUD_BIN=${FAKECLOUD_BIN:-fakecloud}
FAKECLOUD_PORT=${FAKECLOUD_PORT:-4593}
MINISTACK_VENV=${MINISTACK_VENV:-/tmp/peers/ministack-venv}
MINISTACK_PORT=${MINISTACK_PORT:-4594}
if [[ -z ${PEER_SCENARIOS:-} ]]; then
    PEER_SCENARIOS=""
    for s in $SCENARIOS; do
        if [[ $s == s3-* ]]; then PEER_SCENARIOS+="$s "; fi
    done
fi
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

run_scenarios() { # label port [scenarios...]
    local s label=$1 port=$2
    shift 2
    for s in "$@"; do
        local extra=()
        case $s in
            s3-*) extra=(--server-pid "$SERVER_PID" --payload-hash "$PAYLOAD_HASH" --client "$CLIENT") ;;
            lambda-cold) extra=(--repeat "$COLD_REPEAT") ;;
        esac
        # Flush what the previous scenario wrote, so the kernel's writeback of it is
        # not billed to this one (an 8 MiB PUT run leaves gigabytes of dirty pages).
        sync
        log "$label: $s ($CONNECTIONS connections, ${DURATION}s after ${WARMUP}s warm-up)"
        "$BENCH" "$s" --endpoint "http://127.0.0.1:$port" --connections "$CONNECTIONS" \
            --duration "$DURATION" --warmup "$WARMUP" --threads "$THREADS" \
            --label "$label" --json "${extra[@]}" >"$OUT/$label-$s.json" || echo "  $label $s failed" >&2
    done
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ -n ${NO_BUILD:-} ]]; then
    [[ -x $BENCH ]] || { echo "NO_BUILD=1 but $BENCH is missing" >&2; exit 1; }
else
    log "building nimbus-bench"
    cargo build --release -p nimbus-bench
fi
build_nimbus() {
    if [[ -n ${NO_BUILD:-} ]]; then
        [[ -x $ROOT/target/release/nimbus ]]
    else
        log "building nimbus"
        cargo build --release -p nimbus
    fi
}

# ---- nimbus -------------------------------------------------------------------
if [[ -z ${SKIP_NIMBUS:-} ]]; then
    if build_nimbus; then
        require_free "$NIMBUS_PORT" NIMBUS
        DATA=$(mktemp -d /tmp/nimbus-bench-data.XXXXXX)
        "$ROOT/target/release/nimbus" serve --port "$NIMBUS_PORT" --data-dir "$DATA" >"$OUT/nimbus.log" 2>&1 &
        SERVER_PID=$!
        if wait_port "$NIMBUS_PORT" 30; then
            # shellcheck disable=SC2086
            run_scenarios nimbus "$NIMBUS_PORT" $SCENARIOS $LAMBDA_SCENARIOS
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
        # shellcheck disable=SC2086
        run_scenarios moto "$MOTO_PORT" $SCENARIOS
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

# ---- peers: other emulators, S3 scenarios and startup only -----------------------
# Each peer's command line (for both the load runs and the startup runs), the line
# it prints once it listens, and its version.
peer_cmd() { # name port
    case $1 in
        # Default storage mode `memory`; SigV4 signatures are parsed, not verified
        # (--verify-sigv4 is off by default, and the test/test keys bypass it anyway).
        fakecloud) echo "exec '$FAKECLOUD_BIN' --addr 127.0.0.1:$2 --log-level warn" ;;
        # S3 in memory (S3_PERSIST=0), no signature check (AUTH=false): its defaults.
        ministack) echo "exec env GATEWAY_PORT=$2 BIND_HOST=127.0.0.1 S3_PERSIST=0 AUTH=false '$MINISTACK_VENV/bin/ministack'" ;;
        *) return 1 ;;
    esac
}
peer_ready() {
    case $1 in
        # Printed to stdout at every log level once its port is bound, but before its
        # services' state is built (requests wait in the listen backlog until then).
        fakecloud) echo "FAKECLOUD_PORT=" ;;
        ministack) echo "Running on" ;;
    esac
}
peer_version() {
    case $1 in
        fakecloud) "$FAKECLOUD_BIN" --version 2>/dev/null | head -1 ;;
        ministack) "$MINISTACK_VENV/bin/python" -c 'import importlib.metadata as m; print("ministack", m.version("ministack"))' 2>/dev/null ;;
    esac
}
peer_port() {
    case $1 in
        fakecloud) echo "$FAKECLOUD_PORT" ;;
        ministack) echo "$MINISTACK_PORT" ;;
    esac
}

for peer in $PEERS; do
    port=$(peer_port "$peer") || true
    if ! cmd=$(peer_cmd "$peer" "$port"); then
        echo "unknown peer $peer (known: fakecloud ministack)" >&2
        exit 1
    fi
    version=$(peer_version "$peer" || true)
    if [[ -z $version ]]; then
        echo "$peer is not installed (FAKECLOUD_BIN / MINISTACK_VENV): skipping it" >&2
        continue
    fi
    echo "$version" >"$OUT/$peer.version"
    require_free "$port" "${peer^^}"
    log "$version on port $port"
    # The peer's temporary files (fakecloud spools each upload to a file in TMPDIR
    # before it keeps the body in memory) go to a directory removed afterwards.
    PEER_TMP=$(mktemp -d /tmp/nimbus-peer-tmp.XXXXXX)
    TMPDIR=$PEER_TMP sh -c "$cmd" >"$OUT/$peer.log" 2>&1 &
    SERVER_PID=$!
    if wait_port "$port" 60; then
        # shellcheck disable=SC2086
        run_scenarios "$peer" "$port" $PEER_SCENARIOS
    else
        echo "$peer did not listen on $port; its output:" >&2
        cat "$OUT/$peer.log" >&2
        for s in $PEER_SCENARIOS; do : >"$OUT/$peer-$s.json"; done # "failed" in the table
    fi
    stop_server
    rm -rf "$PEER_TMP"

    log "$peer: startup x$REPEAT"
    PEER_TMP=$(mktemp -d /tmp/nimbus-peer-tmp.XXXXXX)
    TMPDIR=$PEER_TMP "$BENCH" startup --endpoint "http://127.0.0.1:$port" --repeat "$REPEAT" --label "$peer" --json \
        --server-cmd "$cmd" --ready line --ready-match "$(peer_ready "$peer")" \
        >"$OUT/$peer-startup.json" || echo "  $peer startup failed" >&2
    rm -rf "$PEER_TMP"
done

# ---- the null S3 server: the ceiling this generator and machine allow ------------
if [[ -z ${SKIP_NULL:-} ]]; then
    for s in $SCENARIOS; do
        # As many distinct bodies as the scenario reads keys (nimbus-bench's defaults),
        # so the null server's bytes come from as much memory as a real server's.
        case $s in
            s3-*-4k) size=4096 bodies=256 ;;
            s3-*-8m) size=8388608 bodies=16 ;;
            *) continue ;;
        esac
        require_free "$NULL_PORT" NULL
        "$ROOT/target/release/nimbus-bench-null-s3" --port "$NULL_PORT" --size "$size" --bodies "$bodies" >"$OUT/null.log" 2>&1 &
        SERVER_PID=$!
        if wait_port "$NULL_PORT" 10; then
            run_scenarios null "$NULL_PORT" "$s"
        else
            echo "the null S3 server did not listen on $NULL_PORT" >&2
        fi
        stop_server
    done
fi

# ---- table --------------------------------------------------------------------
log "results (raw JSON in $OUT)"
echo "machine: $(nproc) cores; load average (1/5/15 min) at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT" "$SCENARIOS" "$LAMBDA_SCENARIOS" "$PEERS" <<'EOF'
import json, os, sys

out, scenarios, lambda_scenarios = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
peers = sys.argv[4].split()
# The issues' targets for nimbus (value, "min" or "max").
TARGETS = {
    "s3-put-4k": (40000, "min"), "s3-get-4k": (70000, "min"),
    "s3-put-8m": (1000, "min"), "s3-get-8m": (5000, "min"),
}
systems = ["nimbus", "moto", "null"] + peers

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
    rows.append((f"{s} throughput ({unit})", {k: v and v["throughput"]["value"] for k, v in r.items()}, "higher", TARGETS.get(s)))
    if s.startswith("s3-") and s.endswith("-8m"):
        rows.append((f"{s} ops/s", {k: v and v.get("ops_per_s") for k, v in r.items()}, "higher"))
    if s == "s3-put-8m":
        rows.append((f"{s} server peak RSS (MiB)",
                     {k: v and v.get("server_memory", {}).get("peak_rss_mib") for k, v in r.items()}, "lower"))
        rows.append((f"{s} peak RSS minus RSS before (MiB)",
                     {k: v and v.get("server_memory") and round(v["server_memory"]["peak_rss_mib"] - v["server_memory"]["rss_before_mib"], 1)
                      for k, v in r.items()}, "lower"))
    of = next((x["latency_ms"]["of"] for x in r.values() if x), "")
    rows.append((f"{s} {of} p50 (ms)", {k: v and v["latency_ms"]["p50"] for k, v in r.items()}, "lower"))
    rows.append((f"{s} {of} p99 (ms)", {k: v and v["latency_ms"]["p99"] for k, v in r.items()}, "lower"))
    # "failed": the generator ran but left no result (it could not even set up).
    rows.append((f"{s} errors", {k: v["errors"] if v else ("failed" if os.path.exists(os.path.join(out, f"{k}-{s}.json")) else None)
                                 for k, v in r.items()}, None))
st = {sys_: load(sys_, "startup") for sys_ in systems}
rows.append(("startup to ready, median (ms)", {k: v and v["ready_ms"]["median"] for k, v in st.items()}, "lower"))
rows.append(("idle RSS after 1 s, median (MiB)", {k: v and v["idle_rss_mib"]["median"] for k, v in st.items()}, "lower"))

def fmt(x):
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    return f"{x:,.1f}" if isinstance(x, float) else f"{x:,}"

def ratio(vals, better):
    a, b = vals.get("nimbus"), vals.get("moto")
    if better is None or not a or not b:
        return ""
    r = a / b if better == "higher" else b / a
    return f"{r:,.1f}x"

def target(t):
    if not t:
        return ""
    return f"{'>=' if t[1] == 'min' else '<='} {t[0]:,}"

w = max(len(r[0]) for r in rows)
print(f"{'metric':<{w}}  {'nimbus':>12}  {'moto':>12}  {'nimbus advantage':>16}  {'issue target':>14}  {'null server':>12}"
      + "".join(f"  {p:>12}" for p in peers))
print("-" * (w + 78 + 14 * len(peers)))
for row in rows:
    name, vals, better = row[:3]
    t = row[3] if len(row) > 3 else None
    print(f"{name:<{w}}  {fmt(vals.get('nimbus')):>12}  {fmt(vals.get('moto')):>12}  {ratio(vals, better):>16}  {target(t):>14}  {fmt(vals.get('null')):>12}"
          + "".join(f"  {fmt(vals.get(p)):>12}" for p in peers))
for p in peers:
    try:
        with open(os.path.join(out, f"{p}.version")) as f:
            print(f"{p}: {f.read().strip()}")
    except OSError:
        print(f"{p}: not installed, not run")

# Runs that failed outright (no JSON) or counted errors, with the generator's samples.
for sys_ in systems:
    for sc in scenarios:
        path = os.path.join(out, f"{sys_}-{sc}.json")
        if not os.path.exists(path):
            continue
        r = load(sys_, sc)
        if r is None:
            print(f"{sys_} {sc}: no result (the generator failed; see its output above)")
        elif r.get("errors"):
            print(f"{sys_} {sc}: {r['errors']:,} errors; samples:")
            for e in r.get("error_samples", [])[:5]:
                print(f"    {e}")

# Lambda: nimbus only (moto's Lambda needs Docker), beside the issue's targets.
lrows = []
warm = load("nimbus", "lambda-warm") if "lambda-warm" in lambda_scenarios else None
if warm:
    lrows.append(("lambda-warm invoke p50 (ms; no-op handler)", warm["latency_ms"]["p50"], "< 1 ms beyond the handler"))
    lrows.append(("lambda-warm invoke p99 (ms)", warm["latency_ms"]["p99"], ""))
    lrows.append(("lambda-warm sequential invokes/s", warm["throughput"]["value"], ""))
tp = load("nimbus", "lambda-throughput") if "lambda-throughput" in lambda_scenarios else None
if tp:
    lrows.append((f"lambda-throughput invokes/s ({tp['connections']} callers)", tp["throughput"]["value"], ""))
    lrows.append(("lambda-throughput invoke p50 / p99 (ms)", f"{tp['latency_ms']['p50']:.2f} / {tp['latency_ms']['p99']:.2f}", ""))
cold = load("nimbus", "lambda-cold") if "lambda-cold" in lambda_scenarios else None
if cold:
    for r in cold["runtimes"]:
        c = r["cold_invoke_ms"]
        lrows.append((f"cold start {r.get('short', r['runtime'])}: median (min..max) ms",
                      f"{c['p50']:.1f} ({c['min']:.1f}..{c['max']:.1f})",
                      "< 100 ms" if r["runtime"].startswith("python") else ""))
if lrows:
    w = max(len(r[0]) for r in lrows)
    print(f"\n{'lambda (nimbus; moto needs Docker)':<{w}}  {'nimbus':>22}  issue target")
    print("-" * (w + 50))
    for name, val, t in lrows:
        print(f"{name:<{w}}  {fmt(val) if not isinstance(val, str) else val:>22}  {t}")
any_json = next((load(s, sc) for s in systems for sc in scenarios if load(s, sc)), None)
if any_json:
    print(f"\nload: {any_json['connections']} connections, {any_json['duration_s']} s after "
          f"{any_json['warmup_s']} s warm-up, generator on {any_json['generator_threads']} runtime thread(s) "
          "(the default 1 leaves the other core of a 2-core machine to the server)")
    print("null server: nimbus-bench-null-s3 (fixed bodies, one per key, no signature check, nothing stored): "
          "the most any server can show on this machine with this generator")
EOF
