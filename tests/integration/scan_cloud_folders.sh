#!/usr/bin/env bash
# OneDrive Files On-Demand (issue 13 part 1): bob's sync root and its folders
# are cloud-tagged directories (0x9000x01A, the root with its SyncRootIdentity
# stream), his Documents are redirected into it (Known Folder Move).  They are
# folders for ls, ls -R, explain and scan; hydrated files are captured with
# their data into every store kind, dehydrated placeholders are named as
# skipped, the folders are named in report.json; after a reinstall, load
# makes plain folders and plain files.  Checked through the ntfs-3g driver
# (getfattr) against the fixture's manifest, never winstate's own reader.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
manifest=$(fixture manifest.tsv)
command -v getfattr >/dev/null || fail "getfattr (attr) is not installed (make deps installs it)"
[ -n "${CLOUD_ROOT:-}" ] || fail "the fixtures predate the cloud folders (make fixtures)"
NEW_BOB=S-1-5-21-3777777777-3888888888-399999999-1002
IFS='|' read -r -a FOLDERS <<<"$CLOUD_FOLDERS"
IFS='|' read -r -a TAGS <<<"$CLOUD_FOLDER_TAGS"
IFS='|' read -r -a HYDRATED <<<"$CLOUD_HYDRATED"
IFS='|' read -r -a PLACEHOLDERS <<<"$CLOUD_PLACEHOLDERS"
IFS='|' read -r -a PINNED <<<"$CLOUD_PINNED"
win() { printf 'C:\\%s' "${1//\//\\}"; }

# ------------------------------------------------------------------ ls
run 0 "$WS_BIN" ls "$vol" "$CLOUD_ROOT"
contains "$OUT" "desktop.ini"
contains "$OUT" "Documents/ [cloud folder, tag 0x9000701a]"
contains "$OUT" "Pictures/ [cloud folder, tag 0x9000301a] [pinned]"
run 0 "$WS_BIN" ls "$vol" "$(dirname "$CLOUD_ROOT")"
contains "$OUT" "OneDrive/  :$CLOUD_SYNC_STREAM"
contains "$OUT" "[cloud folder: OneDrive sync root, tag $CLOUD_ROOT_TAG]"
run 0 "$WS_BIN" ls "$vol" "$(dirname "$CLOUD_ROOT")" -R
listing=$OUT
for p in "${HYDRATED[@]}"; do
	contains "$listing" "${p#Users/bob/} [cloud file: hydrated]"
done
for p in "${PLACEHOLDERS[@]}"; do
	contains "$listing" "${p#Users/bob/} [cloud placeholder: dehydrated, data not on this disk] [unpinned]"
done
for p in "${PINNED[@]}"; do
	grep -F -- "  ${p#Users/bob/}" <<<"$listing" | grep -qF "[pinned]" || fail "$p not shown pinned"
done
grep -F -- "  ${CLOUD_UNPINNED_FILE#Users/bob/} " <<<"$listing" | grep -qF "[unpinned]" ||
	fail "$CLOUD_UNPINNED_FILE not shown unpinned"
contains "$listing" "${CLOUD_PARTIAL_FOLDER#Users/bob/}/ [cloud folder, tag 0x9000f01a, not fully on this disk]"
# The junction inside the cloud folder is listed with its target, not entered.
contains "$listing" "${CLOUD_JUNCTION#Users/bob/} -> C:\\Users\\bob\\Desktop [junction]"
lacks "$listing" "${CLOUD_JUNCTION#Users/bob/}/"
# Every entry the manifest has below the sync root is listed, nothing more.
python3 - "$manifest" "$CLOUD_ROOT" "$listing" <<'EOF' || fail "ls -R below the sync root vs the manifest"
import re, sys
manifest, root, listing = sys.argv[1], sys.argv[2] + "/", sys.argv[3]
want = [l.split("\t")[0] for l in open(manifest, encoding="utf-8").read().splitlines()[1:]
        if l.startswith(root)]
lines = [l for l in listing.splitlines() if "  OneDrive/" in l]
for p in want:
    rel = p[len("Users/bob/"):]
    pat = re.compile(r"  " + re.escape(rel) + r"(/|  :| \[| -> |$)")
    assert any(pat.search(l) for l in lines), p
assert len(lines) == len(want) + 1, (len(lines), len(want))   # + OneDrive itself
EOF
run 0 "$WS_BIN" ls "$vol" "$CLOUD_ROOT" --json
python3 - "$OUT" <<'EOF' || fail "ls --json pinned/unpinned: $OUT"
import json, sys
e = {x["path"]: x for x in json.loads(sys.argv[1])}
assert e["Pictures"]["pinned"] and e["Pictures"]["cloud"] and e["Pictures"]["kind"] == "dir", e["Pictures"]
assert not e["Documents"]["pinned"] and not e["Documents"]["unpinned"], e["Documents"]
EOF
# Bad input: a name that is not in the cloud folder.
run 3 "$WS_BIN" ls "$vol" "$CLOUD_ROOT/no such file"
contains "$ERR" "winstate ls:"

# ------------------------------------------------------------- explain
run 0 "$WS_BIN" explain --user bob "$vol" "$(win "${HYDRATED[0]}")" "$(win "${PLACEHOLDERS[1]}")" \
	"$(win "$CLOUD_JUNCTION")\\x.txt"
contains "$OUT" "on the disk: $(win "$CLOUD_ROOT") is a cloud folder (reparse tag $CLOUD_ROOT_TAG): scan enters it"
contains "$OUT" "on the disk: a hydrated cloud file: captured with its data"
contains "$OUT" "on the disk: a dehydrated cloud placeholder: its data is not on this disk"
contains "$OUT" "on the disk: $(win "$CLOUD_JUNCTION") is a junction: never followed"
contains "$OUT" "user context (bob): INCLUDED"
# A path that is not on the disk is said so (the rules still answer for it).
run 0 "$WS_BIN" explain --user bob "$vol" "$(win "$CLOUD_ROOT")\\no such file.docx"
contains "$OUT" "on the disk: $(win "$CLOUD_ROOT")\\no such file.docx is not there"

# ---------------------------------------------------------- capture
cat >"$WORK/onedrive.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.example.com/migration/winstate-cloud-test">
  <component type="Documents" context="User">
    <displayName>OneDrive only</displayName>
    <role role="Data">
      <rules>
        <include>
          <objectSet>
            <pattern type="File">%CSIDL_PROFILE%\OneDrive\* [*]</pattern>
          </objectSet>
        </include>
      </rules>
    </role>
  </component>
</migration>
EOF

# check_report REPORT LIST: the cloud folders, placeholders and hydrated files.
check_report() {
	python3 - "$1" "$2" "$BOB_SID" "$CLOUD_FOLDERS" "$CLOUD_FOLDER_TAGS" "$CLOUD_HYDRATED" \
		"$CLOUD_PLACEHOLDERS" "$CLOUD_PARTIAL_FOLDER" "$CLOUD_ROOT" "$CLOUD_JUNCTION" <<'EOF'
import json, sys
rep, lst, sid = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
folders, tags, hyd, ph = (a.split("|") for a in sys.argv[4:8])
partial, root, junction = sys.argv[8:11]
win = lambda p: "C:\\" + p.replace("/", "\\")
cf = {c["path"]: c for c in rep["cloud_folders"]}
assert set(cf) == {win(f) for f in folders}, sorted(cf)
for f, t in zip(folders, tags):
    c = cf[win(f)]
    assert c["reparse_tag"] == t and c["owner"] == sid and c["restored_as"] == "plain folder", c
    assert c["sync_root"] == (f == root), c
    assert c["complete_on_disk"] == (f != partial), c
assert "SyncRootIdentity" in cf[win(root)]["streams"], cf[win(root)]
sk = {s["path"]: s for s in rep["skipped"]}
for p in ph:
    s = sk[win(p)]
    assert not s["error"] and s["owner"] == sid and "not on this disk" in s["reason"], s
files = {f["path"].lower(): f for f in lst["files"]}
for p in hyd:
    f = files[p.lower()]
    assert f["owner"] == sid, f
for p in ph:
    assert p.lower() not in files, p
assert files[junction.lower()]["attributes"] & 0x400, files[junction.lower()]
# The cloud folders themselves are not store entries (restored as plain folders).
for f in folders:
    assert f.lower() not in files, f
assert not [s for s in rep["skipped"] if "reparse tag 0x9000" in s["reason"]], rep["skipped"]
EOF
}

# check_target IMAGE HARDLINK: after load, through the ntfs-3g driver.
check_target() {
	mnt "$1" "$WORK/t" ro,streams_interface=xattr
	python3 - "$WORK/t" "$manifest" "$2" "$CLOUD_HYDRATED" "$CLOUD_PLACEHOLDERS" "$CLOUD_FOLDERS" \
		"$CLOUD_SYNC_STREAM" <<'EOF' || { umnt "$WORK/t"; fail "target $1: see above"; }
import hashlib, os, struct, sys
mnt, manifest, hardlink = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
hyd, ph, folders = (a.split("|") for a in sys.argv[4:7])
stream = sys.argv[7]
rows = {}
for line in open(manifest, encoding="utf-8").read().splitlines()[1:]:
    f = line.split("\t")
    rows[f[0]] = f
# Known Folder Move: OneDrive\Documents lands in the new profile's Documents.
def dest(p):
    old = "Users/bob/OneDrive/Documents"
    return "Users/bob/Documents" + p[len(old):] if p.startswith(old) else p
def attrib(p):
    return struct.unpack("<I", os.getxattr(p, "system.ntfs_attrib", follow_symlinks=False))[0]
def reparse(p):
    try:
        return os.getxattr(p, "system.ntfs_reparse_data", follow_symlinks=False)
    except OSError:
        return None
for p in hyd:
    t = os.path.join(mnt, dest(p))
    assert os.path.isfile(t) and not os.path.islink(t), t
    assert hashlib.sha256(open(t, "rb").read()).hexdigest() == rows[p][8], t
    assert reparse(t) is None, (t, "still has cloud reparse data")
    a = attrib(t)
    assert not a & (0x400 | 0x80000 | 0x100000), (t, hex(a))
    if hardlink:   # the same MFT record, linked back, made plain
        assert os.stat(t).st_ino == int(rows[p][5]), t
for p in ph:
    assert not os.path.lexists(os.path.join(mnt, dest(p))), p
for p in folders:
    d = os.path.join(mnt, dest(p))
    if p == "Users/bob/OneDrive/Documents":
        d = os.path.join(mnt, "Users/bob/Documents")
    assert os.path.isdir(d) and not os.path.islink(d), d
    assert reparse(d) is None and not attrib(d) & 0x400, d
assert "user." + stream not in os.listxattr(os.path.join(mnt, "Users/bob/OneDrive")), "sync root stream"
j = os.path.join(mnt, "Users/bob/Documents/Old Desktop")
assert reparse(j)[:4] == b"\x03\x00\x00\xa0", "the junction is not a junction on the target"
print("target ok:", len(hyd), "hydrated files,", len(ph), "placeholders absent")
EOF
	# The same two facts through getfattr itself, for the sync root and one file.
	getfattr -h -n system.ntfs_reparse_data "$WORK/t/$CLOUD_ROOT" >/dev/null 2>&1 &&
		{ umnt "$WORK/t"; fail "$1: the sync root still has reparse data"; }
	getfattr -h -n system.ntfs_reparse_data "$WORK/t/Users/bob/Documents/${HYDRATED[0]##*/}" >/dev/null 2>&1 &&
		{ umnt "$WORK/t"; fail "$1: ${HYDRATED[0]} still has reparse data"; }
	umnt "$WORK/t"
}

for rules in default onedrive; do
	rargs=()
	[ "$rules" = onedrive ] && rargs=(--rules "$WORK/onedrive.xml")
	for kind in compressed directory hardlink; do
		img=$WORK/$rules-$kind.img
		cp --sparse=always "$vol" "$img"
		if [ "$kind" = hardlink ]; then
			# PC refresh: reinstalled first, captured from Windows.old, linked back.
			WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$img" >/dev/null 2>&1 ||
				fail "reinstall.sh"
			run 0 "$WS_BIN" scan "$img" MigStore --windir Windows.old/Windows --hardlink --nocompress \
				--efs skip --ui bob --ue '*' "${rargs[@]}" --log "$WORK/$rules-$kind.log"
			"$WS_BIN" list --target "$img" MigStore --json >"$WORK/list.json" || fail "list $rules $kind"
			mnt "$img" "$WORK/m" ro
			cp "$WORK/m/MigStore/report.json" "$WORK/report.json"
			umnt "$WORK/m"
			store='C:\MigStore'
			lopts=(--hardlink)
		else
			store=$WORK/$rules-$kind
			opts=()
			[ "$kind" = directory ] && opts=(--nocompress)
			run 0 "$WS_BIN" scan "$img" "$store" "${opts[@]}" --efs skip --ui bob --ue '*' "${rargs[@]}" \
				--log "$WORK/$rules-$kind.log"
			"$WS_BIN" list "$store" --json >"$WORK/list.json" || fail "list $rules $kind"
			cp "$store/report.json" "$WORK/report.json"
			WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$img" >/dev/null 2>&1 ||
				fail "reinstall.sh"
			lopts=()
		fi
		contains "$OUT" "4 cloud (OneDrive) folder(s) entered like plain folders"
		contains "$OUT" "2 item(s) were not captured on purpose"
		log=$(cat "$WORK/$rules-$kind.log")
		contains "$log" "is a cloud folder (reparse tag $CLOUD_ROOT_TAG, OneDrive sync root; streams $CLOUD_SYNC_STREAM)"
		contains "$log" "$(win "$CLOUD_JUNCTION") is a junction -> C:\\Users\\bob\\Desktop: stored as a link, not followed"
		check_report "$WORK/report.json" "$WORK/list.json" || fail "report/list of $rules $kind"
		run 0 "$WS_BIN" load "$store" "$img" "${lopts[@]}" --mu "bob:$NEW_BOB" --log "$WORK/load-$rules-$kind.log"
		contains "$(cat "$WORK/load-$rules-$kind.log")" "restored as a plain file: its cloud reparse data (tag 0x9000601a)"
		check_target "$img" "$([ "$kind" = hardlink ] && echo 1 || echo 0)"
		if [ "$kind" = hardlink ]; then
			# The records made plain are still the store's: it verifies.
			run 0 "$WS_BIN" verify --target "$img" MigStore
			contains "$OUT" " 0 damaged"
		fi
		rm -f "$img"
		[ "$kind" = hardlink ] || rm -rf "$store"
	done
done
exit 0
