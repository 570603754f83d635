#!/usr/bin/env bash
# Damaged NTFS metadata never crashes winstate: bits and bytes of MFT records
# (found through the boot sector and $MFT's own runlist) and of profile
# folders' index blocks are flipped, then volumes, ls, users, scan (a
# compressed store into a scratch folder) and explain run on the image.
# Each must exit below 128 within its timeout, print no sanitizer report
# (run with WS_BIN pointing at the ASan build to make that bite), and either
# succeed or say what is wrong; a capture either completes or names what it
# could not read.  Trials are deterministic (seeded) and quick; the image is
# restored byte for byte after each one (every command here only reads).
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
command -v python3 >/dev/null || fail "python3 is needed (make deps installs it)"
TRIALS=${WS_BITFLIP_TRIALS:-30}
cp --sparse=always "$vol" "$WORK/v.img"
cd "$WORK" || fail "cd"

# Record numbers (inode numbers through the ntfs-3g driver) of what is worth
# damaging: the root, Users, profile folders and their Documents, hives,
# user files; plus $MFT itself, $MFTMirr's neighbours and $Secure-era records.
mnt v.img "$WORK/m"
targets=()
for p in "" Users Users/alice Users/alice/Documents Users/bob Users/bob/OneDrive Users/carol \
	Users/alice/NTUSER.DAT Users/bob/NTUSER.DAT Windows/System32/config/SOFTWARE \
	Windows/System32/config/SAM "Users/alice/Documents/document-01.xlsx" \
	"Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat" ProgramData Windows; do
	i=$(stat -c %i "$WORK/m/$p" 2>/dev/null) || continue
	targets+=("$i:$p")
done
umnt "$WORK/m"
[ ${#targets[@]} -ge 10 ] || fail "could not find the records to damage: ${targets[*]}"

cat >"$WORK/flip.py" <<'PY'
# flip.py IMAGE SEED TARGET... : damage one record (or its folder's first
# index block) chosen by SEED; print what was done; save the old bytes in
# IMAGE.undo.  flip.py --undo IMAGE puts them back.
import random, struct, sys

def fixup(buf, sector=512):
    usa_ofs, usa_cnt = struct.unpack_from("<HH", buf, 4)
    b = bytearray(buf)
    for i in range(1, usa_cnt):
        end = i * sector - 2
        if end + 2 <= len(b) and usa_ofs + 2 * i + 2 <= len(b):
            b[end:end + 2] = b[usa_ofs + 2 * i:usa_ofs + 2 * i + 2]
    return bytes(b)

def runlist(b, off):
    runs, lcn = [], 0
    while off < len(b) and b[off]:
        h = b[off]; ln, lo = h & 15, h >> 4; off += 1
        n = int.from_bytes(b[off:off + ln], "little"); off += ln
        d = int.from_bytes(b[off:off + lo], "little", signed=True) if lo else 0; off += lo
        lcn += d
        runs.append((lcn if lo else None, n))
    return runs

def attrs(rec):
    off = struct.unpack_from("<H", rec, 20)[0]
    while off + 8 <= len(rec):
        t, ln = struct.unpack_from("<II", rec, off)
        if t == 0xFFFFFFFF or ln == 0:
            break
        yield t, rec[off:off + ln]
        off += ln

if sys.argv[1] == "--undo":
    img = sys.argv[2]
    with open(img, "r+b") as f, open(img + ".undo", "rb") as u:
        for line in u.read().decode().split("\n"):
            if line:
                o, h = line.split()
                f.seek(int(o)); f.write(bytes.fromhex(h))
    sys.exit(0)

img, seed, targets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rnd = random.Random(seed)
f = open(img, "r+b")
bs = f.read(512)
bps, spc = struct.unpack_from("<H", bs, 11)[0], bs[13]
cluster = bps * spc
mft_lcn = struct.unpack_from("<q", bs, 48)[0]
c = struct.unpack_from("<b", bs, 64)[0]
rsize = 1 << -c if c < 0 else c * cluster
f.seek(mft_lcn * cluster)
rec0 = fixup(f.read(rsize))
mft_runs = [runlist(a, struct.unpack_from("<H", a, 32)[0]) for t, a in attrs(rec0) if t == 0x80 and a[8]][0]

def record_offset(n):
    vcn_byte = n * rsize
    for lcn, count in mft_runs:
        if vcn_byte < count * cluster:
            return lcn * cluster + vcn_byte
        vcn_byte -= count * cluster
    return None

kind = rnd.choice(["record", "record", "record", "index", "any"])
if kind == "any":
    # Any of the first records in use, $MFT's own included.
    n, what = rnd.randrange(0, 64 * 16), "record"
    name = f"record {n}"
else:
    n, name = targets[rnd.randrange(len(targets))].split(":", 1)
    n = int(n); name = name or "(root)"
base = record_offset(n)
span = rsize
if kind == "index":
    f.seek(base)
    rec = fixup(f.read(rsize))
    alloc = [a for t, a in attrs(rec) if t == 0xA0 and a[8]]
    if alloc:
        lcn = runlist(alloc[0], struct.unpack_from("<H", alloc[0], 32)[0])[0][0]
        if lcn:
            base, span, name = lcn * cluster, 4096, name + " (first index block)"
f.seek(base)
old = bytearray(f.read(span))
new = bytearray(old)
how = rnd.choice(["bits", "bits", "byte", "word", "zero"])
if how == "bits":
    for _ in range(rnd.randint(1, 8)):
        i = rnd.randrange(span); new[i] ^= 1 << rnd.randrange(8)
elif how == "byte":
    for _ in range(rnd.randint(1, 4)):
        new[rnd.randrange(span)] = rnd.randrange(256)
elif how == "word":
    # The places that steer a parser: header fields and the first attributes.
    i = rnd.randrange(0, min(span, 256) - 4)
    new[i:i + 4] = rnd.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x00\x00\x01\x00",
                               struct.pack("<I", rnd.randrange(1 << 32))])
else:
    i = rnd.randrange(0, span - 64); new[i:i + 64] = bytes(64)
changed = [i for i in range(span) if old[i] != new[i]]
with open(img + ".undo", "w") as u:
    for i in changed:
        u.write(f"{base + i} {old[i]:02x}\n")
f.seek(base); f.write(new); f.close()
print(f"{name}: {how}, {len(changed)} bytes changed at {base:#x}")
PY

# check NAME RC: a crash, a hang or a sanitizer report fails; an error must say why.
check() {
	local what=$1 rc=$2
	[ "$rc" -ne 124 ] || fail "trial $t ($flipped): $what hung (killed after 60 s)"
	[ "$rc" -lt 128 ] || fail "trial $t ($flipped): $what crashed (exit $rc): $(tail -5 err)"
	! grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer' err ||
		fail "trial $t ($flipped): $what: sanitizer report: $(grep -m3 -E 'Sanitizer|runtime error' err)"
	if [ "$rc" -ne 0 ]; then
		[ "$(wc -c <err)" -gt 20 ] || fail "trial $t ($flipped): $what exited $rc without saying why"
		errors=$((errors + 1))
	fi
	runs=$((runs + 1))
}

runs=0 errors=0 scans_ok=0 scans_partial=0 scans_refused=0 scans_continued=0
for t in $(seq 1 "$TRIALS"); do
	flipped=$(python3 "$WORK/flip.py" v.img "$t" "${targets[@]}") || fail "flip.py: $flipped"
	timeout 60 "$WS_BIN" volumes v.img >out 2>err; check volumes $?
	timeout 60 "$WS_BIN" ls v.img Users/alice -R >out 2>err; check "ls -R" $?
	timeout 60 "$WS_BIN" users v.img --json >out 2>err; check users $?
	rm -rf st
	timeout 120 "$WS_BIN" scan v.img st --efs skip >out 2>err
	rc=$?; check scan $rc
	[ -z "${WS_BITFLIP_VERBOSE:-}" ] || echo "trial $t: $flipped: scan $rc: $(tail -1 err)"
	case $rc in
	0) scans_ok=$((scans_ok + 1))
	   [ -f st/USMT/USMT.MIG ] || fail "trial $t ($flipped): scan said done but wrote no store" ;;
	1) scans_partial=$((scans_partial + 1))
	   # Done, but some items were not read: each is named.
	   grep -q -i -E 'cannot|could not|unreadable|damaged|not read|skipped' out err ||
		fail "trial $t ($flipped): scan exited 1 without naming what it could not read" ;;
	*) scans_refused=$((scans_refused + 1))
	   # Stopped at an unreadable item (USMT's default): with --continue the
	   # capture goes on and lists it, unless the volume or its hives are unusable.
	   if grep -q -- '--continue' err; then
		rm -rf st
		timeout 120 "$WS_BIN" scan v.img st --efs skip --continue >out 2>err
		rc=$?; check "scan --continue" $rc
		[ "$rc" -eq 1 ] || fail "trial $t ($flipped): scan --continue exited $rc: $(tail -2 err)"
		[ -f st/USMT/USMT.MIG ] || fail "trial $t ($flipped): scan --continue wrote no complete store"
		grep -q -i -E 'cannot|could not|unreadable|damaged|not read' out err st/report.json ||
			fail "trial $t ($flipped): scan --continue does not name what it could not read"
		scans_continued=$((scans_continued + 1))
	   fi ;;
	esac
	timeout 60 "$WS_BIN" explain v.img 'C:\Users\alice\Documents\document-01.xlsx' >out 2>err
	check explain $?
	python3 "$WORK/flip.py" --undo v.img || fail "cannot undo trial $t"
	# Every command here opens the disk read-only: not one byte may have changed.
	cmp -s "$vol" v.img || fail "trial $t ($flipped): the image changed: $(cmp "$vol" v.img | head -1)"
done
cmp -s "$vol" v.img || fail "the image was not restored after the trials"
echo "ntfs_bitflip: $TRIALS damaged images, $runs runs, none crashed; $errors ended with an error sentence;" \
	"scan: $scans_ok complete, $scans_partial complete but naming what it could not read, $scans_refused stopped with a sentence ($scans_continued of them completed with --continue, naming what was unreadable)"
exit 0
