#!/usr/bin/env bash
# Runs winstate's test suite and keeps score.
#
#   tests/run.sh --run BUILD FIXTURES RESULTS [OPTIONS]   run the unit binaries and integration scripts
#   tests/run.sh --summary RESULTS...                     add up result files, print the closing line
#
# Options of --run:
#   --only NAME     run only this unit binary (unit-store) or integration script
#                   (scan_kill or scan_kill.sh); may be given several times
#   --no-boot       leave out the boot_* scripts (they boot the image under QEMU)
#   --jobs N        integration scripts run N at a time (default 2; WS_TEST_JOBS)
#   --timeout S     an integration script still running after S seconds is stopped
#                   and counted as failed (default 900; WS_TEST_TIMEOUT)
#
# Unit tests are Criterion binaries (BUILD/tests/unit-*); integration tests are
# tests/integration/*.sh, each exiting 0 (pass), 77 (skip, with a reason on
# stdout) or anything else (fail).  A RESULTS file holds "passed failed skipped".
#
# Each integration script works in its own temporary folder, so two can run
# side by side; the boot_* scripts run alone, one at a time, once nothing else
# runs: they share the servers' ports, and a guest under software emulation
# must not compete for the CPU (its own time limits would pass).  A script's output is kept until it ends and
# printed whole, so the lines of two scripts never mix.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

summary() {
	local p=0 f=0 s=0 a b c
	for file in "$@"; do
		[ -f "$file" ] || { echo "run.sh: missing results file $file" >&2; f=$((f + 1)); continue; }
		read -r a b c <"$file"
		p=$((p + a)); f=$((f + b)); s=$((s + c))
	done
	echo "check: $p passed, $f failed, $s skipped"
	[ "$f" -eq 0 ]
}

usage() {
	echo "usage: $0 --run BUILD FIXTURES RESULTS [--only NAME]... [--no-boot] [--jobs N] [--timeout S]" >&2
	echo "       $0 --summary RESULTS..." >&2
	exit 2
}

passed=0 failed=0 skipped=0
declare -A ONLY=()

# selected NAME: true when NAME is to run (no --only, or named by one).
selected() {
	[ ${#ONLY[@]} -eq 0 ] && return 0
	[ -n "${ONLY[$1]:-}" ] && { ONLY[$1]=used; return 0; }
	return 1
}

# unit_binary BIN LOG: one Criterion binary; passing tests are counted, not
# listed; failures and skips (with why) are shown.
unit_binary() {
	local bin=$1 log=$2 name
	name=$(basename "$bin")
	echo "== $name ($build)"
	"$bin" --verbose --jobs 2 --timeout 600 >"$log" 2>&1 </dev/null
	local rc=$?
	grep -a -v -E '^\[(RUN |PASS)\]' "$log"
	local line
	line=$(grep -a 'Synthesis: Tested:' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "!! $name printed no Criterion summary (exit $rc)"
		failed=$((failed + 1))
		return
	fi
	local pa fa sk
	pa=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
	fa=$(sed -E 's/.*Failing: ([0-9]+).*/\1/' <<<"$line")
	passed=$((passed + pa)); failed=$((failed + fa))
	sk=$(grep -a -c '^\[SKIP\]' "$log")
	skipped=$((skipped + sk))
	if [ "$rc" -ne 0 ] && [ "$fa" -eq 0 ]; then
		echo "!! $name exited $rc"
		failed=$((failed + 1))
	fi
}

# start_script SCRIPT: run it in the background under its time limit, output
# into its own log; RUNNING maps the job's pid to the script.
declare -A RUNNING=() STARTED=()
start_script() {
	local script=$1 name
	name=$(basename "$script" .sh)
	# timeout puts the script in its own process group and signals the whole
	# group, ntfs-3g daemons and QEMU included; the script's EXIT trap unmounts.
	# --verbose leaves timeout's own line in the log: that is how a time-out is told
	# from a script that exits 124 itself.
	timeout --verbose --kill-after=30 "$limit" bash "$script" >"$logs/$name.log" 2>&1 </dev/null &
	RUNNING[$!]=$name
	STARTED[$name]=$SECONDS
}

# finish_script PID RC: count and print the result of a script that ended.
finish_script() {
	local pid=$1 rc=$2 name=${RUNNING[$1]}
	local log="$logs/$name.log" took=$((SECONDS - STARTED[$name]))
	unset "RUNNING[$pid]"
	if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && grep -q '^timeout: sending signal' "$log"; then
		failed=$((failed + 1))
		echo "FAIL $name: timed out after $limit s (--timeout, WS_TEST_TIMEOUT)"
		sed 's/^/    /' "$log" | tail -n 40
		return
	fi
	case $rc in
	0) passed=$((passed + 1)); echo "PASS $name (${took} s)" ;;
	77) skipped=$((skipped + 1)); echo "SKIP $name: $(tail -n 1 "$log")" ;;
	*) failed=$((failed + 1)); echo "FAIL $name (exit $rc)"; sed 's/^/    /' "$log" | tail -n 40 ;;
	esac
}

# wait_one: wait for any running script and report it.  (Polled: bash's
# wait -n misses a job that ended before it was called; wait PID does not.)
wait_one() {
	local pid
	while :; do
		for pid in "${!RUNNING[@]}"; do
			if ! kill -0 "$pid" 2>/dev/null; then
				wait "$pid"
				finish_script "$pid" $?
				return
			fi
		done
		sleep 0.2
	done
}

boot_running() {
	local pid
	for pid in "${!RUNNING[@]}"; do
		case ${RUNNING[$pid]} in boot_*) return 0 ;; esac
	done
	return 1
}

run() {
	[ $# -ge 3 ] || usage
	build=$1
	local fixtures=$2 results=$3
	shift 3
	local jobs=${WS_TEST_JOBS:-2} no_boot=0 name
	limit=${WS_TEST_TIMEOUT:-900}
	while [ $# -gt 0 ]; do
		case $1 in
		--only) [ $# -ge 2 ] || usage; name=$(basename "$2" .sh); ONLY[$name]=wanted; shift 2 ;;
		--no-boot) no_boot=1; shift ;;
		--jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
		--timeout) [ $# -ge 2 ] || usage; limit=$2; shift 2 ;;
		*) usage ;;
		esac
	done
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --jobs wants a positive number, not $jobs" >&2; exit 2; }
	[[ $limit =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --timeout wants seconds, not $limit" >&2; exit 2; }

	export WS_BUILD=$(cd "$top/$build" 2>/dev/null && pwd || echo "$build")
	export WS_FIXTURES=$(cd "$fixtures" 2>/dev/null && pwd || echo "$fixtures")
	export WS_BIN="$WS_BUILD/winstate"
	export WS_TOOLS="$WS_BUILD/tools"
	export WS_SHARED=${WS_SHARED:-$(cd "$top/.." && pwd)/shared}
	export WS_TOP=$top
	# Leak reports from Criterion's own runner are not ours to fix (tests/lsan.supp).
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	mkdir -p "$(dirname "$results")"
	logs=$(mktemp -d "${TMPDIR:-/tmp}/winstate-run-XXXXXX")
	trap 'rm -rf "$logs"' EXIT
	# Interrupted: timeout passes the signal on to each running script.
	trap 'kill -TERM "${!RUNNING[@]}" 2>/dev/null; wait; exit 130' INT TERM

	local units=() bin queue=() script
	for bin in "$build"/tests/unit-*; do
		[ -x "$bin" ] || continue
		selected "$(basename "$bin")" && units+=("$bin")
	done
	for script in "$top"/tests/integration/*.sh; do
		[ -f "$script" ] || continue
		name=$(basename "$script" .sh)
		selected "$name" || continue
		if [ "$no_boot" -eq 1 ] && [[ $name == boot_* ]]; then continue; fi
		queue+=("$script")
	done
	for name in "${!ONLY[@]}"; do
		if [ "${ONLY[$name]}" != used ]; then
			echo "run.sh: --only $name: no unit binary $build/tests/$name and no tests/integration/$name.sh" >&2
			exit 2
		fi
	done
	[ "$no_boot" -eq 0 ] || echo "(boot_* scripts not run: --no-boot)"

	for bin in "${units[@]}"; do
		unit_binary "$bin" "$logs/unit.log"
	done

	# Fill free slots in queue order; a boot script starts only when nothing
	# runs, and nothing starts beside it (the slot goes to the next script
	# that is not a boot, so the boots run last).
	local i started
	while [ ${#queue[@]} -gt 0 ] || [ ${#RUNNING[@]} -gt 0 ]; do
		started=0
		if [ ${#RUNNING[@]} -lt "$jobs" ] && ! boot_running; then
			for i in "${!queue[@]}"; do
				name=$(basename "${queue[$i]}" .sh)
				if [[ $name == boot_* ]] && [ ${#RUNNING[@]} -gt 0 ]; then continue; fi
				start_script "${queue[$i]}"
				unset "queue[$i]"
				queue=("${queue[@]}")
				started=1
				break
			done
		fi
		[ "$started" -eq 1 ] || wait_one
	done

	echo "$passed $failed $skipped" >"$results"
	echo "$(basename "$build"): $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}

case ${1:-} in
--run) shift; run "$@" ;;
--summary) shift; summary "$@" ;;
*) usage ;;
esac
