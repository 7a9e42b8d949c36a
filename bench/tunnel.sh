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
#
# Exit status: 0 ok, 1 a request failed or the set-up broke, 3 a target was
# missed with STRICT=1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=${QUICK:-0}
if [[ $quick == 1 ]]; then
	duration=${DURATION:-2s}
	warmup=${WARMUP:-500ms}
else
	duration=${DURATION:-5s}
	warmup=${WARMUP:-1s}
fi
wait_secs=${WAIT_SECS:-30}
sizes=(1KiB 64KiB 1MiB)
concs=(1 16 64)
big_size=25MiB
big_runs=3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hookrelay-bench.XXXXXX")
pids=()
names=()

# stop_all sends SIGTERM to every process this script started, waits up to
# 5 s for them, then sends SIGKILL to the rest.
stop_all() {
	local pid i
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for ((i = 0; i < 50; i++)); do
		local alive=0
		for pid in "${pids[@]}"; do
			if kill -0 "$pid" 2>/dev/null; then alive=1; fi
		done
		((alive)) || break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_all
	if [[ ${KEEP_TMP:-0} == 1 ]]; then
		echo "tunnel.sh: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "tunnel.sh: $*" >&2; }

# show_logs prints the tail of every started process's stdout and stderr.
show_logs() {
	local n
	for n in "${names[@]}"; do
		for f in "$tmp/$n.out" "$tmp/$n.err"; do
			if [[ -s $f ]]; then
				echo "--- $(basename "$f") (last 20 lines)" >&2
				tail -n 20 "$f" >&2
			fi
		done
	done
}

die() {
	log "error: $*"
	show_logs
	exit 1
}

# start NAME CMD... runs CMD in the background with its output in
# $tmp/NAME.out and $tmp/NAME.err, and sets started_pid. CMD is exec'ed by the
# background child, so started_pid is the process itself (its VmHWM is the
# one we want), not a wrapper shell.
start() {
	local name=$1
	shift
	: >"$tmp/$name.out" # exists before the child opens it, for wait_line
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	started_pid=$!
	pids+=("$started_pid")
	names+=("$name")
}

# wait_line NAME PID REGEX waits at most wait_secs for a line of NAME's
# stdout matching the extended REGEX and sets ready to it; it dies if PID
# exits first. It must not run in a subshell: die has to end the script.
wait_line() {
	local name=$1 pid=$2 re=$3
	local deadline=$((SECONDS + wait_secs))
	while ((SECONDS < deadline)); do
		if ready=$(grep -E -m1 -- "$re" "$tmp/$name.out"); then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			local rc=0
			wait "$pid" || rc=$?
			die "$name exited with status $rc before printing a line matching /$re/"
		fi
		sleep 0.1
	done
	die "$name printed no line matching /$re/ within ${wait_secs}s"
}

# check_alive dies if the server or the client has exited.
check_alive() {
	if ! kill -0 "$server_pid" 2>/dev/null; then die "hookrelay server exited during the benchmark"; fi
	if ! kill -0 "$client_pid" 2>/dev/null; then die "hookrelay client exited during the benchmark"; fi
}

# loopback_url LINE PREFIX sets url to the http://127.0.0.1:PORT that
# follows PREFIX in LINE, and dies if LINE is not exactly that.
loopback_url() {
	url=$(sed -nE "s#^$2(http://127\.0\.0\.1:[0-9]+)/?\$#\1#p" <<<"$1")
	[[ -n $url ]] || die "expected \"$2http://127.0.0.1:PORT\", got: $1"
}

# vmhwm_mib PID prints the peak resident set size of PID in MiB.
vmhwm_mib() {
	awk '/^VmHWM:/ { printf "%.1f", $2 / 1024; found = 1 } END { exit !found }' "/proc/$1/status" ||
		die "no VmHWM for pid $1"
}

# field JSON KEY prints the value of a number field of a loadgen line.
field() { sed -nE "s/.*\"$2\":(-?[0-9.eE+]+).*/\1/p" <<<"$1"; }

# calc EXPR... evaluates an awk expression; the arguments are v1, v2, ...
calc() {
	local expr=$1
	shift
	awk -v v1="${1:-0}" -v v2="${2:-0}" "BEGIN { $expr }"
}

# say prints a result line to stdout and to the Markdown copy.
say() { echo "$*" | tee -a "$md"; }

# ---- build -------------------------------------------------------------------

command -v go >/dev/null || die "go is not on PATH"
mkdir -p "$tmp/bin" "$tmp/data" "$tmp/config"
log "building into $tmp/bin"
(cd "$root" && go build -o "$tmp/bin/echotarget" ./bench/echotarget && go build -o "$tmp/bin/loadgen" ./bench/loadgen) ||
	die "building bench tools failed"
if [[ -n ${HOOKRELAY_BIN:-} ]]; then
	[[ -x $HOOKRELAY_BIN ]] || die "HOOKRELAY_BIN=$HOOKRELAY_BIN is not an executable"
	hookrelay=$HOOKRELAY_BIN
	log "using HOOKRELAY_BIN=$hookrelay"
else
	compgen -G "$root/cmd/hookrelay/*.go" >/dev/null ||
		die "cmd/hookrelay has no Go files yet; set HOOKRELAY_BIN to a hookrelay executable"
	(cd "$root" && go build -o "$tmp/bin/hookrelay" ./cmd/hookrelay) || die "building ./cmd/hookrelay failed"
	hookrelay=$tmp/bin/hookrelay
fi
hookrelay_src=${HOOKRELAY_BIN:-./cmd/hookrelay}
loadgen=$tmp/bin/loadgen

# ---- start -------------------------------------------------------------------

# The client keeps its token under $XDG_CONFIG_HOME/hookrelay: never touch
# the user's own.
export XDG_CONFIG_HOME=$tmp/config

start echotarget "$tmp/bin/echotarget" --listen 127.0.0.1:0
target_pid=$started_pid
wait_line echotarget "$target_pid" '^listening on '
loopback_url "$ready" 'listening on '
target_url=$url

start server "$hookrelay" server --listen 127.0.0.1:0 --data "$tmp/data"
server_pid=$started_pid
wait_line server "$server_pid" '^hookrelay: listening on '
loopback_url "$ready" 'hookrelay: listening on '
server_url=$url

start client "$hookrelay" client --server "$server_url" --to "$target_url" --channel bench --quiet
client_pid=$started_pid
wait_line client "$client_pid" '\bconnected\b'

direct_url=$target_url/echo
tunnel_url=$server_url/webhook/bench/echo
log "direct $direct_url"
log "tunnel $tunnel_url"

# Fail fast if the tunnel does not work at all.
"$loadgen" --url "$tunnel_url" --body-size 1KiB --requests 1 --warmup 0 --duration 10s >/dev/null ||
	die "a first request through the tunnel failed"

# ---- measure -----------------------------------------------------------------

mkdir -p "$root/bench/out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
jsonl=$root/bench/out/$stamp.jsonl
md=$root/bench/out/$stamp.md
: >"$md"
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=false
if [[ -n $(git -C "$root" status --porcelain 2>/dev/null) ]]; then dirty=true; fi
printf '{"kind":"meta","time":"%s","git":"%s","dirty":%s,"go":"%s","cpus":%s,"duration":"%s","warmup":"%s","hookrelay":"%s"}\n' \
	"$stamp" "$rev" "$dirty" "$(go env GOVERSION)" "$(nproc)" "$duration" "$warmup" "$hookrelay_src" >"$jsonl"

failed=0

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

reconnects=$(($(grep -cw connected "$tmp/client.out" || true) - 1))
if ((reconnects > 0)); then
	say ""
	say "WARNING: the client reconnected $reconnects time(s) during the run; the tunnel numbers include the outages."
fi

# ---- targets -----------------------------------------------------------------

missed=0
# target NAME VALUE OP LIMIT prints PASS or FAIL for VALUE OP LIMIT.
target() {
	local verdict
	verdict=$(calc "if (v1 != \"n/a\" && v1 $3 v2) print \"PASS\"; else print \"FAIL\"" "$2" "$4")
	[[ $verdict == PASS ]] || missed=$((missed + 1))
	say "- $verdict $1: $2 (target $3 $4)"
}
say ""
say "Targets:"
target "ratio 1KiB c16" "${ratio[1KiB/16]}" '>=' 0.25
target "ratio 1MiB c16" "${ratio[1MiB/16]}" '>=' 0.2
target "server peak RSS MiB with 1MiB c64" "$server_hwm_matrix" '<=' 80
target "$big_size tunnel/direct time" "$big_ratio" '<=' 8

log "raw results: ${jsonl#"$root"/}, table: ${md#"$root"/}"
if ((failed > 0)); then
	log "error: $failed loadgen run(s) had failed requests"
	exit 1
fi
if ((missed > 0)) && [[ ${STRICT:-0} == 1 ]]; then
	log "$missed target(s) missed"
	exit 3
fi
