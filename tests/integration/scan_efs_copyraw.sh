#!/usr/bin/env bash
# --efs copyraw (/efs:copyraw): EFS-encrypted files captured raw — ciphertext
# and $EFS metadata, never decrypted — into compressed and directory stores,
# restored onto a reinstalled Windows, and checked through the ntfs-3g driver
# in its own raw mode (ntfs-3g -o ro,efs_raw: the file's bytes are the raw
# ciphertext, user.ntfs.efsinfo the $EFS metadata), never winstate's reader:
# every file byte-identical raw, same $EFS, ENCRYPTED bit, times; the user's
# certificate and keys restored as plain files.  Bad input: copyraw with a
# hard-link store, a store whose raw EFS file lost its $EFS metadata or holds
# a truncated one, a flipped ciphertext byte (verify), extract refusing
# ciphertext, a sparse EFS file (no exact raw form), a plain capture.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
command -v getfattr >/dev/null || fail "getfattr (attr) is not installed (make deps installs it)"
SS="$WORK/bin/scanstate"
mkdir -p "$WORK/bin" && ln -s "$WS_BIN" "$SS"
cd "$WORK" || fail "cd"
P=Users/alice/Documents/Private
NEW_ALICE=S-1-5-21-3777777777-3888888888-399999999-1001
R=Users/alice/AppData/Roaming/Microsoft
KEYS="$R/Crypto/RSA/$ALICE_SID/0a1b2c3d4e5f_keycontainer $R/Protect/$ALICE_SID/11111111-2222-3333-4444-555555555555
$R/SystemCertificates/My/Certificates/0123456789ABCDEF0123456789ABCDEF01234567"
cp --sparse=always "$vol" src.img

# More EFS files than the fixture's one (4096 bytes: no padding), made as the
# fixture makes it (ntfs-3g's efs_raw mode: raw data first, then the $EFS
# metadata): sizes that need padding, an empty file, a large one, a named
# stream (encrypted too), a hidden one.
mnt src.img m rw,efs_raw,streams_interface=xattr
python3 - "m/$P" "m/$EFS_FILE" <<'EOF' || fail "making the extra EFS files"
import os, random, struct, sys
d, model = sys.argv[1], sys.argv[2]
info = os.getxattr(model, "user.ntfs.efsinfo")
def raw(n, seed):
    r = random.Random(seed)
    blocks = (n + 511) // 512 * 512
    return bytes(r.getrandbits(8) for _ in range(blocks)) + struct.pack("<H", blocks - n)
def make(name, n, streams=()):
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(raw(n, name))
    for sname, sn in streams:
        os.setxattr(p, "user." + sname, raw(sn, name + sname))
    os.setxattr(p, "user.ntfs.efsinfo", info)
make("odd-size.bin", 1000)
make("empty.txt", 0)
make("large.dat", 3 * 1024 * 1024 + 17)
make("with-stream.docx", 5000, [("Zone.Identifier", 100)])
make("hidden.txt", 511)
os.setxattr(os.path.join(d, "hidden.txt"), "system.ntfs_attrib_be", struct.pack(">I", 0x4022))
EOF
# The user's EFS certificate and private key, as Windows keeps them (made-up bytes).
for k in $KEYS; do
	mkdir -p "m/${k%/*}" && head -c 777 /dev/urandom >"m/$k" || fail "making $k"
done
umnt m
FILES="$EFS_FILE $P/odd-size.bin $P/empty.txt $P/large.dat $P/with-stream.docx $P/hidden.txt"

# The source as the driver sees it, raw.
mnt src.img srcm ro,efs_raw,streams_interface=xattr
for f in $FILES; do
	a=$(getfattr -h -e hex -n system.ntfs_attrib_be "srcm/$f" 2>/dev/null | sed -n 's/.*=0x//p')
	[ $((0x$a & 0x4000)) -ne 0 ] || fail "fixture: $f is not encrypted (attributes 0x$a)"
done
umnt srcm

# ---- copyraw with a hard-link store: refused, as USMT (/efs:hardlink is for those)
run 2 "$WS_BIN" scan src.img MigStore --hardlink --nocompress --efs copyraw
contains "$ERR" "--efs hardlink"
run 11 "$SS" MigStore /offlinewindir:src.img /hardlink /nocompress /efs:copyraw
contains "$ERR" "/efs:hardlink"

# ---- capture: compressed and directory stores (scanstate spelling for one)
run 0 "$WS_BIN" scan src.img cstore --efs copyraw --ui alice --ue '*' --log c.log --verbosity 1
contains "$(cat c.log)" "EFS-encrypted: stored raw"
run 0 "$SS" "$WORK/dstore" /offlinewindir:src.img /efs:copyraw /nocompress \
	/ue:'*' /ui:alice
for s in cstore dstore; do
	run 0 "$WS_BIN" verify "$s"
	contains "$OUT" "0 damaged"
	python3 - "$s/report.json" "$FILES" <<'EOF' || fail "$s: an EFS file was skipped: $(cat "$s/report.json")"
import json, sys
r = json.load(open(sys.argv[1]))
skipped = [k["path"].lower() for k in r["skipped"]]
for f in sys.argv[2].split():
    assert "c:\\" + f.replace("/", "\\").lower() not in skipped, f
assert r["errors"] == 0, r["errors"]
EOF
	run 0 "$WS_BIN" list "$s"
	contains "$(grep -F "$P/large.dat" <<<"$OUT")" "(EFS-encrypted, stored raw)"
	lacks "$(grep -F "$READONLY_FILE" <<<"$OUT")" "EFS"
	run 0 "$WS_BIN" list "$s" --json
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
raw = sorted(f["path"] for f in d["files"] if f["raw_efs"])
assert raw == sorted(sys.argv[2].split()), raw' "$OUT" "$FILES" || fail "$s: list --json raw_efs"
done
# The directory store's copy of a file is its raw form, as the driver reads it.
[ "$(stat -c %s "dstore/USMT/File/C\$/$P/odd-size.bin")" = 1026 ] ||
	fail "the directory store does not hold odd-size.bin raw (1024 + 2 bytes)"
mnt src.img srcm ro,efs_raw
cmp "srcm/$P/odd-size.bin" "dstore/USMT/File/C\$/$P/odd-size.bin" || fail "dstore: raw bytes differ"
umnt srcm

# ---- verify checks the raw bytes: one flipped byte of ciphertext is named
cp -a dstore flipped
python3 -c 'import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[1234567] ^= 0x5A
open(p, "wb").write(b)' "flipped/USMT/File/C\$/$P/large.dat" || fail "flipping a byte"
run 3 "$WS_BIN" verify flipped
contains "$OUT$ERR" "$P/large.dat"
contains "$OUT$ERR" "1 damaged"

# ---- extract never hands out ciphertext as a file; the other files come out
run 1 "$WS_BIN" extract cstore '*' xout
contains "$ERR" "EFS-encrypted and stored raw"
for f in $FILES; do
	[ ! -e "xout/$f" ] || fail "extract wrote the ciphertext of $f as a file"
done
[ -s "xout/$READONLY_FILE" ] || fail "extract left out the other files"
ln -s "$WS_BIN" "$WORK/bin/usmtutils"
run 3 "$WORK/bin/usmtutils" /extract "$WORK/dstore" "$WORK/xout2" '/i:*.bin,*.pdf'
contains "$ERR" "odd-size.bin is EFS-encrypted and stored raw"
[ ! -e "xout2/$P/odd-size.bin" ] || fail "usmtutils /extract wrote ciphertext as a file"
[ -s "xout2/$READONLY_FILE" ] || fail "usmtutils /extract left out the other files"

# ---- restore onto a reinstalled Windows; the driver checks it raw
restore_and_check() { # STORE TARGET
	cp --sparse=always src.img "$2"
	WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$2" >reinstall.log 2>&1 \
		|| fail "reinstall.sh: $(tail -5 reinstall.log)"
	run 0 "$WS_BIN" load "$1" "$2" --mu "alice:$NEW_ALICE" --log "$1.load.log"
	mnt src.img srcm ro,efs_raw,streams_interface=xattr
	mnt "$2" tgtm ro,efs_raw,streams_interface=xattr
	for f in $FILES; do
		[ -f "tgtm/$f" ] || fail "$1: $f was not restored: $(grep -F "$(basename "$f")" "$1.load.log")"
		cmp "srcm/$f" "tgtm/$f" || fail "$1: $f: the raw bytes differ"
		for x in user.ntfs.efsinfo system.ntfs_attrib_be system.ntfs_times_be; do
			a=$(getfattr -h -e hex -n $x "srcm/$f" 2>&1 | grep =)
			b=$(getfattr -h -e hex -n $x "tgtm/$f" 2>&1 | grep =)
			[ -n "$a" ] && [ "$a" = "$b" ] || fail "$1: $f: $x differs: source $a, restored $b"
		done
	done
	a=$(getfattr -h -e hex -n user.Zone.Identifier "srcm/$P/with-stream.docx" | grep =)
	b=$(getfattr -h -e hex -n user.Zone.Identifier "tgtm/$P/with-stream.docx" 2>&1 | grep =)
	[ -n "$a" ] && [ "$a" = "$b" ] || fail "$1: the named stream (raw) differs: $a / $b"
	# No stray stream: $EFS is not a data stream on the target.
	getfattr -h -d -m '^user\.' "tgtm/$EFS_FILE" 2>/dev/null | grep -q 'EFS' &&
		fail "$1: the \$EFS metadata became a named stream"
	umnt tgtm
	umnt srcm
	# The certificate and keys came with the profile, as plain files.
	mnt src.img srcm ro
	mnt "$2" tgtm ro
	for k in $KEYS; do
		cmp "srcm/$k" "tgtm/$k" || fail "$1: $k was not restored as it was"
	done
	umnt tgtm
	umnt srcm
	# Through the driver's normal (not raw) mode the size is the real one.
	mnt "$2" tgtm ro
	[ "$(stat -c %s "tgtm/$P/odd-size.bin")" = 1000 ] || fail "$1: odd-size.bin is not 1000 bytes"
	[ "$(stat -c %s "tgtm/$P/empty.txt")" = 0 ] || fail "$1: empty.txt is not empty"
	[ "$(stat -c %s "tgtm/$P/large.dat")" = $((3 * 1024 * 1024 + 17)) ] || fail "$1: large.dat size"
	umnt tgtm
}
restore_and_check cstore tgt-c.img
restore_and_check dstore tgt-d.img

# ---- a damaged store: the raw EFS file without its $EFS metadata, or with a
# truncated one (checksums made consistent: the store itself verifies)
cp -a dstore bad1
cp -a dstore bad2
python3 - bad1 bad2 <<'EOF' || fail "damaging the stores"
import hashlib, os, sys
def load(s):
    return bytearray(open(os.path.join(s, "catalog"), "rb").read())
def save(s, c):
    c[-32:] = hashlib.blake2b(bytes(c[:-32]), digest_size=32).digest()
    open(os.path.join(s, "catalog"), "wb").write(c)
name = b"\x06\x00\x00\x00::$EFS"
# bad1: the stream is no longer $EFS metadata (renamed to a plain name)
c = load(sys.argv[1])
n = c.count(name)
assert n == 6, n
c = bytearray(bytes(c).replace(name, b"\x06\x00\x00\x00zz$EFS"))
save(sys.argv[1], c)
# bad2: every $EFS blob cut to 40 bytes (its header says more)
c = load(sys.argv[2])
pos = 0
while (pos := bytes(c).find(name, pos)) >= 0:
    p = pos + len(name)
    size = int.from_bytes(c[p:p + 8], "little")
    old = bytes(c[p + 9:p + 41])
    data = open(os.path.join(sys.argv[2], "USMT/Streams", old.hex()), "rb").read()
    assert len(data) == size
    cut = data[:40]
    h = hashlib.blake2b(cut, digest_size=32).digest()
    open(os.path.join(sys.argv[2], "USMT/Streams", h.hex()), "wb").write(cut)
    c[p:p + 8] = (40).to_bytes(8, "little")
    c[p + 9:p + 41] = h
    pos = p
save(sys.argv[2], c)
EOF
run 0 "$WS_BIN" verify bad1
run 0 "$WS_BIN" verify bad2
cp --sparse=always src.img tgt-bad.img
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" tgt-bad.img >reinstall.log 2>&1 ||
	fail "reinstall.sh: $(tail -5 reinstall.log)"
cp --sparse=always tgt-bad.img tgt-bad2.img
run 1 "$WS_BIN" load bad1 tgt-bad.img --mu "alice:$NEW_ALICE"
contains "$OUT$ERR" "$EFS_FILE: not restored: it was stored as a raw EFS file, but its \$EFS metadata"
run 1 "$WS_BIN" load bad2 tgt-bad2.img --mu "alice:$NEW_ALICE"
contains "$OUT$ERR" "$EFS_FILE: not restored: its \$EFS metadata in the store is damaged"
contains "$OUT$ERR" "truncated"
# The other files were restored; nothing half-made is left for the EFS ones.
mnt tgt-bad2.img tgtm ro
[ -f "tgtm/$READONLY_FILE" ] || fail "the rest of the store was not restored"
for f in $FILES; do
	[ ! -e "tgtm/$f" ] || fail "a damaged raw EFS file was restored anyway: $f"
done
ls "tgtm/$P" | grep -qi partial && fail "a partial file was left: $(ls "tgtm/$P")"
umnt tgtm

# ---- a sparse EFS file has no raw form that comes back exactly (its holes
# would return as ciphertext of zeros): an error for that file, the rest captured
cp --sparse=always src.img sp.img
mnt sp.img m rw,efs_raw
python3 -c 'import os, sys
d = sys.argv[1]
with open(d + "/sparse.bin", "wb") as f:
    f.seek(1 << 20)
    f.write(b"x" * 512 + b"\0\0")
os.setxattr(d + "/sparse.bin", "user.ntfs.efsinfo", os.getxattr(d + "/empty.txt", "user.ntfs.efsinfo"))
' "m/$P" || fail "making a sparse EFS file"
umnt m
run 4 "$WS_BIN" scan sp.img sp1 --efs copyraw --ui alice --ue '*'
contains "$ERR" "sparse.bin"
contains "$ERR" "is sparse (its holes have no ciphertext to copy)"
run 1 "$WS_BIN" scan sp.img sp2 --efs copyraw --ui alice --ue '*' --continue
grep -q 'sparse.bin.*"error": true.*is sparse' sp2/report.json || fail "report.json: $(grep sparse sp2/report.json)"
run 0 "$WS_BIN" verify sp2
run 0 "$WS_BIN" list sp2
contains "$OUT" "$P/large.dat"

# ---- a plain (non-copyraw) capture still refuses to store ciphertext
run 4 "$WS_BIN" scan src.img abort-store
contains "$ERR" "EFS-encrypted"
exit 0
