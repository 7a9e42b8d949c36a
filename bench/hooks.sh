#!/usr/bin/env bash
# hooks.sh measures how fast hookrelay accepts verified webhooks (issue 4,
# durable delivery): signed ~7 KB GitHub push deliveries POSTed to
# /hooks/github at concurrency 16, accepted events/s and the p50/p99 time
# until the 202 answer.
#
# It builds hookrelay, bench/echotarget and bench/hooksload into a temporary
# directory and starts echotarget. Then, twice: a `hookrelay server` with a
# hooks file routing every push to tunnel:bench and a fresh data directory,
# and a `hookrelay client` on channel bench that drains the deliveries into
# echotarget in the background; hooksload warms up and measures; both stop.
# The first server runs as it comes (the store fsyncs), the second with
# --fsync=false; a server that does not know that flag has that run skipped.
# It prints a Markdown table with the ratio fsync on / fsync off, the servers'
# peak RSS (VmHWM), and a check of the targets in bench/README.md. Raw
# results go to bench/out/hooks-<timestamp>.jsonl.
#
# Environment:
#   QUICK=1          shorter runs (DURATION 3s, WARMUP 1s)
#   DURATION=10s     measured time per run
#   WARMUP=2s        unrecorded load before each run
#   HOOKRELAY_BIN=   use this hookrelay executable instead of building ./cmd/hookrelay
#   WAIT_SECS=30     how long to wait for a process to print its ready line
#   KEEP_TMP=1       keep the temporary directory (binaries, logs, data dirs)
#   STRICT=1         exit 3 when a target is missed
#   TMPDIR           where the temporary directory, data dirs included, goes:
#                    put it on the disk you want to measure, not on tmpfs
#
# Exit status: 0 ok, 1 a request failed or the set-up broke, 3 a target was
# missed with STRICT=1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=${QUICK:-0}
if [[ $quick == 1 ]]; then
	duration=${DURATION:-3s}
	warmup=${WARMUP:-1s}
else
	duration=${DURATION:-10s}
	warmup=${WARMUP:-2s}
fi
wait_secs=${WAIT_SECS:-30}
conc=16
target_rps=1500 # durable accepted events/s, at least
target_p99=50   # durable p99 ack latency in ms, at most

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hookrelay-hooks.XXXXXX")
pids=()
names=()

# stop_pids PID... sends SIGTERM to each PID, waits up to 5 s for them, then
# sends SIGKILL to the rest, and forgets them.
stop_pids() {
	local pid i
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
	for ((i = 0; i < 50; i++)); do
		local alive=0
		for pid in "$@"; do
			if kill -0 "$pid" 2>/dev/null; then alive=1; fi
		done
		((alive)) || break
		sleep 0.1
	done
	for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
	for pid in "$@"; do
		wait "$pid" 2>/dev/null || true
		forget "$pid"
	done
}

# forget PID drops an exited (and waited for) PID from the ones to stop.
forget() {
	local keep=() p
	for p in "${pids[@]}"; do
		if [[ $p != "$1" ]]; then keep+=("$p"); fi
	done
	pids=("${keep[@]}")
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if ((${#pids[@]})); then stop_pids "${pids[@]}"; fi
	if [[ ${KEEP_TMP:-0} == 1 ]]; then
		echo "hooks.sh: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "hooks.sh: $*" >&2; }

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
	: >"$tmp/$name.out" # exists before the child opens it, for await_line
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	started_pid=$!
	pids+=("$started_pid")
	names+=("$name")
}

# await_line NAME PID REGEX waits at most wait_secs for a line of NAME's
# stdout matching the extended REGEX and sets ready to it. If PID exits
# first it sets exited to its exit status and returns 1; after wait_secs it
# dies. It must not run in a subshell: die has to end the script.
await_line() {
	local name=$1 pid=$2 re=$3
	local deadline=$((SECONDS + wait_secs))
	while ((SECONDS < deadline)); do
		if ready=$(grep -E -m1 -- "$re" "$tmp/$name.out"); then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			exited=0
			wait "$pid" || exited=$?
			forget "$pid"
			return 1
		fi
		sleep 0.1
	done
	die "$name printed no line matching /$re/ within ${wait_secs}s"
}

# wait_line NAME PID REGEX is await_line that dies if PID exits first.
wait_line() {
	await_line "$@" || die "$1 exited with status $exited before printing a line matching /$3/"
}

# check_alive dies if the current server or client has exited.
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

# field JSON KEY prints the value of a number field of a hooksload line.
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
mkdir -p "$tmp/bin" "$tmp/config"
log "building into $tmp/bin"
(cd "$root" && go build -o "$tmp/bin/echotarget" ./bench/echotarget && go build -o "$tmp/bin/hooksload" ./bench/hooksload) ||
	die "building bench tools failed"
if [[ -n ${HOOKRELAY_BIN:-} ]]; then
	[[ -x $HOOKRELAY_BIN ]] || die "HOOKRELAY_BIN=$HOOKRELAY_BIN is not an executable"
	hookrelay=$HOOKRELAY_BIN
	log "using HOOKRELAY_BIN=$hookrelay"
else
	(cd "$root" && go build -o "$tmp/bin/hookrelay" ./cmd/hookrelay) || die "building ./cmd/hookrelay failed"
	hookrelay=$tmp/bin/hookrelay
fi
hookrelay_src=${HOOKRELAY_BIN:-./cmd/hookrelay}
hooksload=$tmp/bin/hooksload

# fsync on tmpfs costs nothing, which would make the two runs look alike.
data_fs=$(stat -f -c %T "$tmp")
if [[ $data_fs == tmpfs || $data_fs == ramfs ]]; then
	log "WARNING: $tmp is on $data_fs, where fsync is free; set TMPDIR to a directory on a disk"
fi

# ---- set up ------------------------------------------------------------------

# The client keeps its token under $XDG_CONFIG_HOME/hookrelay: never touch
# the user's own. Each run also gets its own --tokens-file.
export XDG_CONFIG_HOME=$tmp/config

# The server reads the secret from the environment through the hooks file;
# hooksload gets it on its command line.
HOOKRELAY_BENCH_SECRET=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export HOOKRELAY_BENCH_SECRET
hooks_file=$tmp/hooks.yaml
cat >"$hooks_file" <<'EOF'
# Written by bench/hooks.sh: every GitHub push goes to the bench channel.
sources:
  github:
    provider: github
    secret: "${HOOKRELAY_BENCH_SECRET}"
routes:
  - name: bench-push
    source: github
    when: event.type == "push"
    to: tunnel:bench
EOF

start echotarget "$tmp/bin/echotarget" --listen 127.0.0.1:0
target_pid=$started_pid
wait_line echotarget "$target_pid" '^listening on '
loopback_url "$ready" 'listening on '
target_url=$url

mkdir -p "$root/bench/out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
jsonl=$root/bench/out/hooks-$stamp.jsonl
md=$root/bench/out/hooks-$stamp.md
: >"$md"
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=false
if [[ -n $(git -C "$root" status --porcelain 2>/dev/null) ]]; then dirty=true; fi
printf '{"kind":"meta","time":"%s","git":"%s","dirty":%s,"go":"%s","cpus":%s,"duration":"%s","warmup":"%s","concurrency":%s,"hookrelay":"%s","data_fs":"%s"}\n' \
	"$stamp" "$rev" "$dirty" "$(go env GOVERSION)" "$(nproc)" "$duration" "$warmup" "$conc" "$hookrelay_src" "$data_fs" >"$jsonl"

# ---- measure -----------------------------------------------------------------

failed=0
declare -A result hwm skipped

# measure MODE [SERVER FLAGS...] starts a server with a fresh data dir and
# SERVER FLAGS, and a client draining channel bench into echotarget; checks
# that one delivery is accepted; runs hooksload; records its line and the
# server's VmHWM; and stops both. When the server refuses one of SERVER FLAGS
# as undefined (exit 2, "flag provided but not defined") it sets
# skipped[MODE] instead. A run with failed requests is recorded and counted,
# not fatal: the table shows it.
measure() {
	local mode=$1
	shift
	local data=$tmp/data-$mode
	mkdir -p "$data"
	# Queue limits out of the way: the run measures intake, and the client
	# drains more slowly (one delivery at a time, in order) than the server
	# takes events in.
	start "server-$mode" "$hookrelay" server --listen 127.0.0.1:0 --data "$data" --config "$hooks_file" \
		--queue-max-events 10000000 --queue-max-bytes 64GiB --store-max 64GiB "$@"
	server_pid=$started_pid
	if ! await_line "server-$mode" "$server_pid" '^hookrelay: listening on '; then
		local why
		if ((exited == 2)) && why=$(grep -m1 'flag provided but not defined' "$tmp/server-$mode.err"); then
			skipped[$mode]=$why
			log "$mode: SKIPPED: the server refuses $* ($why)"
			return 0
		fi
		die "server-$mode exited with status $exited before printing its address"
	fi
	loopback_url "$ready" 'hookrelay: listening on '
	local hooks_url=$url/hooks/github

	start "client-$mode" "$hookrelay" client --server "$url" --to "$target_url" --channel bench \
		--tokens-file "$tmp/tokens-$mode.json" --quiet
	client_pid=$started_pid
	wait_line "client-$mode" "$client_pid" '\bconnected\b'

	local load=("$hooksload" -url "$hooks_url" -secret "$HOOKRELAY_BENCH_SECRET" -json)
	# Fail fast if deliveries are not accepted at all.
	"${load[@]}" -c 1 -warmup 0 -duration 100ms >/dev/null 2>"$tmp/first-$mode.err" ||
		die "$mode: the first deliveries to $hooks_url were not accepted: $(cat "$tmp/first-$mode.err")"

	log "$mode: c$conc, $duration after $warmup warm-up"
	local rc=0 line
	line=$("${load[@]}" -c "$conc" -warmup "$warmup" -duration "$duration" 2>"$tmp/hooksload-$mode.err") || rc=$?
	if [[ -s $tmp/hooksload-$mode.err ]]; then cat "$tmp/hooksload-$mode.err" >&2; fi
	[[ -n $line ]] || die "$mode: hooksload printed no result"
	sed -E "s/^\{/{\"kind\":\"run\",\"mode\":\"$mode\",/" <<<"$line" >>"$jsonl"
	if ((rc)); then failed=$((failed + 1)); fi
	check_alive
	result[$mode]=$line
	hwm[$mode]=$(vmhwm_mib "$server_pid")

	local reconnects
	reconnects=$(($(grep -cw connected "$tmp/client-$mode.out" || true) - 1))
	if ((reconnects > 0)); then
		log "WARNING: $mode: the client reconnected $reconnects time(s) during the run"
	fi
	stop_pids "$server_pid" "$client_pid"
}

modes=(fsync-on fsync-off)
declare -A label=([fsync-on]="fsync on" [fsync-off]="fsync off")
measure fsync-on
measure fsync-off --fsync=false

# ---- report ------------------------------------------------------------------

say ""
say "| mode | accepted/s | p50 ms | p99 ms | errors | server peak RSS MiB |"
say "| --- | ---: | ---: | ---: | ---: | ---: |"
for mode in "${modes[@]}"; do
	if [[ -n ${skipped[$mode]:-} ]]; then
		say "| ${label[$mode]} | skipped: ${skipped[$mode]} | | | | |"
		continue
	fi
	r=${result[$mode]}
	say "| ${label[$mode]} | $(calc 'printf "%.0f", v1' "$(field "$r" accepted_per_s)")" \
		"| $(calc 'printf "%.2f", v1' "$(field "$r" p50_ms)") | $(calc 'printf "%.2f", v1' "$(field "$r" p99_ms)")" \
		"| $(field "$r" errors) | ${hwm[$mode]} |"
done

on_rps=$(field "${result[fsync-on]}" accepted_per_s)
on_p99=$(field "${result[fsync-on]}" p99_ms)
ratio=n/a
if [[ -z ${skipped[fsync-off]:-} ]]; then
	ratio=$(calc 'if (v2 > 0) printf "%.2f", v1 / v2; else print "n/a"' "$on_rps" "$(field "${result[fsync-off]}" accepted_per_s)")
fi
say ""
say "durable / no-fsync accepted/s: $ratio"
printf '{"kind":"summary","ratio_durable_no_fsync":"%s","server_vmhwm_mib_fsync_on":%s,"server_vmhwm_mib_fsync_off":%s,"fsync_off_skipped":%s}\n' \
	"$ratio" "${hwm[fsync-on]}" "${hwm[fsync-off]:-null}" "$([[ -n ${skipped[fsync-off]:-} ]] && echo true || echo false)" >>"$jsonl"

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
say "Targets (fsync on, c$conc, $(nproc) CPUs):"
target "accepted events/s" "$(calc 'printf "%.0f", v1' "$on_rps")" '>=' "$target_rps"
target "p99 ack latency ms" "$(calc 'printf "%.2f", v1' "$on_p99")" '<=' "$target_p99"

log "raw results: ${jsonl#"$root"/}, table: ${md#"$root"/}"
if ((failed > 0)); then
	log "error: $failed hooksload run(s) had failed requests"
	exit 1
fi
if ((missed > 0)) && [[ ${STRICT:-0} == 1 ]]; then
	log "$missed target(s) missed"
	exit 3
fi
