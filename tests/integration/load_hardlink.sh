#!/usr/bin/env bash
# The in-place refresh: Windows reinstalled on the same partition, a hard-link
# store captured from Windows.old, restored by linking (nothing copied), and
# the store removed with rmstore — only the store's own names go.  Checked
# through the ntfs-3g driver: same MFT records (inode numbers), same content.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
NEW_ALICE=S-1-5-21-3777777777-3888888888-399999999-1001

cp --sparse=always "$vol" "$WORK/tgt.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt.img" >"$WORK/reinstall.log" 2>&1 \
	|| fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
run 0 "$WS_BIN" scan "$WORK/tgt.img" MigStore --windir Windows.old/Windows --hardlink --nocompress --efs skip
"$WS_BIN" list --target "$WORK/tgt.img" MigStore --json >"$WORK/list.json" || fail "list of the hard-link store"
run 0 "$WS_BIN" verify --target "$WORK/tgt.img" MigStore
contains "$OUT" "0 damaged"
# USMT's spelling of the same folder works everywhere scan accepts it.
run 0 "$WS_BIN" verify --target "$WORK/tgt.img" 'C:\MigStore\'
run 3 "$WS_BIN" verify --target "$WORK/tgt.img" 'D:\MigStore'
contains "$ERR" "names another drive"
mnt "$WORK/tgt.img" "$WORK/m"
free_before=$(df -B1 --output=avail "$WORK/m" | tail -1)
umnt "$WORK/m"

# Without --hardlink the store folder is not a local store; with it, it is linked back.
run 3 "$WS_BIN" load MigStore "$WORK/tgt.img" --mu "alice:$NEW_ALICE"
run 2 "$WS_BIN" load /mnt/MigStore "$WORK/tgt.img" --hardlink --mu "alice:$NEW_ALICE"
contains "$ERR" "not by the local path"
run 0 "$WS_BIN" load 'C:\MigStore' "$WORK/tgt.img" --hardlink --mu "alice:$NEW_ALICE" --ui alice --ue '*' --json
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["links"] >= d["files"] > 90 and not d["problems"], d
' "$OUT" || fail "summary: $OUT"

mnt "$WORK/tgt.img" "$WORK/m"
python3 - "$WORK/list.json" "$WORK/m" "$ALICE_SID" <<'EOF' || fail "links"
import json, os, sys
d = json.load(open(sys.argv[1]))
root, sid = sys.argv[2], sys.argv[3]
n = 0
for f in d["files"]:
    if f["owner"] != sid or f["attributes"] & 0x410:
        continue
    old = os.path.join(root, "Windows.old", f["path"])
    new = os.path.join(root, f["path"])
    assert os.lstat(old).st_ino == os.lstat(new).st_ino, f["path"]  # the same MFT record
    assert os.lstat(new).st_nlink >= 3, f["path"]                   # Windows.old, store, profile
    n += 1
assert n > 90, n
# the system's share (Public folders) is restored whoever is selected
other = [f for f in d["files"] if f["owner"] not in (sid, "system")]
assert other and not any(os.path.exists(os.path.join(root, f["path"])) for f in other), "unselected users restored"
EOF
free_after=$(df -B1 --output=avail "$WORK/m" | tail -1)
# alice holds ~45 MiB; linking costs index entries and her new hive only.
[ $((free_before - free_after)) -lt $((8 * 1024 * 1024)) ] || fail "the restore copied data: $free_before -> $free_after"
umnt "$WORK/m"

# rmstore refuses a folder that is not a store, and a store with a stranger in it.
run 3 "$WS_BIN" rmstore --target "$WORK/tgt.img" Windows
contains "$ERR" "does not look like a winstate store"
mnt "$WORK/tgt.img" "$WORK/rw" rw
echo stranger >"$WORK/rw/MigStore/USMT/File/C\$/Users/alice/stranger.txt"
umnt "$WORK/rw"
run 4 "$WS_BIN" rmstore --target "$WORK/tgt.img" MigStore
contains "$ERR" "stranger.txt is not part of the store"
mnt "$WORK/tgt.img" "$WORK/rw" rw
[ -d "$WORK/rw/MigStore/USMT" ] || fail "a refused rmstore removed something"
rm "$WORK/rw/MigStore/USMT/File/C\$/Users/alice/stranger.txt"
umnt "$WORK/rw"

# The usmtutils spelling removes it: the store's names only.
ln -sf "$WS_BIN" "$WORK/usmtutils"
run 0 "$WORK/usmtutils" /rd MigStore "/target:$WORK/tgt.img" /y
mnt "$WORK/tgt.img" "$WORK/m"
[ ! -e "$WORK/m/MigStore" ] || fail "MigStore is still there"
cmp "$WORK/m/$READONLY_FILE" "$WORK/m/Windows.old/$READONLY_FILE" || fail "restored file lost with the store"
[ -s "$WORK/m/Windows.old/Users/bob/NTUSER.DAT" ] || fail "Windows.old lost files"
umnt "$WORK/m"
run 27 "$WORK/usmtutils" /rd MigStore "/target:$WORK/tgt.img" /y

# migrate-winold does both steps in one: capture from Windows.old, link back.
cp --sparse=always "$vol" "$WORK/w.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/w.img" >/dev/null 2>&1 || fail reinstall
run 1 "$WS_BIN" migrate-winold "$WORK/w.img" --ui alice --ue '*'
contains "$ERR" 'WS-PC01\alice'
run 0 "$WS_BIN" migrate-winold "$WORK/w.img" --store MigStore2 --mu "alice:$NEW_ALICE" --ui alice --ue '*'
contains "$OUT" "rmstore --target"
mnt "$WORK/w.img" "$WORK/m"
[ "$(stat -c %i "$WORK/m/$READONLY_FILE")" = "$(stat -c %i "$WORK/m/Windows.old/$READONLY_FILE")" ] ||
	fail "migrate-winold copied instead of linking"
[ -d "$WORK/m/MigStore2/USMT" ] || fail "the store should stay until rmstore"
umnt "$WORK/m"
exit 0
