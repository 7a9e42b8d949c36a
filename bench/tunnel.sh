#!/usr/bin/env bash
# tunnel.sh compares hookrelay's tunnel with a direct connection in one run.
#
# It builds hookrelay, bench/echotarget and bench/loadgen into a temporary
# directory, starts echotarget, `hookrelay server` and `hookrelay client` on
# 127.0.0.1 with ports chosen at run time, then for every body size and
# concurrency runs loadgen against the target directly and through the tunnel,
# back to back. It prints a Markdown table, the time of one 25 MiB body, the
# peak RSS (VmHWM) of server and client, and a check of the targets in
# bench/README.md. Raw results go to bench/out/<timestamp>.jsonl.
#
# Environment:
#   QUICK=1          shorter runs (DURATION 2s, WARMUP 500ms)
#   DURATION=5s      measured time per run
#   WARMUP=1s        unrecorded load before each run
#   HOOKRELAY_BIN=   use this hookrelay executable instead of building ./cmd/hookrelay
#   WAIT_SECS=30     how long to wait for a process to print its ready line
#   KEEP_TMP=1       keep the temporary directory (binaries, logs)
#   STRICT=1         exit 3 when a target is missed
#   MODE=auto        the channel mode (--default-mode): auto, sync or async
#
# Exit status: 0 ok, 1 a request failed or the set-up broke, 3 a target was
# missed with STRICT=1.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init tunnel.sh hookrelay-bench
set_durations 2s 500ms 5s 1s
sizes=(1KiB 64KiB 1MiB)
concs=(1 16 64)
big_size=25MiB
big_runs=3

# ---- build -------------------------------------------------------------------

build loadgen
loadgen=$tmp/bin/loadgen

# ---- start -------------------------------------------------------------------

start_echotarget
mkdir -p "$tmp/data"
start_server server "$tmp/data" --default-mode "${MODE:-auto}" ||
	die "server exited with status $exited before printing a line matching /^hookrelay: listening on /"
start_client client

direct_url=$target_url/echo
tunnel_url=$server_url/webhook/bench/echo
log "direct $direct_url"
log "tunnel $tunnel_url"

# Fail fast if the tunnel does not work at all.
"$loadgen" --url "$tunnel_url" --body-size 1KiB --requests 1 --warmup 0 --duration 10s >/dev/null ||
	die "a first request through the tunnel failed"

# ---- measure -----------------------------------------------------------------

open_results ""
printf '{"kind":"meta","time":"%s","git":"%s","dirty":%s,"go":"%s","cpus":%s,"duration":"%s","warmup":"%s","hookrelay":"%s"}\n' \
	"$stamp" "$rev" "$dirty" "$(go env GOVERSION)" "$(nproc)" "$duration" "$warmup" "$hookrelay_src" >"$jsonl"

# load URL SIZE CONC [LOADGEN FLAGS...] runs loadgen, appends its line to
# the JSONL file and sets line. A run with failed requests is recorded and
# counted, not fatal: the table shows it.
load() {
	local rc=0
	line=$("$loadgen" --url "$1" --body-size "$2" --concurrency "$3" "${@:4}") || rc=$?
	[[ -n $line ]] || die "loadgen printed no result for $1 $2 c$3"
	echo "$line" >>"$jsonl"
	if ((rc)); then failed=$((failed + 1)); fi
	check_alive
}

# cell LINE prints "p50 / p99" of a loadgen line, with its error count if any.
cell() {
	local c
	c=$(calc 'printf "%.2f / %.2f", v1, v2' "$(field "$1" p50_ms)" "$(field "$1" p99_ms)")
	local errs
	errs=$(field "$1" errors)
	if ((errs > 0)); then c+=" ($errs errors)"; fi
	echo "$c"
}

log "measuring ${#sizes[@]} sizes x ${#concs[@]} concurrencies, direct then tunnel, $duration each after $warmup warmup"
say ""
say "| size | conc | direct rps | tunnel rps | ratio | direct p50/p99 ms | tunnel p50/p99 ms |"
say "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
declare -A ratio
for size in "${sizes[@]}"; do
	for conc in "${concs[@]}"; do
		log "$size c$conc"
		load "$direct_url" "$size" "$conc" --duration "$duration" --warmup "$warmup"
		d=$line
		load "$tunnel_url" "$size" "$conc" --duration "$duration" --warmup "$warmup"
		t=$line
		drps=$(field "$d" rps)
		trps=$(field "$t" rps)
		ratio[$size/$conc]=$(calc 'if (v1 > 0) printf "%.2f", v2 / v1; else print "n/a"' "$drps" "$trps")
		say "| $size | $conc | $(calc 'printf "%.0f", v1' "$drps") | $(calc 'printf "%.0f", v1' "$trps") | ${ratio[$size/$conc]} | $(cell "$d") | $(cell "$t") |"
	done
done

# The matrix ends with its heaviest row (1 MiB, c64); read the peaks now,
# before the single large body raises them.
server_hwm_matrix=$(vmhwm_mib "$server_pid")
client_hwm_matrix=$(vmhwm_mib "$client_pid")

log "$big_size x $big_runs, direct then tunnel"
big_flags=(--requests "$big_runs" --warmup 0 --duration 30m --timeout 5m)
load "$direct_url" "$big_size" 1 "${big_flags[@]}"
big_d=$(field "$line" p50_ms)
big_derr=$(field "$line" errors)
load "$tunnel_url" "$big_size" 1 "${big_flags[@]}"
big_t=$(field "$line" p50_ms)
big_terr=$(field "$line" errors)
big_ratio=$(calc 'if (v1 > 0) printf "%.2f", v2 / v1; else print "n/a"' "$big_d" "$big_t")
say ""
big_note=""
if ((big_derr + big_terr > 0)); then big_note=" (errors: direct $big_derr, tunnel $big_terr)"; fi
say "$big_size body, median of $big_runs: direct $(calc 'printf "%.1f", v1' "$big_d") ms, tunnel $(calc 'printf "%.1f", v1' "$big_t") ms, tunnel/direct time ${big_ratio}x$big_note"

server_hwm=$(vmhwm_mib "$server_pid")
client_hwm=$(vmhwm_mib "$client_pid")
say ""
say "Peak RSS (VmHWM), MiB: after the table (1 MiB c64 is its last row): server $server_hwm_matrix, client $client_hwm_matrix;" \
	"after the whole run ($big_size included): server $server_hwm, client $client_hwm"
printf '{"kind":"rss","server_vmhwm_mib_table":%s,"client_vmhwm_mib_table":%s,"server_vmhwm_mib":%s,"client_vmhwm_mib":%s}\n' \
	"$server_hwm_matrix" "$client_hwm_matrix" "$server_hwm" "$client_hwm" >>"$jsonl"

reconnects=$(count_reconnects client)
if ((reconnects > 0)); then
	say ""
	say "WARNING: the client reconnected $reconnects time(s) during the run; the tunnel numbers include the outages."
fi

# ---- targets -----------------------------------------------------------------

say ""
say "Targets:"
target "ratio 1KiB c16" "${ratio[1KiB/16]}" '>=' 0.25
target "ratio 1MiB c16" "${ratio[1MiB/16]}" '>=' 0.2
target "server peak RSS MiB with 1MiB c64" "$server_hwm_matrix" '<=' 80
target "$big_size tunnel/direct time" "$big_ratio" '<=' 8

finish loadgen
