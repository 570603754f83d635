#!/usr/bin/env bash
# Runs winstate's libFuzzer targets for a bounded time each and keeps score.
#
#   tests/fuzz/run.sh [--build DIR] [--fixtures DIR] [--shared DIR] [--seconds N]
#                     [--results FILE] [TARGET...]
#
# DIR (default build/fuzz) holds the fuzz_* binaries and mkseeds (`make fuzz-build`).
# For each target: seeds are made afresh in DIR/seeds/TARGET (winstate's own
# writers via mkseeds, plus the first MiB of the fixture disks, the fixture
# hives, and — when ../shared is there — real hives, logs, disks and
# Microsoft's rule files: built here at run time, never committed); every
# file in tests/fuzz/regress/TARGET/ (crashes found earlier) is replayed and
# must pass; then the target fuzzes for N seconds (FUZZ_SECONDS, default 60)
# with its growing corpus in DIR/corpus/TARGET.  A crash leaves its input in
# DIR/artifacts/ and makes the script exit 1; copy it into
# tests/fuzz/regress/TARGET/ once fixed.  One line per target is printed and
# appended to DIR/fuzz-results.tsv (target, seconds, executions, exec/s,
# coverage, corpus size, crashes).  --results FILE writes "passed failed
# skipped" for tests/run.sh --summary (one test per target).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=build/fuzz
fixtures=
shared=${WS_SHARED:-$top/../shared}
seconds=${FUZZ_SECONDS:-60}
results=
targets=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--fixtures) fixtures=$2; shift 2 ;;
	--shared) shared=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
case $seconds in ''|*[!0-9]*) echo "run.sh: --seconds wants a whole number, not '$seconds'" >&2; exit 2 ;; esac
cd "$top" || exit 2
if [ ${#targets[@]} -eq 0 ]; then
	for src in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
fi
for t in "${targets[@]}" mkseeds; do
	if [ ! -x "$build/$t" ]; then
		echo "run.sh: $build/$t is missing: build the fuzzers first (make fuzz-build)" >&2
		exit 2
	fi
done

scratch=$(mktemp -d /dev/shm/wsfuzz-run.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export WS_FUZZ_TMP=$scratch
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# ------------------------------------------------------------------ seeds --
seeds=$build/seeds
rm -rf "$seeds"
if ! "$build/mkseeds" "$seeds" >"$scratch/mkseeds.log" 2>&1; then
	cat "$scratch/mkseeds.log" >&2
	echo "run.sh: mkseeds failed" >&2
	exit 1
fi
first_mib() { head -c 1048576 >"$2" 2>/dev/null <"$1" || true; }
n_fixture=0 n_shared=0
if [ -n "$fixtures" ] && [ -d "$fixtures" ]; then
	for img in "$fixtures"/*.img; do
		[ -f "$img" ] || continue
		first_mib "$img" "$seeds/fuzz_disk/fixture-$(basename "$img" .img)"
		n_fixture=$((n_fixture + 1))
	done
	for h in "$fixtures"/hives/*; do
		[ -f "$h" ] && [ "$(stat -c %s "$h")" -le 1048576 ] || continue
		cp "$h" "$seeds/fuzz_hive_base/fixture-$(basename "$h")"
		n_fixture=$((n_fixture + 1))
	done
fi
for x in rules/xml/*.xml; do
	[ -f "$x" ] && cp "$x" "$seeds/fuzz_rules/" && n_fixture=$((n_fixture + 1))
done
if [ -d "$shared" ]; then
	for x in "$shared"/usmt-xml/MigUser.xml "$shared"/usmt-xml/MigDocs.xml; do
		[ -f "$x" ] && cp "$x" "$seeds/fuzz_rules/shared-$(basename "$x")" && n_shared=$((n_shared + 1))
	done
	for xz in "$shared"/hives/*.xz; do
		[ -f "$xz" ] || continue
		name=$(basename "$xz" .xz)
		out=$seeds/fuzz_hive_base/shared-$name
		case $name in *.LOG1|*.LOG2|*.log1|*.log2) out=$seeds/fuzz_hive_log/shared-$name ;; esac
		# Real hives of more than 1 MiB would make every input slow; smaller ones only.
		size=$(xz -l --robot "$xz" 2>/dev/null | awk '/^totals/ {print $5}')
		[ -n "$size" ] && [ "$size" -le 1048576 ] || continue
		xz -dc "$xz" >"$out" 2>/dev/null && n_shared=$((n_shared + 1))
	done
	for gz in "$shared"/ntfs/*.raw.gz; do
		[ -f "$gz" ] || continue
		gzip -dc "$gz" 2>/dev/null | head -c 1048576 >"$seeds/fuzz_disk/shared-$(basename "$gz" .raw.gz)"
		n_shared=$((n_shared + 1))
	done
	if [ -f "$shared/ntfs/charlie.dd.bz2" ]; then
		bzip2 -dc "$shared/ntfs/charlie.dd.bz2" 2>/dev/null | head -c 1048576 >"$seeds/fuzz_disk/shared-charlie"
		n_shared=$((n_shared + 1))
	fi
fi
echo "fuzz: seeds in $seeds ($n_fixture from the fixtures and rules/xml, $n_shared from $shared)"

max_len() {
	case $1 in
	fuzz_disk|fuzz_hive_base|fuzz_hive_log) echo 1048576 ;;
	fuzz_store_pack) echo 524288 ;;
	*) echo 65536 ;;
	esac
}

# ------------------------------------------------------------------- runs --
mkdir -p "$build/artifacts" "$build/corpus"
tsv=$build/fuzz-results.tsv
[ -f "$tsv" ] || printf 'date\ttarget\tseconds\texecutions\texec_per_s\tcoverage\tcorpus\tcrashes\n' >"$tsv"
passed=0 failed=0
for t in "${targets[@]}"; do
	bin=$build/$t
	# 1. Earlier crashes, replayed: each must now pass.
	regress_fail=0 regress_n=0
	for f in tests/fuzz/regress/"$t"/*; do
		[ -f "$f" ] || continue
		regress_n=$((regress_n + 1))
		if ! "$bin" -timeout=60 -rss_limit_mb=4096 "$f" >"$scratch/regress.log" 2>&1; then
			echo "!! $t: regression input $f fails again:"
			grep -a -E 'ERROR|runtime error|SUMMARY|#[0-9]+ 0x' "$scratch/regress.log" | head -n 20 | sed 's/^/    /'
			regress_fail=$((regress_fail + 1))
		fi
	done
	# 2. Fuzz.
	corpus=$build/corpus/$t
	mkdir -p "$corpus" "$seeds/$t"
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
	before=$(ls "$build/artifacts" | wc -l)
	"$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
		-print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "${dict[@]}" \
		"$corpus" "$seeds/$t" >"$scratch/$t.log" 2>&1
	rc=$?
	after=$(ls "$build/artifacts" | wc -l)
	execs=$(grep -a 'stat::number_of_executed_units' "$scratch/$t.log" | awk '{print $2}' | tail -n 1)
	rate=$(grep -a 'stat::average_exec_per_sec' "$scratch/$t.log" | awk '{print $2}' | tail -n 1)
	cov=$(grep -a -o 'cov: [0-9]*' "$scratch/$t.log" | tail -n 1 | awk '{print $2}')
	units=$(ls "$corpus" | wc -l)
	crashes=$((after - before))
	[ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
	printf '%-20s %4ss  %9s executions  %6s/s  coverage %5s  corpus %5s  regressions %d/%d passed  %s\n' \
		"$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$units" \
		$((regress_n - regress_fail)) "$regress_n" "$([ "$crashes" -eq 0 ] && echo ok || echo CRASH)"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$seconds" "${execs:-0}" \
		"${rate:-0}" "${cov:-0}" "$units" "$crashes" >>"$tsv"
	if [ "$crashes" -ne 0 ]; then
		echo "!! $t crashed (exit $rc); input in $build/artifacts/$t-*:"
		grep -a -E 'ERROR|runtime error|SUMMARY|#[0-9]+ 0x' "$scratch/$t.log" | head -n 30 | sed 's/^/    /'
	fi
	if [ "$crashes" -eq 0 ] && [ "$regress_fail" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
if [ -n "$results" ]; then
	mkdir -p "$(dirname "$results")"
	echo "$passed $failed 0" >"$results"
fi
[ "$failed" -eq 0 ]
