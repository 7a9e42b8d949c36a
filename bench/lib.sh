# shellcheck shell=bash
# lib.sh holds what the benchmark scripts, tunnel.sh and hooks.sh, share:
# their temporary directory and the clean-up on exit, starting and stopping
# the processes under test, waiting for their ready lines, reading VmHWM,
# building the tools, the result files and the report helpers. Each script
# sources it after `set -euo pipefail` and calls bench_init first; what is
# particular to one benchmark stays in its script.
#
# The functions talk through a few globals, named where they are set:
# root, tmp, wait_secs, duration, warmup, pids, names, started_pid, ready,
# exited, server_pid, server_url, server_name (in messages; default
# "hookrelay server"), client_pid, target_url, hookrelay,
# hookrelay_src, stamp, jsonl, md, rev, dirty, failed and missed.

# Variables set here and read by the scripts look unused to shellcheck when
# it reads this file on its own.
# shellcheck disable=SC2034

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# bench_init NAME TMP_PREFIX names the script in messages, makes its
# temporary directory ${TMPDIR:-/tmp}/TMP_PREFIX.XXXXXX (tmp), sets the
# clean-up on exit and reads WAIT_SECS. The hookrelay client keeps its token
# under $XDG_CONFIG_HOME/hookrelay, so that points into tmp: the user's own
# is never touched.
bench_init() {
	bench_name=$1
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$2.XXXXXX")
	pids=()
	names=()
	failed=0
	missed=0
	wait_secs=${WAIT_SECS:-30}
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir -p "$tmp/config"
	export XDG_CONFIG_HOME=$tmp/config
}

# set_durations QUICK_DURATION QUICK_WARMUP DURATION WARMUP sets duration
# and warmup from DURATION and WARMUP in the environment, with the first two
# as defaults when QUICK=1 and the last two otherwise.
set_durations() {
	if [[ ${QUICK:-0} == 1 ]]; then
		duration=${DURATION:-$1}
		warmup=${WARMUP:-$2}
	else
		duration=${DURATION:-$3}
		warmup=${WARMUP:-$4}
	fi
}

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

# cleanup, on exit, stops every process the script started and removes tmp
# unless KEEP_TMP=1.
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if ((${#pids[@]})); then stop_pids "${pids[@]}"; fi
	if [[ ${KEEP_TMP:-0} == 1 ]]; then
		echo "$bench_name: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}

log() { echo "$bench_name: $*" >&2; }

# show_logs prints the tail of every started process's stdout and stderr.
show_logs() {
	local n f
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

# build LOADTOOL builds bench/echotarget and bench/LOADTOOL into $tmp/bin
# and, unless HOOKRELAY_BIN names one, ./cmd/hookrelay; it sets hookrelay to
# the executable to measure and hookrelay_src to where it came from.
build() {
	command -v go >/dev/null || die "go is not on PATH"
	mkdir -p "$tmp/bin"
	log "building into $tmp/bin"
	(cd "$root" && go build -o "$tmp/bin/echotarget" ./bench/echotarget && go build -o "$tmp/bin/$1" "./bench/$1") ||
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
}

# start_echotarget starts the echo target and sets target_url.
start_echotarget() {
	start echotarget "$tmp/bin/echotarget" --listen 127.0.0.1:0
	wait_line echotarget "$started_pid" '^listening on '
	loopback_url "$ready" 'listening on '
	target_url=$url
}

# start_server NAME DATA_DIR [FLAGS...] starts `hookrelay server` on a free
# loopback port with its data in DATA_DIR and sets server_pid; once it has
# printed its address it sets server_url. If the server exits first it sets
# exited to its status and returns 1.
start_server() {
	local name=$1 data=$2
	shift 2
	start "$name" "$hookrelay" server --listen 127.0.0.1:0 --data "$data" "$@"
	server_pid=$started_pid
	await_line "$name" "$server_pid" '^hookrelay: listening on ' || return 1
	loopback_url "$ready" 'hookrelay: listening on '
	server_url=$url
}

# start_client NAME [FLAGS...] starts a `hookrelay client` that carries
# channel bench from server_url to target_url, sets client_pid and waits
# until it is connected.
start_client() {
	local name=$1
	shift
	start "$name" "$hookrelay" client --server "$server_url" --to "$target_url" --channel bench "$@" --quiet
	client_pid=$started_pid
	wait_line "$name" "$client_pid" '\bconnected\b'
}

# check_alive dies if the server or the client under test has exited.
check_alive() {
	if ! kill -0 "$server_pid" 2>/dev/null; then die "${server_name:-hookrelay server} exited during the benchmark"; fi
	if ! kill -0 "$client_pid" 2>/dev/null; then die "hookrelay client exited during the benchmark"; fi
}

# count_reconnects NAME prints how many times the client NAME connected again
# after its first connection.
count_reconnects() {
	echo $(($(grep -cw connected "$tmp/$1.out" || true) - 1))
}

# open_results PREFIX creates bench/out/PREFIX<stamp>.jsonl (jsonl) and an
# empty .md (md) for the report, and sets rev and dirty from git.
open_results() {
	mkdir -p "$root/bench/out"
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	jsonl=$root/bench/out/$1$stamp.jsonl
	md=$root/bench/out/$1$stamp.md
	: >"$md"
	rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
	dirty=false
	if [[ -n $(git -C "$root" status --porcelain 2>/dev/null) ]]; then dirty=true; fi
}

# field JSON KEY prints the value of a number field of a result line.
field() { sed -nE "s/.*\"$2\":(-?[0-9.eE+]+).*/\1/p" <<<"$1"; }

# calc EXPR... evaluates an awk expression; the arguments are v1, v2, ...
calc() {
	local expr=$1
	shift
	awk -v v1="${1:-0}" -v v2="${2:-0}" -v v3="${3:-0}" "BEGIN { $expr }"
}

# say prints a result line to stdout and to the Markdown copy.
say() { echo "$*" | tee -a "$md"; }

# target NAME VALUE OP LIMIT prints PASS or FAIL for VALUE OP LIMIT.
target() {
	local verdict
	verdict=$(calc "if (v1 != \"n/a\" && v1 $3 v2) print \"PASS\"; else print \"FAIL\"" "$2" "$4")
	[[ $verdict == PASS ]] || missed=$((missed + 1))
	say "- $verdict $1: $2 (target $3 $4)"
}

# finish LOADTOOL names the result files and ends the script: 1 when a run
# of LOADTOOL had failed requests, 3 when a target was missed with STRICT=1.
finish() {
	log "raw results: ${jsonl#"$root"/}, table: ${md#"$root"/}"
	if ((failed > 0)); then
		log "error: $failed $1 run(s) had failed requests"
		exit 1
	fi
	if ((missed > 0)) && [[ ${STRICT:-0} == 1 ]]; then
		log "$missed target(s) missed"
		exit 3
	fi
}
