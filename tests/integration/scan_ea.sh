#!/usr/bin/env bash
# NTFS extended attributes ($EA: WSL1's $LXUID/$LXGID/$LXMOD/$LXDEV, an
# application's NEED_EA entry with a non-resident value, folders with EAs)
# are shown by ls, kept by all three store kinds and restored byte-identical
# onto a reinstalled Windows: compared through the ntfs-3g driver's
# system.ntfs_ea and system.ntfs_attrib on the source and the target, never
# winstate's own reader.  extract says which files' EAs a plain folder cannot
# keep; a store without EAs stays catalog version 1; a damaged EA buffer in
# the store costs that file its EAs (named, exit 1), nothing else.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
[ -n "${EA_PATHS:-}" ] || fail "fixture.env has no EA_PATHS (make fixtures)"
command -v getfattr >/dev/null || fail "getfattr is not installed (attr; make deps installs it)"
NEW_ALICE=S-1-5-21-3777777777-3888888888-399999999-1001
IFS='|' read -ra EAS <<<"$EA_PATHS"

# The WSL distribution is not in the default rules (a Linux file system is
# not user data a migration usually wants): an explicit rule selects it.
cat >"$WORK/ea.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.example.com/migration/winstate-ea-test">
  <component type="Documents" context="User">
    <displayName>EA test rules</displayName>
    <role role="Data">
      <rules>
        <include>
          <objectSet>
            <pattern type="File">%CSIDL_LOCAL_APPDATA%\Packages\CanonicalGroupLimited.Ubuntu_79rhkp1fndgsc\LocalState\* [*]</pattern>
            <pattern type="File">%CSIDL_PERSONAL%\* [*]</pattern>
          </objectSet>
        </include>
      </rules>
    </role>
  </component>
</migration>
EOF
SEL=(--rules "$WORK/ea.xml" --ui alice --ue '*' --efs skip)

# xa MOUNT PATH ATTR: the value of ATTR through ntfs-3g, hex, or "none".
xa() { getfattr --absolute-names -h -e hex -n "$3" "$1/$2" 2>/dev/null | sed -n "s/^$3=//p" | grep . || echo none; }

# same_eas SRC_MOUNT SRC_PREFIX TGT_MOUNT: every EA file and folder has the
# source's EAs and attributes on the target, byte for byte.
same_eas() {
	local n=0 p a b
	for p in "${EAS[@]}"; do
		a=$(xa "$1" "$2$p" system.ntfs_ea)
		b=$(xa "$3" "$p" system.ntfs_ea)
		[ "$a" != none ] || fail "$2$p has no EAs on the source"
		[ "$a" = "$b" ] || fail "$p: EAs differ after the restore: $a vs $b"
		a=$(xa "$1" "$2$p" system.ntfs_attrib)
		b=$(xa "$3" "$p" system.ntfs_attrib)
		[ "$a" = "$b" ] || fail "$p: attributes differ after the restore: $a vs $b"
		n=$((n + 1))
	done
	[ "$n" -ge 14 ] || fail "only $n EA paths checked"
}

# 1. ls names them; ls --json gives names, flags and values.
run 0 "$WS_BIN" ls "$vol" "$WSL_ROOTFS/dev"
contains "$OUT" 'null [EA: $LXUID $LXGID $LXMOD $LXDEV]'
run 0 "$WS_BIN" ls "$vol" Users/alice/Documents
contains "$OUT" 'tagged-report.txt [EA: MYAPP.META(NEED_EA) MYAPP.THUMB]'
contains "$OUT" 'Tagged Folder/ [EA: MYAPP.FOLDER]'
run 0 "$WS_BIN" ls "$vol" "$WSL_ROOTFS" -R --json
python3 - "$OUT" "$WS_FIXTURES" <<'EOF' || fail "ls --json: $(head -c 400 <<<"$OUT")"
import json, os, sys
d = {e["path"]: e for e in json.loads(sys.argv[1])}
null = d["dev/null"]
names = [(x["name"], x["flags"], x["value"]) for x in null["ea"]]
assert names == [("$LXUID", 0, "00000000"), ("$LXGID", 0, "00000000"),
                 ("$LXMOD", 0, "b6210000"), ("$LXDEV", 0, "0100000003000000")], names
assert null["ea_raw"].startswith("14000000000604"), null["ea_raw"]
assert [x["name"] for x in d["home/alice"]["ea"]] == ["$LXUID", "$LXGID", "$LXMOD"]
EOF
# The raw buffer in --json is the driver's system.ntfs_ea, byte for byte.
mnt "$vol" "$WORK/v"
want=$(xa "$WORK/v" "$WSL_BASHRC" system.ntfs_ea)
umnt "$WORK/v"
run 0 "$WS_BIN" ls "$vol" "$WSL_BASHRC" --json
got=$(python3 -c 'import json,sys; print("0x" + json.loads(sys.argv[1])[0]["ea_raw"])' "$OUT")
[ "$got" = "$want" ] || fail "ls --json ea_raw $got, the driver says $want"

# 2. Compressed and directory stores: capture, reinstall, restore, compare.
cp --sparse=always "$vol" "$WORK/src.img"
for kind in packed dir; do
	opt=()
	[ "$kind" = dir ] && opt=(--nocompress)
	run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/$kind" "${SEL[@]}" "${opt[@]}"
	"$WS_BIN" list "$WORK/$kind" --json >"$WORK/list.json" || fail "list $kind"
	python3 - "$WORK/list.json" "$EA_PATHS" <<'EOF' || fail "$kind: list --json"
import json, sys
d = json.load(open(sys.argv[1]))
files = {f["path"]: f for f in d["files"]}
assert d["version"] == 3, d["version"]
for p in sys.argv[2].split("|"):
    assert files[p]["ea_bytes"] > 0, (p, files.get(p))
assert files[p + "/inside.txt"]["ea_bytes"] == 0, p
EOF
	run 0 "$WS_BIN" verify "$WORK/$kind"
	contains "$OUT" "0 damaged"
	cp --sparse=always "$WORK/src.img" "$WORK/tgt-$kind.img"
	WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt-$kind.img" \
		>"$WORK/reinstall.log" 2>&1 || fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
	run 0 "$WS_BIN" load "$WORK/$kind" "$WORK/tgt-$kind.img" --mu "alice:$NEW_ALICE"
	mnt "$WORK/src.img" "$WORK/s"
	mnt "$WORK/tgt-$kind.img" "$WORK/t"
	same_eas "$WORK/s" "" "$WORK/t"
	# A file without EAs stays without.
	[ "$(xa "$WORK/t" "$EA_FOLDER/inside.txt" system.ntfs_ea)" = none ] || fail "inside.txt got EAs"
	umnt "$WORK/t"
	umnt "$WORK/s"
done

# 3. Hard-link store (the in-place refresh): the links carry the EAs, the
# catalog records them, the plain folders get theirs written.
cp --sparse=always "$vol" "$WORK/hl.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/hl.img" >"$WORK/reinstall.log" 2>&1 \
	|| fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
run 0 "$WS_BIN" scan "$WORK/hl.img" MigStore --windir Windows.old/Windows --hardlink --nocompress "${SEL[@]}"
"$WS_BIN" list --target "$WORK/hl.img" MigStore --json >"$WORK/list.json" || fail "list of the hard-link store"
python3 - "$WORK/list.json" "$EA_PATHS" <<'EOF' || fail "hard-link list --json"
import json, sys
d = json.load(open(sys.argv[1]))
files = {f["path"]: f for f in d["files"]}
assert d["version"] == 3, d["version"]
for p in sys.argv[2].split("|"):
    assert files[p]["ea_bytes"] > 0, (p, files.get(p))
EOF
run 0 "$WS_BIN" load 'C:\MigStore' "$WORK/hl.img" --hardlink --mu "alice:$NEW_ALICE"
mnt "$WORK/hl.img" "$WORK/h"
same_eas "$WORK/h" "Windows.old/" "$WORK/h"
umnt "$WORK/h"

# 4. extract: the data comes out; the EAs cannot, and it says so, file by file.
run 0 "$WS_BIN" extract "$WORK/dir" 'Users/alice/*' "$WORK/x"
contains "$OUT" "NTFS extended attributes are not extracted"
contains "$OUT" "EAs not kept: $WSL_BASHRC"
contains "$OUT" "EAs not kept: $EA_APP_FILE"
! grep -qxF "  EAs not kept: $EA_FOLDER" <<<"$OUT" || fail "extract named a folder entry"
cmp -s "$WORK/x/$WSL_BASHRC" <(printf '# ~/.bashrc\nexport PATH=$HOME/bin:$PATH\n') || fail "extracted .bashrc differs"
run 0 "$WS_BIN" extract "$WORK/dir" 'Users/alice/Desktop/*' "$WORK/x2"
lacks "$OUT" "extended attributes"

# 5. A store without EAs is exactly the old format (catalog version 1), read as ever.
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/noea" --ui alice --ue '*' --efs skip --nocompress \
	--rules "$WS_TOP/rules/xml/winstate-default.xml"
"$WS_BIN" list "$WORK/noea" --json >"$WORK/list.json" || fail "list noea"
python3 - "$WORK/list.json" <<'EOF' || fail "a store with EAs only where the default rules take them"
import json, sys
d = json.load(open(sys.argv[1]))
with_ea = [f["path"] for f in d["files"] if f["ea_bytes"]]
# The default rules take Documents (tagged-report.txt, Tagged Folder), not the WSL tree.
assert d["version"] == 3 and with_ea and not any("rootfs" in p for p in with_ea), (d["version"], with_ea)
EOF
cat >"$WORK/desktop.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.example.com/migration/winstate-ea-desktop">
  <component type="Documents" context="User">
    <displayName>Desktop only</displayName>
    <role role="Data"><rules><include><objectSet>
      <pattern type="File">%CSIDL_DESKTOP%\* [*]</pattern>
    </objectSet></include></rules></role>
  </component>
</migration>
EOF
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/v1" --ui alice --ue '*' --efs skip --nocompress --rules "$WORK/desktop.xml"
"$WS_BIN" list "$WORK/v1" --json >"$WORK/list.json" || fail "list v1"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"] in (1, 2), d["version"]' \
	"$WORK/list.json" || fail "a store without EAs is not version 1 or 2"

# 6. A damaged EA buffer in the store: that file loses its EAs (named, exit 1),
# its data and every other file's EAs come back.
python3 - "$WORK/dir/catalog" <<'EOF' || fail "cannot damage the catalog"
import hashlib, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.find(b"MYAPP.META\0reviewed=yes")
assert i > 8 and b.find(b"MYAPP.META\0reviewed=yes", i + 1) < 0, i
b[i - 8:i - 4] = (3).to_bytes(4, "little")   # next-entry offset 3: not aligned, too short
b[-32:] = hashlib.blake2b(bytes(b[:-32]), digest_size=32).digest()
open(p, "wb").write(b)
EOF
run 0 "$WS_BIN" verify "$WORK/dir"
cp --sparse=always "$WORK/src.img" "$WORK/tgt-bad.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt-bad.img" >"$WORK/reinstall.log" 2>&1 \
	|| fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
run 1 "$WS_BIN" load "$WORK/dir" "$WORK/tgt-bad.img" --mu "alice:$NEW_ALICE"
contains "$OUT$ERR" "$EA_APP_FILE: its extended attributes were not restored"
contains "$OUT$ERR" "damaged"
mnt "$WORK/src.img" "$WORK/s"
mnt "$WORK/tgt-bad.img" "$WORK/t"
cmp -s "$WORK/s/$EA_APP_FILE" "$WORK/t/$EA_APP_FILE" || fail "the file with damaged EAs lost its data"
[ "$(xa "$WORK/t" "$EA_APP_FILE" system.ntfs_ea)" = none ] || fail "damaged EAs were written"
[ "$(xa "$WORK/s" "$WSL_BASHRC" system.ntfs_ea)" = "$(xa "$WORK/t" "$WSL_BASHRC" system.ntfs_ea)" ] \
	|| fail "another file's EAs were lost"
umnt "$WORK/t"
umnt "$WORK/s"
# 7. An $EA damaged on disk (its run moved past the volume's end: libntfs-3g
# reads zeros there) is stored as it is, with a warning naming the file, and
# ls shows why it cannot be listed; the restore refuses it (as in 6).
cp --sparse=always "$vol" "$WORK/dmg.img"
python3 - "$WORK/dmg.img" "${EA_APP_FILE##*/}" "$WS_TOP/tests/fixtures" <<'PY' || fail "cannot damage the \$EA"
import sys
sys.path.insert(0, sys.argv[3])
import fxlib as L
L.damage_ea_run(sys.argv[1], sys.argv[2])
PY
run 0 "$WS_BIN" ls "$WORK/dmg.img" Users/alice/Documents
contains "$OUT" "tagged-report.txt [EA: 3052 bytes, the extended attributes are damaged"
run 0 "$WS_BIN" scan "$WORK/dmg.img" "$WORK/dmgstore" "${SEL[@]}" --nocompress
win='C:\'$(tr / '\\' <<<"$EA_APP_FILE")
contains "$ERR" "warning: $win: its extended attributes are damaged"
"$WS_BIN" list "$WORK/dmgstore" --json >"$WORK/list.json" || fail "list dmgstore"
python3 - "$WORK/list.json" "$EA_APP_FILE" <<'PY' || fail "the damaged EAs were not stored as they are"
import json, sys
d = json.load(open(sys.argv[1]))
assert {f["path"]: f for f in d["files"]}[sys.argv[2]]["ea_bytes"] == 3052
PY
echo "ok: EAs shown, kept by 3 store kinds, restored byte-identical, named when they cannot be"
