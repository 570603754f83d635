#!/usr/bin/env bash
# Restore against hostile or broken inputs: a path through a junction on the
# target, damaged / truncated / newer / encrypted stores, a target that fills
# up.  Each is refused or skipped with a sentence, nothing is written outside
# the profile, and the target's own files stay intact.  Checked through the
# ntfs-3g driver.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
ln -sf "$WS_BIN" "$WORK/loadstate"

# --- 1. A folder on the source is a junction on the target ---------------------
# The source has a real "Documents/My Music" folder with a file; the target
# (another machine where alice already has her profile) has the usual junction
# there.  Nothing may land behind the junction; existing files are kept (keep both).
cp --sparse=always "$vol" "$WORK/src.img"
mnt "$WORK/src.img" "$WORK/rw" rw
rm "$WORK/rw/Users/alice/Documents/My Music" || fail "cannot remove the junction on the source"
mkdir "$WORK/rw/Users/alice/Documents/My Music"
echo "behind the junction" >"$WORK/rw/Users/alice/Documents/My Music/evil.txt"
umnt "$WORK/rw"
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/store" --efs skip --ui alice --ue '*'
run 0 "$WS_BIN" list "$WORK/store"
grep -qF "My Music/evil.txt" <<<"$OUT" ||
	fail "the capture did not take Documents/My Music/evil.txt, which the junction cases below restore: $OUT"
cp --sparse=always "$vol" "$WORK/other.img"
run 1 "$WS_BIN" load "$WORK/store" "$WORK/other.img" --json
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
bad = [p for p in d["problems"] if "My Music/evil.txt" in p]
assert bad and "junction" in bad[0], d["problems"]
assert d["users"][0]["target_sid"] == d["users"][0]["store_sid"] and not d["users"][0]["created"]
assert d["renamed"] > 50, d["renamed"]
' "$OUT" || fail "junction on the target: $OUT"
mnt "$WORK/other.img" "$WORK/m"
! find "$WORK/m/Users/alice/Music" "$WORK/m/Users/alice/Documents" -name 'evil*' 2>/dev/null | grep -q . ||
	fail "a file went through the junction"
# The target's own file is untouched (same record, same times); the restored copy sits next to it.
base=${READONLY_FILE%.pdf}
mnt "$vol" "$WORK/pristine"
[ -e "$WORK/m/$base(1).pdf" ] || fail "no keep-both copy of $READONLY_FILE"
cmp "$WORK/m/$base(1).pdf" "$WORK/pristine/$READONLY_FILE" || fail "the keep-both copy differs"
[ "$(stat -c %i "$WORK/m/$READONLY_FILE")" = "$(stat -c %i "$WORK/pristine/$READONLY_FILE")" ] || fail "original replaced"
x=$(getfattr --absolute-names -h -e hex -n system.ntfs_times "$WORK/m/$READONLY_FILE" | tail -n +2)
y=$(getfattr --absolute-names -h -e hex -n system.ntfs_times "$WORK/pristine/$READONLY_FILE" | tail -n +2)
[ "$x" = "$y" ] || fail "the target's own $READONLY_FILE was touched"
umnt "$WORK/pristine"
umnt "$WORK/m"

# --- 2. Damaged stores ----------------------------------------------------------
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/good" --efs skip --ui carol --ue '*'
cp -r "$WORK/good" "$WORK/flipped"
mig="$WORK/flipped/USMT/USMT.MIG"
# Flip one byte in the first frames (after the 128-byte header and the
# dictionary, whose place is in the 96-byte trailer at bytes 56 and 72).
python3 -c '
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
doff, dlen = struct.unpack_from("<Q8xQ", b, len(b) - 96 + 56)
b[(doff + dlen if doff else 128) + 2000] ^= 0x55
open(p, "wb").write(b)' "$mig"
run 3 "$WS_BIN" verify "$WORK/flipped"
contains "$OUT" "DAMAGED Users/carol/"
cp --sparse=always "$WORK/src.img" "$WORK/t1.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/t1.img" >/dev/null 2>&1 || fail reinstall
cp --sparse=always "$WORK/t1.img" "$WORK/t2.img"
cp --sparse=always "$WORK/t1.img" "$WORK/t3.img"
run 3 "$WS_BIN" load "$WORK/flipped" "$WORK/t1.img"
contains "$ERR" "Users/carol/"
contains "$ERR" "--continue"
run 1 "$WS_BIN" load "$WORK/flipped" "$WORK/t1.img" --continue --json
damaged=$(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["problems"] and d["files"] > 10, d
print(d["problems"][0].split(": not restored")[0])' "$OUT") || fail "--continue: $OUT"
mnt "$WORK/t1.img" "$WORK/m"
[ ! -e "$WORK/m/$damaged" ] || fail "the damaged file $damaged was kept on the target"
umnt "$WORK/m"
run 42 "$WORK/loadstate" "$WORK/flipped" "/target:$WORK/t2.img"
run 3 "$WORK/loadstate" "$WORK/flipped" "/target:$WORK/t2.img" /c

# Truncated: the trailer is gone.
cp -r "$WORK/good" "$WORK/cut"
truncate -s 100000 "$WORK/cut/USMT/USMT.MIG"
run 3 "$WS_BIN" load "$WORK/cut" "$WORK/t2.img"
contains "$ERR" "truncated"
run 3 "$WS_BIN" verify "$WORK/cut"

# Newer format version (directory store: the catalog's version field).
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/plain" --nocompress --efs skip --ui carol --ue '*'
# A hostile catalog (checksum recomputed, so only the names are wrong): "..", an absolute
# path, a NUL, a reserved device name.  The reader refuses the store; nothing is written.
for evil in 'Users/../../' '/Users/carol' 'Users/c\0rol/' 'COM1.dsktop'; do
	rm -rf "$WORK/evil" && cp -r "$WORK/plain" "$WORK/evil"
	python3 - "$WORK/evil/catalog" "$evil" <<'PY' || fail "cannot forge a catalog with $evil"
import hashlib, sys
path, evil = sys.argv[1], sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
b = bytearray(open(path, "rb").read())
body = bytes(b[:-32])
old = {b"Users/../../": b"Users/carol/", b"/Users/carol": b"Users/carol/",
       b"Users/c\0rol/": b"Users/carol/", b"COM1.dsktop": b"desktop.ini"}[evil]
if evil == b"/Users/carol":  # the whole path field: shift it one byte right inside its length
    i = body.index(b"Users/carol/")
    body = body[:i] + b"/" + body[i:i + 11] + body[i + 12:]
else:
    i = body.index(old)
    body = body[:i] + evil + body[i + len(old):]
open(path, "wb").write(body + hashlib.blake2b(body, digest_size=32).digest())
PY
	run 3 "$WS_BIN" load "$WORK/evil" "$WORK/t3.img"
	grep -qE 'unsafe name|NUL byte' <<<"$ERR" || fail "$evil: refused for another reason: $ERR"
	run 42 "$WORK/loadstate" "$WORK/evil" "/target:$WORK/t3.img"
	run 3 "$WS_BIN" verify "$WORK/evil"
done
mnt "$WORK/t3.img" "$WORK/m"
[ ! -e "$WORK/m/Users/carol" ] || fail "a hostile store wrote something"
umnt "$WORK/m"
printf '\177' | dd of="$WORK/plain/catalog" bs=1 seek=8 conv=notrunc status=none
run 3 "$WS_BIN" load "$WORK/plain" "$WORK/t2.img"
contains "$ERR" "newer"
run 27 "$WORK/loadstate" "$WORK/plain" "/target:$WORK/t2.img"

# Encrypted: a wrong key is refused before anything is written.
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/sealed" --efs skip --ui carol --ue '*' --encrypt --key right-key
run 3 "$WS_BIN" load "$WORK/sealed" "$WORK/t3.img" --key wrong-key
contains "$ERR" "wrong key"
run 37 "$WORK/loadstate" "$WORK/sealed" "/target:$WORK/t3.img" /decrypt /key:wrong-key
run 3 "$WS_BIN" load "$WORK/sealed" "$WORK/t3.img"
mnt "$WORK/t3.img" "$WORK/m"
[ ! -e "$WORK/m/Users/carol" ] || fail "a refused store wrote a profile"
umnt "$WORK/m"
run 0 "$WS_BIN" load "$WORK/sealed" "$WORK/t3.img" --key right-key

# --- 3. A target that fills up --------------------------------------------------
# A 24 MiB volume with a Windows (hives) and a Default profile; alice holds ~45 MiB.
truncate -s 24M "$WORK/small.img"
mkntfs -F -Q -q -L Small "$WORK/small.img" >/dev/null 2>&1 || fail mkntfs
mnt "$WORK/small.img" "$WORK/rw" rw
mkdir -p "$WORK/rw/Windows/System32/config" "$WORK/rw/Users/Default"
for h in SOFTWARE SYSTEM SAM SECURITY DEFAULT; do cp "$HIVES_DIR/$h" "$WORK/rw/Windows/System32/config/"; done
cp "$HIVES_DIR/NTUSER-Default.DAT" "$WORK/rw/Users/Default/NTUSER.DAT"
umnt "$WORK/rw"
mnt "$WORK/small.img" "$WORK/m"
(cd "$WORK/m" && find Windows Users -type f -exec sha256sum {} + | sort) >"$WORK/small.before"
umnt "$WORK/m"
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/big" --efs skip --ui alice --ue '*'
run 4 "$WS_BIN" load "$WORK/big" "$WORK/small.img"
contains "$ERR" "full"
mnt "$WORK/small.img" "$WORK/m"
(cd "$WORK/m" && find Windows Users/Default -type f -exec sha256sum {} + | sort) >"$WORK/small.after"
grep -v ' Users/alice' "$WORK/small.before" | diff - "$WORK/small.after" >/dev/null ||
	fail "the full target's own files changed: $(diff "$WORK/small.before" "$WORK/small.after" | head)"
umnt "$WORK/m"
# What was restored before the volume filled is whole: no file cut short.
mnt "$WORK/src.img" "$WORK/srcm"
mnt "$WORK/small.img" "$WORK/m"
n=0
while read -r f; do
	cmp -s "$WORK/m/Users/alice/$f" "$WORK/srcm/Users/alice/$f" || fail "cut short on the full target: $f"
	n=$((n + 1))
done < <(cd "$WORK/m/Users/alice" && find . -type f ! -name NTUSER.DAT)
umnt "$WORK/m"
umnt "$WORK/srcm"
[ $n -gt 0 ] || fail "nothing was restored before the volume filled"
exit 0
