#!/usr/bin/env bash
# What one `cronlock` run costs a host: wall time of `cronlock --key k -- true` against `true` and
# `flock -n /tmp/f true` (hyperfine), and cronlock's maximum resident set size while `-- sleep 1`
# runs (/usr/bin/time -v). Builds a static-stdlib release cronlock, starts three redis-servers of its
# own in a temporary folder, each on a Unix socket, a plain TCP port and a TLS port on 127.0.0.1
# (certificates made there with openssl: a CA and a server certificate for 127.0.0.1), stops them by
# pid on exit, and writes Benchmarks/compare/results/cronlock-cost.md. Beside the Unix-socket rows,
# `cronlock -- true` over plain TCP (redis://) against TLS (rediss://, --tls-ca-file): what TLS adds
# to one run (three handshakes).
#
#   Benchmarks/cronlock-cost.sh                 # from the repository root (or anywhere)
#   CRONLOCK=/path/to/cronlock Benchmarks/cronlock-cost.sh   # skip the build, use that binary
#   RUNS=100 OUT=/path/result.md Benchmarks/cronlock-cost.sh  # fewer runs, results elsewhere
#
# Needs the Debian packages hyperfine, time (for /usr/bin/time), util-linux (flock), redis-server,
# redis-tools (redis-cli), openssl, python3.
# Targets (benchmark issue): cronlock ≤ 2× flock's mean wall time, max RSS ≤ 12 MB.
set -euo pipefail
benchmarks="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$benchmarks")"
out="${OUT:-$benchmarks/compare/results/cronlock-cost.md}"
runs="${RUNS:-200}"

for tool in hyperfine /usr/bin/time flock redis-server redis-cli openssl python3; do
    command -v "$tool" >/dev/null || { echo "cronlock-cost: $tool not found" >&2; exit 1; }
done

if [[ -z "${CRONLOCK:-}" ]]; then
    swift build -c release --static-swift-stdlib --product cronlock --package-path "$root" \
        --scratch-path "$root/.build-release" >&2
    CRONLOCK="$(swift build -c release --static-swift-stdlib --package-path "$root" --scratch-path "$root/.build-release" --show-bin-path)/cronlock"
fi

work="$(mktemp -d /tmp/cronlock-cost.XXXXXX)"
pids=()
stop_servers() {
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap stop_servers EXIT
trap 'exit 143' TERM INT

# A CA and, signed by it, a server certificate for 127.0.0.1 (EC P-256), for the TLS ports.
(
    cd "$work"
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    echo "subjectAltName=DNS:localhost,IP:127.0.0.1" > san.cnf
    openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 1 -subj "/CN=cronlock-cost CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -new "${ec[@]}" -keyout server.key -out server.csr -subj /CN=localhost
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile san.cnf -out server.pem
) >/dev/null 2>&1 || { echo "cronlock-cost: making the TLS certificates with openssl failed" >&2; exit 1; }
# Six free loopback ports (the kernel's picks), three plain and three TLS.
read -r -a ports <<< "$(python3 -c '
import socket
probes = [socket.socket() for _ in range(6)]
for probe in probes: probe.bind(("127.0.0.1", 0))
print(" ".join(str(probe.getsockname()[1]) for probe in probes))')"

servers=() tcp_servers=() tls_servers=()
for index in 1 2 3; do
    socket="$work/redis-$index.sock"
    port="${ports[$((index - 1))]}" tls_port="${ports[$((index + 2))]}"
    # With AOF: cronlock's restart guard does not count grants from servers that started
    # less than its TTL ago without persistence.
    redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$socket" --unixsocketperm 700 --save "" \
        --tls-port "$tls_port" --tls-cert-file "$work/server.pem" --tls-key-file "$work/server.key" \
        --tls-ca-cert-file "$work/ca.pem" --tls-auth-clients no \
        --appendonly yes --appendfsync no --appendfilename "redis-$index.aof" \
        --dir "$work" --logfile "$work/redis-$index.log" &
    pids+=("$!")
    servers+=(--server "unix://$socket")
    tcp_servers+=(--server "redis://127.0.0.1:$port")
    tls_servers+=(--server "rediss://127.0.0.1:$tls_port")
done
for index in 1 2 3; do
    socket="$work/redis-$index.sock"
    for _ in $(seq 100); do
        [[ "$(redis-cli -s "$socket" ping 2>/dev/null)" == PONG ]] && break
        sleep 0.05
    done
    [[ "$(redis-cli -s "$socket" ping 2>/dev/null)" == PONG ]] || { echo "cronlock-cost: redis-server $index did not start" >&2; exit 1; }
done

cronlock=("$CRONLOCK" --key k "${servers[@]}" --min-hold 0s)
cronlock_tcp=("$CRONLOCK" --key k "${tcp_servers[@]}" --min-hold 0s)
cronlock_tls=("$CRONLOCK" --key k "${tls_servers[@]}" --tls-ca-file "$work/ca.pem" --min-hold 0s)
for check in "${cronlock[*]}" "${cronlock_tcp[*]}" "${cronlock_tls[*]}"; do
    $check -- true || { echo "cronlock-cost: $check -- true failed (exit $?)" >&2; exit 1; }
done
lockfile="$work/flock"

head -1 /proc/stat > "$work/stat.before"
hyperfine --shell=none --warmup 20 --runs "$runs" --style basic --time-unit millisecond \
    --export-json "$work/hyperfine.json" --export-markdown "$work/hyperfine.md" \
    -n true true \
    -n 'flock -n f true' "flock -n $lockfile true" \
    -n 'cronlock --key k (3 servers) --min-hold 0s -- true' "${cronlock[*]} -- true" \
    -n 'cronlock --no-job-control (same)' "${cronlock[*]} --no-job-control -- true" \
    -n 'cronlock over TCP' "${cronlock_tcp[*]} -- true" \
    -n 'cronlock over TLS' "${cronlock_tls[*]} -- true" >&2
head -1 /proc/stat > "$work/stat.after"

rss_kb() {  # maximum RSS in kB of one run of "$@", as /usr/bin/time -v reports it
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'
}
rss_samples=()
for _ in 1 2 3; do rss_samples+=("$(rss_kb "${cronlock[@]}" -- sleep 1)"); done
flock_rss="$(rss_kb flock -n "$lockfile" sleep 1)"
sleep_rss="$(rss_kb sleep 1)"

python3 - "$work" "$out" "$CRONLOCK" "$flock_rss" "$sleep_rss" "${rss_samples[@]}" <<'EOF'
import json, os, platform, subprocess, sys
work, out, binary, flock_rss, sleep_rss, *rss = sys.argv[1:]
hyper = os.path.join(work, "hyperfine.json")
def stat(name):
    fields = [int(v) for v in open(os.path.join(work, name)).read().split()[1:9]]
    return sum(fields) - fields[3] - fields[4], sum(fields)  # busy (all but idle, iowait), total
(busy0, total0), (busy1, total1) = stat("stat.before"), stat("stat.after")
busy_pct = 100 * (busy1 - busy0) / max(1, total1 - total0)
results = {r["command"]: r for r in json.load(open(hyper))["results"]}
def row(name):
    r = results[name]
    return r["mean"] * 1e3, r["stddev"] * 1e3, r["median"] * 1e3, r["min"] * 1e3
true, flock = row("true"), row("flock -n f true")
cron = row("cronlock --key k (3 servers) --min-hold 0s -- true")
plain = row("cronlock --no-job-control (same)")
tcp, tls = row("cronlock over TCP"), row("cronlock over TLS")
rss_mb = sorted(int(kb) / 1024 for kb in rss)
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
size = os.path.getsize(binary) / 1024 / 1024
lines = [
    "**cronlock process cost** (`Benchmarks/cronlock-cost.sh`: static-stdlib release build, "
    f"{size:.1f} MB binary; 3 local redis-servers, each on a Unix socket, a TCP port and a TLS port; hyperfine, "
    f"{results['true']['times'].__len__()} runs each)",
    "",
    "| command | mean ms | ± σ | median ms | min ms | × flock (mean) | × flock (median) |",
    "|---|---|---|---|---|---|---|",
]
for name, (mean, sd, median, low) in [("`true`", true), ("`flock -n f true`", flock),
                                      ("`cronlock --key k --server ×3 --min-hold 0s -- true`", cron),
                                      ("the same with `--no-job-control`", plain),
                                      ("the same over TCP, `redis://127.0.0.1:…`", tcp),
                                      ("the same over TLS, `rediss://127.0.0.1:…` `--tls-ca-file`", tls)]:
    lines.append(f"| {name} | {mean:.2f} | {sd:.2f} | {median:.2f} | {low:.2f} | {mean / flock[0]:.2f}× | {median / flock[2]:.2f}× |")
lines += [
    "",
    f"Max RSS of cronlock while `-- sleep 1` runs (3 runs): {', '.join(f'{v:.1f}' for v in rss_mb)} MB "
    f"(`flock -n f sleep 1`: {int(flock_rss) / 1024:.1f} MB, `sleep 1`: {int(sleep_rss) / 1024:.1f} MB).",
    "",
    "Targets (benchmark issue), as measured:",
    f"  [{'met' if cron[0] <= 2 * flock[0] else 'MISSED'}] cronlock -- true ≤ 2× flock -n (mean wall): "
    f"{cron[0] / flock[0]:.2f}× ({cron[0]:.2f} ms vs {flock[0]:.2f} ms)",
    f"  [{'met' if rss_mb[-1] <= 12 else 'MISSED'}] max RSS ≤ 12 MB: {rss_mb[-1]:.1f} MB (largest of 3)",
    f"  [{'met' if cron[2] <= 1.1 * plain[2] else 'MISSED'}] job control on ≤ 1.1× off (median wall, job-control issue): "
    f"{cron[2] / plain[2]:.2f}× ({cron[2]:.2f} ms vs {plain[2]:.2f} ms; mean {cron[0] / plain[0]:.2f}×)",
    f"  [shown] cronlock -- true over TLS against plain TCP (3 handshakes per run): mean {tls[0] / tcp[0]:.2f}×, "
    f"median {tls[2] / tcp[2]:.2f}× (+{tls[2] - tcp[2]:.2f} ms median)",
    "",
    f"Machine: {os.cpu_count()} × {model}, Linux {platform.release()}; the whole machine was {busy_pct:.0f} % busy "
    "during the hyperfine runs (these commands included: a shared machine shows in the spread). "
    f"{subprocess.run(['hyperfine', '--version'], capture_output=True, text=True).stdout.strip()}.",
]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
echo "wrote $out" >&2
