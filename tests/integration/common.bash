# Shared by the integration scripts: sourced, never run.
# Each script exits 0 (pass), 77 (skip: say why on the last line) or 1 (fail).
# Skips are for what the project cannot make: ../shared data absent, a TMPDIR
# that folds case, no boot image in this build.  A missing fixture, tool of
# ours or Debian package of DEB_PACKAGES (make deps) is a failure.
set -uo pipefail
: "${WS_BIN:?run through tests/run.sh (WS_BIN is not set)}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/winstate-it-XXXXXX")
cleanup() {
	for m in $(grep -o " $WORK/[^ ]*" /proc/mounts 2>/dev/null); do umount "$m" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
[ -e "$WS_FIXTURES/stamp" ] || { echo "FAIL: no fixtures in $WS_FIXTURES (make fixtures)"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "$*"; exit 77; }

# run EXPECTED_EXIT CMD...: run, keep stdout/stderr in $OUT/$ERR, check the exit code.
run() {
	local want=$1; shift
	"$@" >"$WORK/out" 2>"$WORK/err"
	local got=$?
	OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
	[ "$got" -eq "$want" ] || fail "$* exited $got, expected $want; stderr: $ERR"
}
contains() { grep -qF -- "$2" <<<"$1" || fail "expected \"$2\" in: $1"; }
lacks() { ! grep -qF -- "$2" <<<"$1" || fail "did not expect \"$2\" in: $1"; }

# fixture NAME: its path (called as $(fixture NAME): a missing one is named
# on stderr here, and the script fails where it uses it).
fixture() {
	local f="$WS_FIXTURES/$1"
	[ -e "$f" ] || { echo "FAIL: fixture $f is not built (make fixtures)" >&2; exit 1; }
	echo "$f"
}

# mnt IMAGE DIR [OPTIONS]: mount with the ntfs-3g driver in the foreground
# (no_detach), so that umnt waits until the image is completely written.
declare -A MNT_PID
mnt() {
	mkdir -p "$2"
	ntfs-3g -o "no_detach,${3:-ro}" "$1" "$2" >>"$WORK/ntfs-3g.log" 2>&1 &
	MNT_PID[$2]=$!
	for _ in $(seq 1 200); do mountpoint -q "$2" && return 0; sleep 0.05; done
	fail "cannot mount $1: $(tail -3 "$WORK/ntfs-3g.log")"
}
# FUSE's umount returns before the daemon has written and closed the image:
# wait (30 s at most) for that ntfs-3g process to exit.
umnt() {
	local pid=${MNT_PID[$1]:-}
	[ -n "$pid" ] || fail "umnt $1: not mounted by mnt"
	umount "$1" || fail "cannot unmount $1"
	local i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "ntfs-3g for $1 (pid $pid) still runs 30 s after umount"
	wait "$pid"
	unset "MNT_PID[$1]"
}
