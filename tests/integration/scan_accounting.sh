#!/usr/bin/env bash
# The accounting line (docs/capture.md, "Accounting"): for every profile and
# for the system, report.json and the console reconcile the walk,
#   found = captured + excluded (by rule) + skipped (by reason) + not selected,
# and "found" equals a count made independently of winstate, through the
# ntfs-3g driver: every non-directory name below the profile folder, each
# symlink the driver shows (junctions, symlinks, reparse points it does not
# know) as one entry, not descended; System Volume Information as one entry.
# The fixture gets every kind of skip: a cloud placeholder, an EFS file
# (--efs skip), a WOF file, names a store refuses ("notes.", "a\b.txt"), an
# MFT record damaged so it cannot be read, a cloud-tagged folder, and a hard
# link with names in a profile and outside it.  Runs with the default rules,
# an explicit rule file (each count then predicted from the FUSE listing),
# --estimate, the scanstate spelling, a hard-link store (and a later capture
# of that volume, whose old store is one entry), and Microsoft's
# MigDocs+MigUser when $WS_SHARED has them.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
command -v python3 >/dev/null || fail "python3 is needed (make deps installs it)"
SS="$WORK/bin/scanstate"
mkdir -p "$WORK/bin" && ln -s "$WS_BIN" "$SS"
cd "$WORK" || fail "cd"
A=Users/alice

# ---- the source: the fixture plus every oddity the accounting must name
cp --sparse=always "$vol" src.img
mnt src.img "$WORK/m" rw,streams_interface=xattr
python3 - "$WORK/m" "$WS_TOP/tests/fixtures" "$A" <<'EOF' || fail "cannot add the oddities"
import os, sys
sys.path.insert(0, sys.argv[2])
import fxlib as L
m, A = sys.argv[1], sys.argv[3]
P = os.path.join(m, A)
# A folder carrying a cloud reparse tag, with files two levels down.
d = P + "/OneDrive/Pictures"
os.makedirs(d + "/2023")
for n in ("a.jpg", "b.jpg", "2023/c.jpg"):
    with open(d + "/" + n, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0JFIF" + n.encode())
os.setxattr(d, "system.ntfs_reparse_data", L.cloud(True, 0, "acct-dir"))
# Names Linux can write and a store refuses.
for n in ("notes.", "a\\b.txt"):
    with open(P + "/Documents/" + n, "w") as f:
        f.write("written from Linux\n")
# A WOF (compact OS) file inside the profile.
data = b"compact" * 900
w = P + "/Documents/compact.exe"
open(w, "wb").close()
os.truncate(w, len(data))
os.setxattr(w, "user.WofCompressedData", L.wof_stream_uncompressed(data))
os.setxattr(w, "system.ntfs_reparse_data", L.wof(0))
# A hard link with one name in the profile and one outside every profile.
with open(P + "/Documents/shared-budget.xlsx", "wb") as f:
    f.write(b"PK\x03\x04 shared")
os.link(P + "/Documents/shared-budget.xlsx", m + "/Users/Public/Documents/shared-budget.xlsx")
# Files outside the profiles for the explicit rule file's system component.
os.makedirs(m + "/Data")
for n in ("a.txt", "b.log", "c.txt"):
    with open(m + "/Data/" + n, "w") as f:
        f.write(n + "\n")
EOF
umnt "$WORK/m"

cat >acct.py <<'PY'
# acct.py record IMAGE: the MFT record number of a path's file (the ntfs-3g
#   driver's inode number), printed.
# acct.py damage IMAGE RECORD: overwrite the record's FILE magic (BAAD).
# acct.py oracle MOUNT PROFILES OUT: the entries below MOUNT as the driver
#   shows them, by the profile folder that holds them (longest prefix,
#   case-insensitive), "" for the system; cloud-tagged symlinks listed apart.
# acct.py strip MOUNT: remove the reparse data of every cloud-tagged entry
#   shown; print how many.
import json, os, struct, sys

def fixup(buf, sector=512):
    usa_ofs, usa_cnt = struct.unpack_from("<HH", buf, 4)
    b = bytearray(buf)
    for i in range(1, usa_cnt):
        end = i * sector - 2
        b[end:end + 2] = b[usa_ofs + 2 * i:usa_ofs + 2 * i + 2]
    return bytes(b)

def damage(img, rec):
    f = open(img, "r+b")
    bs = f.read(512)
    bps, spc = struct.unpack_from("<HB", bs, 11)
    csize = bps * spc
    mft_lcn = struct.unpack_from("<Q", bs, 0x30)[0]
    cpr = struct.unpack_from("<b", bs, 0x40)[0]
    rsize = 2 ** -cpr if cpr < 0 else cpr * csize
    f.seek(mft_lcn * csize)
    r0 = fixup(f.read(rsize))
    off, runs = struct.unpack_from("<H", r0, 20)[0], None
    while off + 8 <= len(r0):
        t, ln = struct.unpack_from("<II", r0, off)
        if t == 0xFFFFFFFF:
            break
        if t == 0x80 and r0[off + 8]:
            ro = off + struct.unpack_from("<H", r0, off + 32)[0]
            runs, lcn = [], 0
            while r0[ro]:
                h = r0[ro]; l, o = h & 15, h >> 4; ro += 1
                n = int.from_bytes(r0[ro:ro + l], "little"); ro += l
                lcn += int.from_bytes(r0[ro:ro + o], "little", signed=True); ro += o
                runs.append((lcn, n))
            break
        off += ln
    pos = rec * rsize
    for lcn, n in runs:
        if pos < n * csize:
            f.seek(lcn * csize + pos)
            assert f.read(4) == b"FILE", "record %d is not a FILE record" % rec
            f.seek(lcn * csize + pos)
            f.write(b"BAAD")
            return
        pos -= n * csize
    sys.exit("record %d is beyond $MFT" % rec)

def cloud_tag(path):
    try:
        b = os.getxattr(path, "system.ntfs_reparse_data", follow_symlinks=False)
    except OSError:
        return False
    return len(b) >= 4 and struct.unpack_from("<I", b)[0] & 0xFFFF0FFF == 0x9000001A

def entries(mount):
    """Every entry as the driver shows it: (relative path, is a cloud-tagged symlink)."""
    out = []
    def walk(d, rel):
        for e in sorted(os.scandir(d), key=lambda e: e.name):
            r = rel + "/" + e.name if rel else e.name
            try:
                st = os.lstat(e.path)
            except OSError:
                out.append((r, False))      # the name is there, the record is not readable
                continue
            import stat
            if stat.S_ISDIR(st.st_mode) and not (rel == "" and e.name == "System Volume Information"):
                walk(e.path, r)
            else:
                out.append((r, stat.S_ISLNK(st.st_mode) and cloud_tag(e.path)))
    walk(mount, "")
    return out

def context(rel, profiles):
    best = ""
    for p in profiles:
        if len(p) > len(best) and (rel.lower() == p.lower() or rel.lower().startswith(p.lower() + "/")):
            best = p
    return best

cmd = sys.argv[1]
if cmd == "record":
    print(os.lstat(sys.argv[2]).st_ino)
elif cmd == "damage":
    damage(sys.argv[2], int(sys.argv[3]))
elif cmd == "oracle":
    profiles = [p for p in sys.argv[3].split() if p]
    res = {"profiles": profiles, "by": {}, "cloud": []}
    for rel, cloud in entries(sys.argv[2]):
        res["by"].setdefault(context(rel, profiles), []).append(rel)
        if cloud:
            res["cloud"].append(rel)
    json.dump(res, open(sys.argv[4], "w"), indent=1)
elif cmd == "strip":
    n = 0
    for rel, cloud in entries(sys.argv[2]):
        if cloud:
            os.removexattr(os.path.join(sys.argv[2], rel), "system.ntfs_reparse_data",
                           follow_symlinks=False)
            n += 1
    print(n)
PY

# An MFT record that cannot be read (its magic overwritten): one entry, an error.
mnt src.img "$WORK/m"
rec=$(python3 acct.py record "$WORK/m/$A/Documents/document-04.txt") || fail "no record number"
umnt "$WORK/m"
python3 acct.py damage src.img "$rec" || fail "cannot damage record $rec"

# The independent counts.  The driver shows a cloud-tagged folder as a
# symlink; the walk may enter such folders (then their files are the
# entries) or not (then the folder is one): a copy with the cloud reparse
# data removed gives the count for the first reading, and report.json's
# reparse_folder list says which one winstate applied, folder by folder.
PROFILES=""
for k in $PROFILE_USER_KEYS; do v=${k}_PROFILE; PROFILES+=" ${!v}"; done
PROFILES+=" $TEMP_PROFILE"
cp --sparse=always src.img strip.img
mnt src.img "$WORK/m"
python3 acct.py oracle "$WORK/m" "$PROFILES" oracle.json || fail "cannot count through the driver"
umnt "$WORK/m"
# Round by round: a cloud folder inside a cloud folder shows once its parent is plain.
for round in 1 2 3 4 5 6 7 8 9 10 last; do
	[ "$round" != last ] || fail "cloud folders nested more than 10 deep"
	mnt strip.img "$WORK/m" rw
	n=$(python3 acct.py strip "$WORK/m") || fail "cannot strip the cloud reparse data"
	umnt "$WORK/m"
	[ "$n" -gt 0 ] || break
done
mnt strip.img "$WORK/m"
python3 acct.py oracle "$WORK/m" "$PROFILES" oracle-entered.json || fail "cannot count the stripped copy"
umnt "$WORK/m"
python3 -c '
import json, sys
o = json.load(open("oracle.json"))
assert "Users/alice/OneDrive/Pictures" in o["cloud"], o["cloud"]
assert "Users/alice/Documents/document-04.txt" in o["by"]["Users/alice"]
assert "Users/alice/Documents/notes." in o["by"]["Users/alice"]
assert "Users/Public/Documents/shared-budget.xlsx" in o["by"][""]
' || fail "the FUSE count misses the oddities: $(head -c 400 oracle.json)"

cat >expected.py <<'PY'
# The entries the ntfs-3g driver shows in one account ("" the system): a
# cloud-tagged folder the walk enters (one cloud-mode.json does not list as
# not entered) is replaced by what the copy without cloud reparse data shows
# below it.
import json

def win(rel):
    return "C:\\" + rel.replace("/", "\\")

def expected(ctx):
    plain, entered = json.load(open("oracle.json")), json.load(open("oracle-entered.json"))
    not_entered = set(json.load(open("cloud-mode.json")))
    out = []
    for rel in plain["by"].get(ctx, []):
        if rel in plain["cloud"] and win(rel) not in not_entered:
            # entered (or a cloud file): what the copy without cloud reparse data shows there
            out += [r for r in entered["by"].get(ctx, []) if r == rel or r.startswith(rel + "/")]
        else:
            out.append(rel)
    return sorted(set(out))
PY

cat >check.py <<'PY'
# check.py REPORT.json CONSOLE.txt [expect.json|- [SYSTEM_PATH...]]: the
# accounting against the FUSE counts (oracle.json, oracle-entered.json), the
# equation, every skipped path named in both lists, the console lines equal
# to the report.  SYSTEM_PATHs are entries the capture itself made (a
# hard-link store's folder), which the system's account must count too.
import json, sys
rep = json.load(open(sys.argv[1]))
console = open(sys.argv[2]).read()
expect = json.load(open(sys.argv[3])) if len(sys.argv) > 3 and sys.argv[3] != "-" else {}
made = sys.argv[4:]
plain = json.load(open("oracle.json"))
acc = rep["accounting"]
estimate = rep["format"] == "estimate"
def rel_of(profile):
    return profile[3:].replace("\\", "/") if profile else None

# Which cloud folders did the walk enter?  Not entered = listed as reparse_folder
# by the run whose rules select them (the first; cloud-mode.json keeps it).
try:
    open("cloud-mode.json").close()
except FileNotFoundError:
    not_entered = set()
    for a in [u for u in acc["users"]] + [acc["system"]]:
        for g in a["skipped_by"]:
            if g["reason"] == "reparse_folder":
                not_entered.update(g["paths"])
    json.dump(sorted(not_entered), open("cloud-mode.json", "w"))
from expected import expected, win

profiles = {p.lower() for p in plain["profiles"]}
seen_profiles = set()
total = 0
contexts = []
for u in acc["users"]:
    rel = rel_of(u["profile"])
    ctx = ""
    if rel and rel.lower() in profiles:
        ctx = [p for p in plain["profiles"] if p.lower() == rel.lower()][0]
        seen_profiles.add(ctx.lower())
    want = expected(ctx) if ctx else []
    contexts.append((u.get("name") or u["sid"], u["profile"] or u["sid"], u, want, u["selected"]))
contexts.append(("system", "system", acc["system"], sorted(expected("") + made), True))
missing = profiles - seen_profiles
assert not missing, "profiles without an account: %s" % missing

skipped_all = {s["path"]: s for s in rep["skipped"]}
named = {}
for name, key, a, want, selected in contexts:
    assert a["found"] == len(want), "%s: found %d, the ntfs-3g driver shows %d" % (
        name, a["found"], len(want))
    assert a["found"] == a["captured"] + a["excluded"] + a["skipped"] + a["not_selected"], (name, a)
    assert sum(g["count"] for g in a["excluded_by"]) == a["excluded"], (name, a["excluded_by"])
    assert sum(g["count"] for g in a["skipped_by"]) == a["skipped"], (name, a["skipped_by"])
    wanted = {win(r).lower() for r in want}
    for g in a["skipped_by"]:
        assert g["count"] == len(g["paths"]), (name, g)
        assert g["reason"] in ("error", "dehydrated", "wof", "efs", "reparse_folder"), g
        assert g["sentence"], g
        for p in g["paths"]:
            assert p in skipped_all, "%s: %s is not in report.json's skipped list" % (name, p)
            assert p.lower() in wanted, "%s: skipped %s is not an entry of this profile" % (name, p)
            assert skipped_all[p]["error"] == (g["reason"] == "error"), (p, g["reason"])
            assert p not in named, "%s named twice" % p
            named[p] = (name, g["reason"])
    for g in a["excluded_by"]:
        assert g["count"] > 0 and g["kind"], g
        if g["file"] is None:
            assert g["kind"] == "always excluded" and g["reason"], g
        else:
            assert g["line"] > 0 and g["pattern"], g
    for k, v in expect.get(key, {}).items():
        if k == "skipped_by":
            got = {g["reason"]: sorted(g["paths"]) for g in a["skipped_by"]}
            if "reparse_folder" not in v:   # which reading applies is checked above
                got.pop("reparse_folder", None)
            assert got == v, "%s: skipped_by %s, expected %s" % (name, got, v)
        elif k == "excluded_by":
            got = {"%s:%s" % (g["file"], g["line"]) if g["file"] else g["reason"]: g["count"]
                   for g in a["excluded_by"]}
            for rk, rv in v.items():
                assert got.get(rk) == rv, "%s: excluded by %s %s, expected %s (%s)" % (
                    name, rk, got.get(rk), rv, got)
        else:
            assert a[k] == v, "%s: %s %d, expected %d" % (name, k, a[k], v)
    # The console line, for selected users, other profiles holding files, the system.
    if selected or a["found"]:
        label = name if selected else name + " (not selected)"
        line = "%s: %d files found = %d %s + %d excluded + %d skipped + %d not selected" % (
            label, a["found"], a["captured"], "to capture" if estimate else "captured",
            a["excluded"], a["skipped"], a["not_selected"])
        if console:
            assert line in console.splitlines(), "console lacks \"%s\":\n%s" % (line, console)
    total += a["found"]
unnamed = set(skipped_all) - set(named)
assert not unnamed, "skipped but in no account: %s" % unnamed
print("accounting checked: %d entries in %d accounts" % (total, len(contexts)))
PY

ph="C:\\${ONEDRIVE_PLACEHOLDER//\//\\}"
efs="C:\\${EFS_FILE//\//\\}"
AW="C:\\Users\\alice"

# ---- 1. default rules, compressed store, --continue past the errors
run 1 "$WS_BIN" scan src.img s1 --efs skip --continue
echo "$OUT" >s1.out
python3 - "$ph" "$efs" "$AW" >expect1.json <<'EOF'
import json, sys
ph, efs, A = sys.argv[1:4]
print(json.dumps({A: {"skipped_by": {
    "error": sorted([A + "\\Documents\\a\\b.txt", A + "\\Documents\\document-04.txt",
                     A + "\\Documents\\notes."]),
    "dehydrated": [ph], "wof": [A + "\\Documents\\compact.exe"], "efs": [efs]}},
    "system": {"skipped": 0, "excluded_by": {
        "Windows' paging/hibernation file (never user data)": 2,
        "System Volume Information (restore points, indexes: never migrated)": 1}}}))
EOF
python3 check.py s1/report.json s1.out expect1.json || fail "default rules: the accounting does not add up"
# The cloud-tagged folder: either one entry listed as not entered, or entered
# (its files counted above from the copy without cloud reparse data).
python3 - "$AW" <<'EOF' || fail "the cloud-tagged folder is neither entered nor named"
import json, sys
a = json.load(open("s1/report.json"))["accounting"]
rf = [p for u in a["users"] + [a["system"]] for g in u["skipped_by"] if g["reason"] == "reparse_folder"
      for p in g["paths"]]
assert rf in ([], [sys.argv[1] + "\\OneDrive\\Pictures"]), rf
EOF
contains "$OUT" "alice: "
contains "$OUT" "system: "
# report.json: the default rules' exclusions are named by file:line and component.
python3 - <<'EOF' || fail "default rules: exclusions not named by rule"
import json
a = json.load(open("s1/report.json"))["accounting"]
alice = [u for u in a["users"] if u["name"] == "alice"][0]
ex = [g for g in alice["excluded_by"] if g["file"]]
assert any(g["file"].endswith(".xml") and g["component"] and "Cache" in g["pattern"] for g in ex), ex
EOF

# ---- 2. an explicit rule file: every count predicted from the FUSE listing
cat >rules.xml <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="https://winstate.invalid/test/accounting">
  <component type="Documents" context="User">
    <displayName>Documents</displayName>
    <role role="Data">
      <rules>
        <include>
          <objectSet>
            <pattern type="File">%CSIDL_PROFILE%\Documents\* [*]</pattern>
          </objectSet>
        </include>
        <exclude>
          <objectSet>
            <pattern type="File">%CSIDL_PROFILE%\Documents\* [*.xlsx]</pattern>
          </objectSet>
        </exclude>
      </rules>
    </role>
  </component>
  <component type="Documents" context="System">
    <displayName>Data</displayName>
    <role role="Data">
      <rules>
        <include>
          <objectSet>
            <pattern type="File">C:\Data\* [*]</pattern>
          </objectSet>
        </include>
        <exclude>
          <objectSet>
            <pattern type="File">C:\Data\* [*.log]</pattern>
          </objectSet>
        </exclude>
      </rules>
    </role>
  </component>
</migration>
EOF
xlsx_line=$(grep -n '\[\*\.xlsx\]' rules.xml | cut -d: -f1)
log_line=$(grep -n '\[\*\.log\]' rules.xml | cut -d: -f1)
run 1 "$WS_BIN" scan src.img s2 --rules "$WORK/rules.xml" --efs skip --continue --nocompress
echo "$OUT" >s2.out
python3 - "$WORK/rules.xml" "$xlsx_line" "$log_line" "$PROFILES" >expect2.json <<'EOF' || fail "cannot predict"
import json, sys
rules, xl, ll, profiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split()
from expected import expected, win
r = json.load(open("s2/report.json"))
skipped = {s["path"].lower() for s in r["skipped"]}
exp = {}
for u in r["accounting"]["users"]:
    if not u["selected"] or not u["profile"]:
        continue
    p = u["profile"][3:].replace("\\", "/")
    ents = expected(p)
    docs = [e for e in ents if e.lower().startswith(p.lower() + "/documents/")]
    xlsx = [e for e in docs if e.lower().endswith(".xlsx")]
    skip = [e for e in docs if win(e).lower() in skipped]
    exp[u["profile"]] = {"found": len(ents), "excluded": len(xlsx), "skipped": len(skip),
                      "captured": len(docs) - len(xlsx) - len(skip),
                      "not_selected": len(ents) - len(docs),
                      "excluded_by": {"%s:%d" % (rules, xl): len(xlsx)} if xlsx else {}}
sysents = expected("")
exp["system"] = {"captured": 2, "skipped": 0, "excluded": 4,
                 "not_selected": len(sysents) - 6,
                 "excluded_by": {"%s:%d" % (rules, ll): 1,
                                 "Windows' paging/hibernation file (never user data)": 2}}
al = exp["C:\\Users\\alice"]
assert al["excluded"] >= 4 and al["skipped"] == 5, al
print(json.dumps(exp))
EOF
python3 check.py s2/report.json s2.out expect2.json || fail "explicit rules: the accounting does not add up"

# ---- 3. --estimate walks the same way: the same found counts, "to capture"
# (--continue: the damaged record is an error in an estimate too)
run 1 "$WS_BIN" scan src.img s3 --estimate est.xml --continue --json
echo "$OUT" >s3.json
run 1 "$WS_BIN" scan src.img s3 --estimate est.xml --continue
echo "$OUT" >s3.out
contains "$OUT" "to capture"
python3 check.py s3.json s3.out || fail "--estimate: the accounting does not add up"
python3 - <<'EOF' || fail "--estimate found other entries than the capture"
import json
e, c = json.load(open("s3.json"))["accounting"], json.load(open("s1/report.json"))["accounting"]
assert [u["found"] for u in e["users"]] == [u["found"] for u in c["users"]], (e, c)
assert e["system"]["found"] == c["system"]["found"]
EOF

# ---- 4. the scanstate spelling prints the same lines (exit 3: errors continued past)
run 3 "$SS" "$WORK/s4" "/offlinewindir:$WORK/src.img" "/i:$WORK/rules.xml" /efs:skip /c
echo "$OUT" >s4.out
python3 check.py s4/report.json s4.out expect2.json || fail "scanstate: the accounting does not add up"

# ---- 5. a hard-link store on (a copy of) the volume: its folder is one entry of the system
cp --sparse=always src.img hl.img
run 1 "$WS_BIN" scan hl.img MigStore --hardlink --nocompress --efs skip --continue --json
echo "$OUT" >s5.json
echo '{"system": {"excluded_by": {"the store being written": 1}}}' >expect5.json
python3 check.py s5.json /dev/null expect5.json MigStore || fail "hard-link store: the accounting does not add up"
# A later capture of that volume: the old store is one entry too, never walked.
run 1 "$WS_BIN" scan hl.img s5b --efs skip --continue
echo "$OUT" >s5b.out
python3 -c '
import json
print(json.dumps({"system": {"excluded_by": {"another capture'"'"'s store (never captured again: its "
    "files are links to or copies of files the rules decide on where they are)": 1}}}))' >expect5b.json
python3 check.py s5b/report.json s5b.out expect5b.json MigStore || fail "another capture's store: the accounting does not add up"

# ---- 6. without --continue the first error stops the capture: no account is claimed
run 4 "$WS_BIN" scan src.img s6 --efs skip
contains "$ERR" "the capture stopped at this error"
lacks "$OUT" "files found ="
run 4 "$WS_BIN" scan src.img s6b --efs skip --json
python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert r["complete"] is False and r["failure"], r.get("failure")
' <<<"$OUT" || fail "a stopped capture claims to be complete: $(head -c 300 <<<"$OUT")"

# ---- 7. Microsoft's MigDocs + MigUser (real input), when present
if [ -f "${WS_SHARED:-}/usmt-xml/MigDocs.xml" ] && [ -f "$WS_SHARED/usmt-xml/MigUser.xml" ]; then
	run 1 "$WS_BIN" scan src.img s7 --rules "$WS_SHARED/usmt-xml/MigDocs.xml" \
		--rules "$WS_SHARED/usmt-xml/MigUser.xml" --efs skip --continue
	echo "$OUT" >s7.out
	python3 check.py s7/report.json s7.out || fail "MigDocs+MigUser: the accounting does not add up"
else
	echo "note: \$WS_SHARED/usmt-xml not found: the MigDocs+MigUser run is skipped"
fi
echo "scan_accounting: ok"
