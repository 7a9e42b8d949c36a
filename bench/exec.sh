#!/usr/bin/env bash
# exec.sh measures script runs through hookrelay (issue 5): signed ~7 KB
# GitHub push deliveries POSTed to /hooks/github at concurrency 16, each
# matched by one `to: exec` route that runs /bin/true. It reports the
# accepted events/s and the p50/p99 time until the 202 answer (the ack), the
# runs finished per second, and the peak number of processes under the
# server at once, which must stay bounded by the route's concurrency.
#
# It builds hookrelay, bench/echotarget and bench/hooksload into a temporary
# directory, writes a hooks file, and starts `hookrelay server` with a fresh
# data directory. A warm-up load (which also checks that deliveries are
# accepted and that runs finish at all) is drained first. Then hooksload runs
# for DURATION while the script samples, every 100 ms, the server's
# descendant processes (the script-runner plugin and the commands it runs).
# After the load it waits until the server has logged one finished run
# (`msg=delivered ... target=exec:bench-true`) per accepted delivery.
# runs/s = runs finished / (time from load start to the last run finished).
# It prints a Markdown table and a check of the targets in bench/README.md.
# Raw results go to bench/out/exec-<timestamp>.jsonl.
#
# Environment:
#   QUICK=1              shorter runs (DURATION 3s, WARMUP 1s)
#   DURATION=10s         measured time of the load
#   WARMUP=2s            warm-up load before it, whose runs are drained first
#   EXEC_CONCURRENCY=16  the route's concurrency: runs at once
#   RATE=0               webhooks per second due on a fixed schedule (open loop,
#                        as senders send; latency counts from when each was due);
#                        0: closed loop, each of the 16 workers sends as soon as
#                        its answer is in
#   RUNS_WAIT=120        seconds the runs may take to finish after the load
#   HOOKRELAY_BIN=       use this hookrelay executable instead of building ./cmd/hookrelay
#   WAIT_SECS=30         how long to wait for a process's ready line, and for
#                        the warm-up's runs
#   KEEP_TMP=1           keep the temporary directory (binaries, logs, data dir)
#   STRICT=1             exit 3 when a target is missed
#   WEBHOOK_BIN=         an adnanh/webhook executable (2.8.x) to measure in the
#                        same run, after hookrelay: the same load, signed the
#                        same way, to a hook that runs /bin/true behind a
#                        payload-hmac-sha256 rule. The runs/s target is then
#                        its runs/s instead of 340. Nothing builds it here.
#   TMPDIR               where the temporary directory, data dir included, goes
#   PROFILE=             a shell command run 3 s into each measured load
#                        (hookrelay's, then adnanh/webhook's; so keep the
#                        default DURATION), e.g. 'perf sched record -a -o
#                        /tmp/sched.$PROFILE_NAME -- sleep 2'. It gets
#                        PROFILE_NAME (load or wh-load) and PROFILE_PID (the
#                        server's pid); its output goes to stderr.
#
# Exit status: 0 ok, 1 a request or a run failed, or the set-up broke, 3 a
# target was missed with STRICT=1.
set -euo pipefail
# Decimal points, not the locale's commas: in EPOCHREALTIME, read by awk.
export LC_ALL=C

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init exec.sh hookrelay-exec
set_durations 3s 1s 10s 2s
conc=16
exec_conc=${EXEC_CONCURRENCY:-16}
rate=${RATE:-0}
runs_wait=${RUNS_WAIT:-120}
route=bench-true
target_runs=340 # runs/s, at least, without WEBHOOK_BIN: adnanh/webhook does 310-340 here (the issue)
target_p99=20   # p99 ack latency in ms, at most
# The server's descendants are the script-runner plugin and the commands it
# runs, at most exec_conc at once; one more for a process caught between
# fork and exec, or a plugin being restarted.
target_procs=$((exec_conc + 2))

[[ $exec_conc =~ ^[1-9][0-9]*$ ]] || die "EXEC_CONCURRENCY=$exec_conc is not a positive integer"
[[ $rate =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "RATE=$rate is not a number of webhooks per second"
pace="c$conc"
[[ $rate == 0 ]] || pace="c$conc at $rate/s"
[[ $runs_wait =~ ^[1-9][0-9]*$ ]] || die "RUNS_WAIT=$runs_wait is not a positive number of seconds"

# ---- build -------------------------------------------------------------------

build hooksload
hooksload=$tmp/bin/hooksload
(cd "$root" && go build -o "$tmp/bin/spawnbase" ./bench/spawnbase) || die "building bench/spawnbase failed"

# ---- baseline ----------------------------------------------------------------

# The machine's own ceiling, in this run: a bare Go program running
# /bin/true at the same concurrency, nothing else in the way.
log "baseline: /bin/true at c$exec_conc for $duration, straight from a Go program"
base_line=$("$tmp/bin/spawnbase" -c "$exec_conc" -duration "$duration" -- /bin/true) || die "spawnbase failed"
base_rps=$(calc 'printf "%.1f", v1' "$(field "$base_line" runs_per_s)")

# ---- set up ------------------------------------------------------------------

# The server reads the secret from the environment through the hooks file;
# hooksload gets it on its command line.
HOOKRELAY_BENCH_SECRET=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export HOOKRELAY_BENCH_SECRET
hooks_file=$tmp/hooks.yaml
cat >"$hooks_file" <<EOF
# Written by bench/exec.sh: every GitHub push runs /bin/true.
sources:
  github:
    provider: github
    secret: "\${HOOKRELAY_BENCH_SECRET}"
routes:
  - name: $route
    source: github
    when: event.type == "push"
    to: exec
    with:
      command: ["/bin/true"]
      concurrency: $exec_conc
      timeout: 30s
EOF

data=$tmp/data
mkdir -p "$data"
admin_token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
# Queue limits out of the way: the route's queue (target exec:$route) holds
# whatever the runs have not caught up with.
if ! start_server server "$data" --config "$hooks_file" --admin-token "$admin_token" \
	--queue-max-events 10000000 --queue-max-bytes 64GiB --store-max 64GiB; then
	die "the server exited with status $exited before listening; does it accept \`to: exec\` routes? $(head -c 500 "$tmp/server.err")"
fi
hooks_url=$server_url/hooks/github
client_pid=$server_pid # check_alive looks at both; there is no client here
server_log=$tmp/server.err

open_results exec-
data_fs=$(stat -f -c %T "$tmp")
printf '{"kind":"meta","time":"%s","git":"%s","dirty":%s,"go":"%s","cpus":%s,"duration":"%s","warmup":"%s","concurrency":%s,"exec_concurrency":%s,"hookrelay":"%s","data_fs":"%s"}\n' \
	"$stamp" "$rev" "$dirty" "$(go env GOVERSION)" "$(nproc)" "$duration" "$warmup" "$conc" "$exec_conc" "$hookrelay_src" "$data_fs" >"$jsonl"
sed -E 's/^\{/{"kind":"baseline",/' <<<"$base_line" >>"$jsonl"

# ---- helpers -----------------------------------------------------------------

# The benchmark shares the two CPUs with what it measures, so its polling
# starts no process: runs are counted by one awk that follows the server's
# log as it grows, process counts are read from /proc with bash builtins,
# and naps are `read -t` on a pipe nobody writes to.
exec {nap_fd}<> <(:)
nap() { read -r -t "$1" -u "$nap_fd" _ || true; }

# follow LOG AWK starts an awk on every line LOG gets, which writes
# "OK DEAD" to $counts at every finished run: OK exited 0, DEAD failed. It
# sets follower to the pid of the pipeline's last process.
counts=$tmp/runs.count
line_reads=() # mawk reads a pipe in blocks unless told otherwise
if awk -W version 2>&1 | grep -q mawk; then line_reads=(-W interactive); fi
follow() {
	echo "0 0" >"$counts"
	tail --pid=$$ -n +1 -F "$1" 2>/dev/null | awk "${line_reads[@]}" -v out="$counts" "$2" &
	follower=$!
	pids+=("$follower")
}
# The server logs a finished run of the route as delivered (exit 0), or
# dead (failed and out of attempts).
follow "$server_log" '
	index($0, "target=exec:'"$route"'") && / msg=delivered / { ok++; print ok + 0, dead + 0 > out; close(out) }
	index($0, "target=exec:'"$route"'") && / msg="delivery dead/ { dead++; print ok + 0, dead + 0 > out; close(out) }'

# count_runs sets ok and dead to the runs finished so far.
ok=0 dead=0
count_runs() {
	local a b i
	# A read that races the awk's rewrite finds the file empty: read again.
	# Runs are counted at the load's end from this, so a stale count would
	# be wrong, not just late.
	for ((i = 0; i < 100; i++)); do
		if read -r a b <"$counts" 2>/dev/null && [[ -n $b ]]; then
			ok=$a dead=$b
			return
		fi
	done
}

# descendants PID sets desc to how many processes descend from PID. It
# reads the /proc/PID/task/TID/children lists with bash builtins only, so
# sampling every 100 ms costs next to nothing; without them (a kernel built
# without CONFIG_PROC_CHILDREN) it walks `ps` output, which costs a few ms of
# CPU.
descendants() {
	if [[ ! -e /proc/$1/task/$1/children ]]; then
		desc=$(ps -e -o pid=,ppid= | awk -v root="$1" '
			{ kids[$2] = kids[$2] " " $1 }
			END {
				n = 0; q[1] = root; head = 1; tail = 1
				while (head <= tail) {
					k = split(kids[q[head++]], a, " ")
					for (i = 1; i <= k; i++) { q[++tail] = a[i]; n++ }
				}
				print n
			}')
		return
	fi
	local n=0 todo=("$1") p f kids
	while ((${#todo[@]})); do
		p=${todo[-1]}
		unset 'todo[-1]'
		for f in /proc/"$p"/task/*/children; do
			kids=()
			read -r -d '' -a kids 2>/dev/null <"$f" || true # a process may be gone
			todo+=("${kids[@]}")
			n=$((n + ${#kids[@]}))
		done
	done
	desc=$n
}

# last_run_epoch prints, in seconds since the epoch, the time the server
# logged the last finished run of the route.
last_run_epoch() {
	local t
	t=$(awk -v t="target=exec:$route" 'index($0, t) && (/ msg=delivered / || / msg="delivery dead/) { last = $1 } END { sub(/^time=/, "", last); print last }' "$server_log")
	[[ -n $t ]] && date -u -d "$t" +%s.%N
}

# wait_runs N SECS waits until at least N runs have finished, sampling the
# server's processes into peak; it sets ok and dead, and done_at to the
# time it saw the Nth run (EPOCHREALTIME, within 100 ms), and returns 1 when
# SECS pass first.
# Times are in microseconds: EPOCHREALTIME with its decimal point, which is
# the locale's (a comma in some, which bash arithmetic takes for its comma
# operator), taken out.
wait_runs() {
	local want=$1 deadline=$((${EPOCHREALTIME//[!0-9]/} + $2 * 1000000))
	while :; do
		sample
		count_runs
		if ((ok + dead >= want)); then
			done_at=$EPOCHREALTIME
			return 0
		fi
		if ! kill -0 "$server_pid" 2>/dev/null; then die "the server exited while $((want - ok - dead)) run(s) were still to finish"; fi
		((${EPOCHREALTIME//[!0-9]/} < deadline)) || return 1
		nap 0.1
	done
}

# sample raises peak to the server's current number of descendants.
peak=0
sample() {
	descendants "$server_pid"
	((desc <= peak)) || peak=$desc
}

# ticks PID prints the CPU time of PID in clock ticks: its own (user +
# system), then that of its reaped children, or "0 0" once it is gone.
ticks() {
	local stat rest
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0 0; return; }
	rest=${stat##*) } # the fields after the command name, from the state on
	read -r -a f <<<"$rest"
	echo $((f[11] + f[12])) $((f[13] + f[14]))
}

# runner_pid prints the pid of the script-runner plugin under the server.
runner_pid() {
	local p
	for p in $(cat /proc/"$server_pid"/task/*/children 2>/dev/null); do
		if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'plugin script'; then
			echo "$p"
			return
		fi
	done
}

# measure_load NAME HOOKSLOAD... runs the measured load, sampling the
# server's processes meanwhile; it sets load_start and line (hooksload's
# result) and counts a run with failed requests.
measure_load() {
	local name=$1 rc=0 pid
	shift
	load_start=$EPOCHREALTIME
	"$@" -duration "$duration" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	pids+=("$pid")
	if [[ -n ${PROFILE:-} ]]; then
		(nap 3 && PROFILE_NAME=$name PROFILE_PID=$server_pid bash -c "$PROFILE") >&2 &
		pids+=("$!")
	fi
	while kill -0 "$pid" 2>/dev/null; do
		sample
		nap 0.1
	done
	wait "$pid" || rc=$?
	forget "$pid"
	if [[ -s $tmp/$name.err ]]; then cat "$tmp/$name.err" >&2; fi
	line=$(cat "$tmp/$name.out")
	[[ -n $line ]] || die "hooksload printed no result (exit $rc)"
	if ((rc)); then failed=$((failed + 1)); fi
	check_alive
}

# ---- warm up -----------------------------------------------------------------

# It also fails fast: deliveries refused, or accepted but never run.
log "warm-up: $pace for $warmup"
load=("$hooksload" -url "$hooks_url" -secret "$HOOKRELAY_BENCH_SECRET" -json -c "$conc" -rate "$rate" -warmup 0)
line=$("${load[@]}" -duration "$warmup" 2>"$tmp/warmup.err") ||
	die "the warm-up deliveries to $hooks_url were not all accepted: $(head -c 500 "$tmp/warmup.err")"
warm_accepted=$(field "$line" accepted)
((warm_accepted > 0)) || die "the warm-up had no delivery accepted"
log "warm-up: $warm_accepted accepted; waiting for their runs"
if ! wait_runs "$warm_accepted" "$wait_secs"; then
	die "the server accepted $warm_accepted deliveries but finished only $((ok + dead)) of their runs within ${wait_secs}s; are exec targets working?"
fi
((dead == 0)) || die "$dead of the warm-up's runs of /bin/true failed (delivery dead); see the server log"
base_ok=$ok
base_dead=$dead
peak=0

# ---- measure -----------------------------------------------------------------

log "load: $pace for $duration, processes sampled every 100 ms"
runner=$(runner_pid)
[[ -n $runner ]] || die "no script-runner plugin under the server after the warm-up"
read -r server_cpu0 _ < <(ticks "$server_pid")
read -r runner_cpu0 scripts_cpu0 < <(ticks "$runner")
measure_load load "${load[@]}"
accepted=$(field "$line" accepted)

# The backlog left when the load stops runs with no intake beside it: its
# rate is what the runner sustains with the machine to itself.
load_end=$EPOCHREALTIME
count_runs
runs_at_load_end=$((ok + dead - base_ok - base_dead))
log "load done: $accepted accepted; waiting up to ${runs_wait}s for their runs"
if ! wait_runs $((base_ok + base_dead + accepted)) "$runs_wait"; then
	die "only $((ok + dead - base_ok - base_dead)) of $accepted runs finished within ${runs_wait}s after the load"
fi
read -r server_cpu1 _ < <(ticks "$server_pid")
read -r runner_cpu1 scripts_cpu1 < <(ticks "$runner")
[[ $(runner_pid) == "$runner" ]] || die "the script runner was restarted during the load; its CPU time is lost"
runs=$((ok - base_ok))
dead_runs=$((dead - base_dead))
last_end=$(last_run_epoch) || die "no time on the server's last finished run"
span=$(calc 'printf "%.3f", v1 - v2' "$last_end" "$load_start")
runs_per_s=$(calc 'if (v2 > 0) printf "%.1f", v1 / v2; else print 0' "$runs" "$span")

# CPU milliseconds per run, from the load's start to the last run's end.
hz=$(getconf CLK_TCK)
per_run() { calc 'if (v3 > 0) printf "%.2f", v1 * 1000 / v2 / v3; else print 0' "$1" "$hz" "$runs"; }
server_ms=$(per_run $((server_cpu1 - server_cpu0)))
runner_ms=$(per_run $((runner_cpu1 - runner_cpu0)))
scripts_ms=$(per_run $((scripts_cpu1 - scripts_cpu0)))

sed -E "s/^\{/{\"kind\":\"run\",/; s/\}\$/,\"runs\":$runs,\"dead_runs\":$dead_runs,\"runs_seconds\":$span,\"runs_per_s\":$runs_per_s,\"peak_processes\":$peak,\"cpu_ms_per_run\":{\"server\":$server_ms,\"runner\":$runner_ms,\"scripts\":$scripts_ms}}/" <<<"$line" >>"$jsonl"

# ---- report ------------------------------------------------------------------

p50=$(calc 'printf "%.2f", v1' "$(field "$line" p50_ms)")
p99=$(calc 'printf "%.2f", v1' "$(field "$line" p99_ms)")
say ""
say "| accepted/s | ack p50 ms | ack p99 ms | runs finished | runs/s | peak processes |"
say "| ---: | ---: | ---: | ---: | ---: | ---: |"
say "| $(calc 'printf "%.0f", v1' "$(field "$line" accepted_per_s)") | $p50 | $p99 | $runs | $runs_per_s | $peak |"
say ""
say "runs/s over ${span}s, from the load's start to the last run's end; failed runs: $dead_runs; request errors: $(field "$line" errors)."
backlog=$((runs + dead_runs - runs_at_load_end))
if ((backlog >= 100)); then
	drain_span=$(calc 'printf "%.3f", v1 - v2' "$last_end" "$load_end")
	say "after the load: $backlog runs were left, run at $(calc 'printf "%.1f", v1 / v2' "$backlog" "$drain_span")/s with no webhooks arriving."
fi
say "baseline in this run: a bare Go program ran /bin/true at c$exec_conc $base_rps times/s; hookrelay / baseline: $(calc 'printf "%.2f", v1 / v2' "$runs_per_s" "$base_rps")."
say "CPU ms per run: server $server_ms (intake included), script runner $runner_ms, the scripts $scripts_ms."
say "peak processes: the server's descendants (the script-runner plugin and the running commands), route concurrency $exec_conc."

# ---- adnanh/webhook, with WEBHOOK_BIN ------------------------------------------

target_name="runs/s"
if [[ -n ${WEBHOOK_BIN:-} ]]; then
	hr_peak=$peak
	# shellcheck source=SCRIPTDIR/exec_webhook.sh
	source "$root/bench/exec_webhook.sh"
	peak=$hr_peak
	target_runs=$wh_runs_per_s
	target_name="runs/s (adnanh/webhook's in this run)"
fi

# ---- targets -----------------------------------------------------------------

say ""
say "Targets ($pace, $(nproc) CPUs):"
target "$target_name" "$runs_per_s" '>=' "$target_runs"
target "p99 ack latency ms" "$p99" '<=' "$target_p99"
target "peak processes" "$peak" '<=' "$target_procs"

if ((dead_runs > 0)); then
	log "raw results: ${jsonl#"$root"/}, table: ${md#"$root"/}"
	log "error: $dead_runs run(s) of /bin/true failed (delivery dead); see the server log (KEEP_TMP=1)"
	exit 1
fi
finish hooksload
