# shellcheck shell=bash
# exec_webhook.sh is sourced by exec.sh when WEBHOOK_BIN names an
# adnanh/webhook executable: once hookrelay has been measured and stopped, it
# sends the same load (the same signed push deliveries, the same pace) to
# adnanh/webhook, whose one hook runs /bin/true behind a payload-hmac-sha256
# trigger rule on X-Hub-Signature-256, so that both verify every delivery.
#
# adnanh/webhook answers 200 at once and runs the command afterwards, with
# no bound on how many run at once and nothing kept if it stops. It logs
# "[rid] finished handling bench" once the command has exited, and
# "[rid] error occurred: ..." before that when it failed; -verbose is needed
# for those lines, which is how its runs are counted. Its log has whole
# seconds only, so the time of its last run is when the poll saw it (within
# 100 ms, which counts against it: under 1% of a 10 s run).
#
# It reads and sets exec.sh's globals (peak and runs among them: exec.sh
# keeps hookrelay's); it sets wh_runs_per_s.

[[ -x $WEBHOOK_BIN ]] || die "WEBHOOK_BIN=$WEBHOOK_BIN is not an executable file"
wh_version=$("$WEBHOOK_BIN" -version 2>&1 | head -n 1) || die "$WEBHOOK_BIN -version failed: $wh_version"
# Only what is safe in a sed replacement and a JSON string.
wh_version=${wh_version//[!A-Za-z0-9. _+-]/}
log "adnanh/webhook next ($wh_version); stopping hookrelay so it has the machine"
stop_pids "$server_pid" "$follower"

wh_dir=$tmp/webhook
mkdir -p "$wh_dir"
cat >"$wh_dir/hooks.json" <<EOF
[
  {
    "id": "bench",
    "execute-command": "/bin/true",
    "command-working-directory": "$wh_dir",
    "trigger-rule-mismatch-http-response-code": 401,
    "trigger-rule": {
      "match": {
        "type": "payload-hmac-sha256",
        "secret": "$HOOKRELAY_BENCH_SECRET",
        "parameter": { "source": "header", "name": "X-Hub-Signature-256" }
      }
    }
  }
]
EOF

# listen_port PID prints the TCP port PID listens on: the socket inodes
# among its open files, looked up in its network namespace's table.
listen_port() {
	local f l inodes=" " hex
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		if [[ $l == socket:* ]]; then inodes+="${l//[!0-9]/} "; fi
	done
	hex=$(awk -v list="$inodes" '$4 == "0A" && index(list, " " $10 " ") { split($2, a, ":"); print a[2]; exit }' "/proc/$1/net/tcp")
	[[ -n $hex ]] && echo $((16#$hex))
}

# Port 0: the kernel picks one; adnanh/webhook logs ":0", so it is read
# from /proc once the server says it is serving.
start webhook "$WEBHOOK_BIN" -hooks "$wh_dir/hooks.json" -ip 127.0.0.1 -port 0 -verbose
wh_pid=$started_pid
wh_port=
for ((i = 0; i < wait_secs * 10; i++)); do
	kill -0 "$wh_pid" 2>/dev/null || die "adnanh/webhook exited at start"
	if grep -q 'serving hooks on' "$tmp/webhook.err" && wh_port=$(listen_port "$wh_pid"); then break; fi
	nap 0.1
done
[[ -n $wh_port ]] || die "adnanh/webhook was not listening within ${wait_secs}s"
wh_url=http://127.0.0.1:$wh_port/hooks/bench

# From here wait_runs, sample and check_alive watch adnanh/webhook.
server_pid=$wh_pid
client_pid=$wh_pid
server_name=adnanh/webhook
follow "$tmp/webhook.err" '
	/\] error occurred: / { dead++ }
	/\] finished handling bench$/ { fin++; print fin - dead, dead + 0 > out; close(out) }'
ok=0 dead=0

log "adnanh/webhook warm-up: $pace for $warmup"
wh_load=("$hooksload" -url "$wh_url" -secret "$HOOKRELAY_BENCH_SECRET" -status 200 -json -c "$conc" -rate "$rate" -warmup 0)
line=$("${wh_load[@]}" -duration "$warmup" 2>"$tmp/wh-warmup.err") ||
	die "the warm-up deliveries to adnanh/webhook were not all answered 200: $(head -c 500 "$tmp/wh-warmup.err")"
warm_accepted=$(field "$line" accepted)
wait_runs "$warm_accepted" "$wait_secs" ||
	die "adnanh/webhook took $warm_accepted deliveries but finished only $((ok + dead)) runs within ${wait_secs}s"
base_ok=$ok
base_dead=$dead
peak=0

log "adnanh/webhook load: $pace for $duration"
read -r wh_cpu0 wh_scripts0 < <(ticks "$wh_pid")
measure_load wh-load "${wh_load[@]}"
wh_accepted=$(field "$line" accepted)
log "adnanh/webhook load done: $wh_accepted answered; waiting up to ${runs_wait}s for their runs"
wait_runs $((base_ok + base_dead + wh_accepted)) "$runs_wait" ||
	die "only $((ok + dead - base_ok - base_dead)) of adnanh/webhook's $wh_accepted runs finished within ${runs_wait}s"
read -r wh_cpu1 wh_scripts1 < <(ticks "$wh_pid")
wh_runs=$((ok - base_ok))
wh_dead=$((dead - base_dead))
wh_span=$(calc 'printf "%.3f", v1 - v2' "$done_at" "$load_start")
wh_runs_per_s=$(calc 'if (v2 > 0) printf "%.1f", v1 / v2; else print 0' "$wh_runs" "$wh_span")
runs=$wh_runs # per_run divides by it
wh_ms=$(per_run $((wh_cpu1 - wh_cpu0)))
wh_scripts_ms=$(per_run $((wh_scripts1 - wh_scripts0)))

sed -E "s/^\{/{\"kind\":\"webhook\",\"version\":\"$wh_version\",/; s/\}\$/,\"runs\":$wh_runs,\"dead_runs\":$wh_dead,\"runs_seconds\":$wh_span,\"runs_per_s\":$wh_runs_per_s,\"peak_processes\":$peak,\"cpu_ms_per_run\":{\"server\":$wh_ms,\"scripts\":$wh_scripts_ms}}/" <<<"$line" >>"$jsonl"

say ""
say "adnanh/webhook in the same run ($wh_version, WEBHOOK_BIN), the same load:"
say ""
say "| accepted/s | ack p50 ms | ack p99 ms | runs finished | runs/s | peak processes |"
say "| ---: | ---: | ---: | ---: | ---: | ---: |"
say "| $(calc 'printf "%.0f", v1' "$(field "$line" accepted_per_s)") | $(calc 'printf "%.2f", v1' "$(field "$line" p50_ms)") | $(calc 'printf "%.2f", v1' "$(field "$line" p99_ms)") | $wh_runs | $wh_runs_per_s | $peak |"
say ""
say "failed runs: $wh_dead; request errors: $(field "$line" errors). CPU ms per run: adnanh/webhook $wh_ms, the scripts $wh_scripts_ms."
say "hookrelay / adnanh/webhook, runs/s: $(calc 'if (v2 > 0) printf "%.2f", v1 / v2; else print "n/a"' "$runs_per_s" "$wh_runs_per_s"); adnanh/webhook / baseline: $(calc 'printf "%.2f", v1 / v2' "$wh_runs_per_s" "$base_rps")."
