#!/usr/bin/env bash
# A user whose hive is damaged is reported with that state, never dropped; a
# dirty hive with its transaction logs beside it is replayed (read through the
# volume, copied out, replayed in a private copy: the image is not changed).
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
img="$WORK/users.img"
cp --sparse=always "$vol" "$img"
mnt="$WORK/mnt"
mnt "$img" "$mnt" rw
head -c 65536 /dev/urandom >"$mnt/$ALICE_PROFILE/NTUSER.DAT"
shared_hives="$WS_SHARED/hives"
replay=0
if [ -f "$shared_hives/transactions_NTUSER.DAT.xz" ]; then
	xz -dc "$shared_hives/transactions_NTUSER.DAT.xz" >"$mnt/$BOB_PROFILE/NTUSER.DAT"
	xz -dc "$shared_hives/transactions_ntuser.dat.log1.xz" >"$mnt/$BOB_PROFILE/ntuser.dat.LOG1"
	xz -dc "$shared_hives/transactions_ntuser.dat.log2.xz" >"$mnt/$BOB_PROFILE/ntuser.dat.LOG2"
	replay=1
fi
umnt "$mnt"
before=$(sha256sum <"$img")

run 0 "$WS_BIN" users "$img" --no-sizes --json
python3 -c '
import json, sys
d = json.load(sys.stdin)
alice = [u for u in d["users"] if u["sid"] == sys.argv[1]]
assert alice, "alice was dropped"
assert alice[0]["hive_state"] == "unreadable", alice[0]
assert alice[0]["hive_detail"], alice[0]
if sys.argv[3] == "1":
    bob = [u for u in d["users"] if u["sid"] == sys.argv[2]][0]
    assert bob["hive_state"] == "replayed", bob
' "$ALICE_SID" "$BOB_SID" "$replay" <<<"$OUT" || fail "hive states: $OUT"
run 0 "$WS_BIN" users "$img" --no-sizes
contains "$OUT" "hive unreadable"
[ "$(sha256sum <"$img")" = "$before" ] || fail "reading the users changed the image"
[ "$replay" = 1 ] || skip "the damaged hive is reported; the replay case needs ../shared/hives (not here)"
exit 0
