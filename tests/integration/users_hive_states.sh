#!/usr/bin/env bash
# A user whose hive is damaged is reported with that state, never dropped; a
# dirty hive with its transaction logs beside it is replayed (read through the
# volume, copied out, replayed in a private copy: the image is not changed).
# bob's dirty hive and log are made by our fixture tool (mkhive --dirty on his
# fixture hive and a copy hivexregedit changed); with ../shared/hives, carol
# also gets a dirty hive and logs written by Windows.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
hives=$(fixture hives)
. "$(fixture fixture.env)"
[ -x "$WS_TOOLS/mkhive" ] || fail "$WS_TOOLS/mkhive is not built (make tests)"
command -v hivexregedit >/dev/null || fail "hivexregedit (libwin-hivex-perl) is not installed (make deps installs it)"

# bob: his hive before and after one change only the log holds.
cp "$hives/NTUSER-bob.DAT" "$WORK/bob0.dat"
cp "$WORK/bob0.dat" "$WORK/bob1.dat"
printf 'Windows Registry Editor Version 5.00\n\n[\\WinstateLogOnly]\n"FromLog"="written by the log"\n' >"$WORK/log.reg"
hivexregedit --merge "$WORK/bob1.dat" "$WORK/log.reg" || fail "hivexregedit --merge"
"$WS_TOOLS/mkhive" --dirty "$WORK/bob.dat" "$WORK/bob.LOG1" "$WORK/bob0.dat" "$WORK/bob1.dat" >/dev/null ||
	fail "mkhive --dirty"

img="$WORK/users.img"
cp --sparse=always "$vol" "$img"
mnt="$WORK/mnt"
mnt "$img" "$mnt" rw
head -c 65536 /dev/urandom >"$mnt/$ALICE_PROFILE/NTUSER.DAT"
cp "$WORK/bob.dat" "$mnt/$BOB_PROFILE/NTUSER.DAT"
cp "$WORK/bob.LOG1" "$mnt/$BOB_PROFILE/ntuser.dat.LOG1"
shared_hives="$WS_SHARED/hives"
windows_logs=0
if [ -f "$shared_hives/transactions_NTUSER.DAT.xz" ]; then
	xz -dc "$shared_hives/transactions_NTUSER.DAT.xz" >"$mnt/$CAROL_PROFILE/NTUSER.DAT"
	xz -dc "$shared_hives/transactions_ntuser.dat.log1.xz" >"$mnt/$CAROL_PROFILE/ntuser.dat.LOG1"
	xz -dc "$shared_hives/transactions_ntuser.dat.log2.xz" >"$mnt/$CAROL_PROFILE/ntuser.dat.LOG2"
	windows_logs=1
else
	echo "no ../shared/hives: the replay of logs written by Windows is not tried (ours is)"
fi
umnt "$mnt"
before=$(sha256sum <"$img")

run 0 "$WS_BIN" users "$img" --no-sizes --json
python3 -c '
import json, sys
d = json.load(sys.stdin)
def user(sid):
    u = [u for u in d["users"] if u["sid"] == sid]
    assert u, sid + " was dropped"
    return u[0]
alice = user(sys.argv[1])
assert alice["hive_state"] == "unreadable", alice
assert alice["hive_detail"], alice
bob = user(sys.argv[2])
assert bob["hive_state"] == "replayed", bob
if sys.argv[4] == "1":
    carol = user(sys.argv[3])
    assert carol["hive_state"] == "replayed", carol
' "$ALICE_SID" "$BOB_SID" "$CAROL_SID" "$windows_logs" <<<"$OUT" || fail "hive states: $OUT"
run 0 "$WS_BIN" users "$img" --no-sizes
contains "$OUT" "hive unreadable"
# What only bob's log holds is read through the volume.
run 0 "$WS_BIN" reg "$img" --user bob 'HKCU\WinstateLogOnly'
contains "$OUT" "FromLog"
contains "$OUT" "written by the log"
[ "$(sha256sum <"$img")" = "$before" ] || fail "reading the users changed the image"
exit 0
