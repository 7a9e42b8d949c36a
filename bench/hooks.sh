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

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init hooks.sh hookrelay-hooks
set_durations 3s 1s 10s 2s
conc=16
target_rps=1500 # durable accepted events/s, at least
target_p99=50   # durable p99 ack latency in ms, at most

# ---- build -------------------------------------------------------------------

build hooksload
hooksload=$tmp/bin/hooksload

# fsync on tmpfs costs nothing, which would make the two runs look alike.
data_fs=$(stat -f -c %T "$tmp")
if [[ $data_fs == tmpfs || $data_fs == ramfs ]]; then
	log "WARNING: $tmp is on $data_fs, where fsync is free; set TMPDIR to a directory on a disk"
fi

# ---- set up ------------------------------------------------------------------

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

start_echotarget

open_results hooks-
printf '{"kind":"meta","time":"%s","git":"%s","dirty":%s,"go":"%s","cpus":%s,"duration":"%s","warmup":"%s","concurrency":%s,"hookrelay":"%s","data_fs":"%s"}\n' \
	"$stamp" "$rev" "$dirty" "$(go env GOVERSION)" "$(nproc)" "$duration" "$warmup" "$conc" "$hookrelay_src" "$data_fs" >"$jsonl"

# ---- measure -----------------------------------------------------------------

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
	if ! start_server "server-$mode" "$data" --config "$hooks_file" \
		--queue-max-events 10000000 --queue-max-bytes 64GiB --store-max 64GiB "$@"; then
		local why
		if ((exited == 2)) && why=$(grep -m1 'flag provided but not defined' "$tmp/server-$mode.err"); then
			skipped[$mode]=$why
			log "$mode: SKIPPED: the server refuses $* ($why)"
			return 0
		fi
		die "server-$mode exited with status $exited before printing its address"
	fi
	local hooks_url=$server_url/hooks/github

	# Its own token file, so each run's client is new to the server.
	start_client "client-$mode" --tokens-file "$tmp/tokens-$mode.json"

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
	reconnects=$(count_reconnects "client-$mode")
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

say ""
say "Targets (fsync on, c$conc, $(nproc) CPUs):"
target "accepted events/s" "$(calc 'printf "%.0f", v1' "$on_rps")" '>=' "$target_rps"
target "p99 ack latency ms" "$(calc 'printf "%.2f", v1' "$on_p99")" '<=' "$target_p99"

finish hooksload
