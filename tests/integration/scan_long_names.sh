#!/usr/bin/env bash
# Every NTFS name survives a directory store (--nocompress) on a Linux
# filesystem, extract and a restore: a 110-character CJK name (334 bytes of
# UTF-8, more than the 255 a Linux folder holds), one of exactly 255 UTF-16
# units, a long folder name, six levels of long folder names, a real name that
# looks like an encoded one, and a lone surrogate (added here with ntfsraw,
# which makes names from raw UTF-16 units through libntfs-3g).
#
# Checked without winstate's reader: the store's folders with find (no name
# over 255 bytes, the contents byte for byte against the source through the
# ntfs-3g driver, which passes names up to 1024 bytes); the restored names
# as UTF-16 units with `ntfsraw names` (libntfs-3g directly: no UTF-8
# conversion in between), their contents through the ntfs-3g driver.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
[ -n "${LONG_NAME_CJK:-}" ] || fail "fixture.env has no LONG_NAME_CJK: rebuild the fixtures (make fixtures)"
raw=$WS_TOOLS/ntfsraw
[ -x "$raw" ] || fail "$raw is not built (make tests)"

U=Users/alice/Documents/Unicode
cp --sparse=always "$vol" "$WORK/src.img"
# A lone high surrogate (U+D800) in a name: legal in NTFS, not in UTF-8.
printf 'lone surrogate\r\n' >"$WORK/lone.txt"
# A name as ntfsraw prints it: each UTF-16 unit in 4 hex digits.
hexname() { python3 -c 'import struct, sys
b = sys.argv[1].encode("utf-16-le", "surrogatepass")
print("".join("%04x" % u for u in struct.unpack("<%dH" % (len(b) // 2), b)))' "$1"; }
LONE_HEX=$(python3 -c 'print("lone \ud800 surrogate.txt".encode("utf-16-le", "surrogatepass").hex())' |
	sed 's/\(..\)\(..\)/\2\1/g')
"$raw" "$WORK/src.img" mkfile "/$U" "$LONE_HEX" "$WORK/lone.txt" || fail "ntfsraw mkfile"
LONE="$U/lone $(printf '\xed\xa0\x80') surrogate.txt"   # WTF-8, as winstate spells it
LONGS=("$LONG_NAME_CJK" "$NAME_255" "$LONG_NAME_DIR_FILE" "$DEEP_LONG_NAMES" "$ENCODED_LOOKALIKE" "$LONE")

# 1. Capture to a directory store on ext4: no error, nothing skipped for its name.
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/store" --nocompress --efs skip
lacks "$ERR$OUT" "too long"
python3 - "$WORK/store/report.json" <<'EOF' || fail "report.json names a skipped long name"
import json, sys
r = json.load(open(sys.argv[1]))
bad = [s for s in r.get("skipped", []) if "Unicode" in s.get("path", "")]
assert not bad, bad
EOF
F="$WORK/store/USMT/File/C\$"
toolong=$(cd "$F" && find . | LC_ALL=C awk -F/ 'length($NF) > 255')
[ -z "$toolong" ] || fail "names over 255 bytes in the store: $toolong"
[ -f "$F/$UNICODE_CJK" ] || fail "a short name is not kept as it is"
[ ! -e "$F/$ENCODED_LOOKALIKE" ] || fail "a name shaped like an encoded one is stored as it is"
# The store's folders hold each long file's content, byte for byte (the
# source read through the ntfs-3g driver; the store file found by content).
mnt "$WORK/src.img" "$WORK/s" ro
(cd "$F" && find "$U" -type f -exec sha256sum {} +) >"$WORK/store.sums"
for p in "${LONGS[@]}"; do
	[ -f "$WORK/s/$p" ] || fail "the ntfs-3g driver does not show $p"
	sum=$(sha256sum <"$WORK/s/$p" | cut -d' ' -f1)
	grep -q "^$sum " "$WORK/store.sums" || fail "no file in the store holds the content of $p"
done

# 2. The catalog keeps the real names; verify and list read them.
run 0 "$WS_BIN" verify "$WORK/store"
run 0 "$WS_BIN" list "$WORK/store"
contains "$OUT" "(version 3)"
for p in "${LONGS[@]}"; do contains "$OUT" "$p"; done
# list --json says where each one is in the store's folders: that file holds its content.
"$WS_BIN" list "$WORK/store" --json >"$WORK/list.json" || fail "list --json"
python3 - "$WORK/list.json" "$WORK/store" "$WORK/s" "${LONGS[@]}" <<'EOF' || fail "list --json stored_as"
import json, os, sys
d = json.load(open(sys.argv[1]))
store, src = sys.argv[2].encode(), sys.argv[3].encode()
want = {os.fsencode(p) for p in sys.argv[4:]}
seen = 0
for f in d["files"]:
    path = f["path"].encode("utf-8", "surrogatepass")
    if path in want:
        assert "stored_as" in f, f["path"]
        a = open(os.path.join(store, f["stored_as"].encode("utf-8", "surrogatepass")), "rb").read()
        assert a == open(os.path.join(src, path), "rb").read(), f["path"]
        seen += 1
    elif "/Unicode/" in f["path"] and "~" not in f["path"]:
        assert "stored_as" not in f, f
assert seen == len(want), (seen, len(want))
EOF

# 3. extract to a tmpfs folder (NAME_MAX 255 there too): each long name is
# written under the store's encoded name and listed with its mapping.
mkdir -p "$WORK/x"
mount -t tmpfs -o size=64m tmpfs "$WORK/x" || fail "cannot mount a tmpfs"
run 0 "$WS_BIN" extract "$WORK/store" "$U/*" "$WORK/x/out"
for p in "${LONGS[@]}"; do contains "$OUT" "renamed: $p -> $WORK/x/out/"; done
lacks "$OUT" "renamed: $UNICODE_CJK"
contains "$OUT" "(6 under shortened names, listed above)"
cmp "$WORK/s/$UNICODE_CJK" "$WORK/x/out/$UNICODE_CJK" || fail "extract: $UNICODE_CJK"
while IFS= read -r line; do
	case $line in renamed:*) ;; *) continue ;; esac
	from=${line#renamed: }; from=${from%% -> *}
	to=${line#* -> }; to=${to% (a name in its path does not fit a Linux folder)}
	cmp "$WORK/s/$from" "$to" || fail "extract: $from (as $to) differs"
done <<<"$OUT"
# Again into the same folder: every file is there already; each is named.
run 4 "$WS_BIN" extract "$WORK/store" "$U/*" "$WORK/x/out"
for p in "${LONGS[@]}"; do contains "$ERR" "(the store's $p, under a shortened name)"; done
contains "$ERR" "File exists"
contains "$ERR" "--overwrite"
# The same through usmtutils.
ln -sf "$WS_BIN" "$WORK/usmtutils"
run 0 "$WORK/usmtutils" /extract "$WORK/store" "$WORK/x/usmt" "/i:$U/*"
contains "$OUT" "renamed: $LONG_NAME_CJK"
umount "$WORK/x" || fail "cannot unmount the tmpfs"

# 4. Restore onto the reinstalled Windows: every name as NTFS had it.
cp --sparse=always "$WORK/src.img" "$WORK/tgt.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt.img" >"$WORK/reinstall.log" 2>&1 \
	|| fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
NEW_ALICE=S-1-5-21-3777777777-3888888888-399999999-1001
NEW_BOB=S-1-5-21-3777777777-3888888888-399999999-1002
run 0 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" --mu "alice:$NEW_ALICE" --mu "WS-PC01\\bob:$NEW_BOB" \
	--ue olduser --ue erin --ue 'real*'
# UTF-16 units of each restored name, from libntfs-3g, against the source's.
units() { "$raw" "$1" names "/$2" | cut -f1 | sort; }
for d in "$U" "$LONG_NAME_DIR" "$(dirname "$DEEP_LONG_NAMES")"; do
	[ "$(units "$WORK/src.img" "$d")" = "$(units "$WORK/tgt.img" "$d")" ] ||
		fail "the names in $d differ after restore: $(diff <(units "$WORK/src.img" "$d") <(units "$WORK/tgt.img" "$d"))"
done
units "$WORK/tgt.img" "$U" | grep -qx "$LONE_HEX" || fail "the lone surrogate's name did not come back"
hexname "${NAME_255##*/}" >"$WORK/n255"
units "$WORK/tgt.img" "$U" | grep -qxf "$WORK/n255" || fail "the 255-unit name did not come back"
[ "$(wc -c <"$WORK/n255")" -eq $((255 * 4 + 1)) ] || fail "NAME_255 is not 255 units"
# Contents, through the ntfs-3g driver.
mnt "$WORK/tgt.img" "$WORK/t" ro
for p in "${LONGS[@]}"; do
	cmp "$WORK/s/$p" "$WORK/t/$p" || fail "restored $p differs"
done
umnt "$WORK/t"

# 5. A second restore keeps both: the 255-unit name's copy still fits NTFS.
run 0 "$WS_BIN" load "$WORK/store" "$WORK/tgt.img" --mu "alice:$NEW_ALICE" --mu "WS-PC01\\bob:$NEW_BOB" \
	--ue olduser --ue erin --ue 'real*'
contains "$OUT" "renamed to keep both"
[ "$("$raw" "$WORK/tgt.img" names "/$U" | cut -f1 | awk '{ print length($0) / 4 }' | grep -c '^255$')" -eq 2 ] ||
	fail "the copy of the 255-unit name is missing or longer than NTFS allows"
umnt "$WORK/s"

# 6. A host limit the encoding cannot lift: Linux's PATH_MAX (4096 bytes for a
# whole path).  The store sits 3300 bytes deep, so the deepest files (the six
# long folder levels, LONG_PATH_1000) cannot be made there: each is that
# file's error, named.  Without --continue the first stops the capture; with
# it the capture goes on (exit 1) and the store is whole without them.
base=$WORK/deep
for i in $(seq 13); do base=$base/$(printf 'd%.0s' $(seq 250)); done
mkdir -p "$base" || fail "cannot make $base"
ALICE=(--ui alice --ue '*' --efs skip)
run 4 "$WS_BIN" scan "$WORK/src.img" "$base/stop" --nocompress "${ALICE[@]}"
contains "$ERR" "File name too long"
contains "$ERR" "--continue"
run 1 "$WS_BIN" scan "$WORK/src.img" "$base/go" --nocompress --continue "${ALICE[@]}"
contains "$OUT" "2 item(s) could not be captured (errors continued past): listed in report.json"
python3 - "$base/go/report.json" "$DEEP_LONG_NAMES" "$LONG_PATH_1000" <<'EOF' || fail "report.json: a refused file is not listed"
import json, sys
r = json.load(open(sys.argv[1]))
for p in sys.argv[2:]:
    w = "C:\\" + p.replace("/", "\\")
    assert any(s["path"] == w and s["error"] and "too long" in s["reason"] for s in r["skipped"]), p
assert r["errors"] == 2, r["errors"]
EOF
run 0 "$WS_BIN" verify "$base/go"
run 0 "$WS_BIN" list "$base/go"
contains "$OUT" "$LONG_NAME_CJK"
lacks "$OUT" "$DEEP_LONG_NAMES"
echo "ok"
