#!/usr/bin/env bash
# Names that differ only in case in one folder (WSL1's case-sensitive folders:
# POSIX-namespace names, made here with ntfsraw mkfile through libntfs-3g):
# `a.txt`/`A.txt` and `Makefile`/`makefile` in alice's Documents.
# - compressed and directory stores keep both; verify and list accept them;
#   the directory store and `extract` hold each as its own host file;
# - the hard-link store refuses the second of each pair by name (its NTFS
#   folders fold case): a per-file error, exit 1 with --continue, listed in
#   report.json (read through the ntfs-3g driver), the store verifies;
# - load onto a reinstalled Windows: the first keeps its name, the second
#   comes back as name(1).ext with the reason listed, also under merge rules
#   (SourcePriority, DestinationPriority) naming both; both contents are
#   checked through the ntfs-3g driver.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
raw=$WS_TOOLS/ntfsraw
[ -x "$raw" ] || fail "$raw is not built (make tests)"

touch "$WORK/probe"
[ ! -e "$WORK/PROBE" ] || skip "$WORK folds case: a directory store there refuses the second twin (tests/unit/store/test_case_variants.c covers that); set TMPDIR to a case-sensitive folder"
rm -f "$WORK/probe"
D=Users/alice/Documents
NEW_ALICE=S-1-5-21-3777777777-3888888888-399999999-1001
hexname() { python3 -c 'import struct, sys
b = sys.argv[1].encode("utf-16-le")
print("".join("%04x" % u for u in struct.unpack("<%dH" % (len(b) // 2), b)))' "$1"; }
cp --sparse=always "$vol" "$WORK/src.img"
NAMES=(a.txt A.txt Makefile makefile)
for n in "${NAMES[@]}"; do
	printf 'content of %s, %s\n' "$n" "$(printf '%s' "$n" | od -An -tx1 | tr -d ' ')" >"$WORK/data-$n"
	"$raw" "$WORK/src.img" mkfile "/$D" "$(hexname "$n")" "$WORK/data-$n" || fail "ntfsraw mkfile $n"
done
# The fixture itself, through the driver (case-sensitive): four files.
mnt "$WORK/src.img" "$WORK/s"
for n in "${NAMES[@]}"; do cmp -s "$WORK/s/$D/$n" "$WORK/data-$n" || fail "source $n is not as made"; done
umnt "$WORK/s"

# 1. Compressed and directory stores keep both of each pair.
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/c" --efs skip --ui alice --ue '*'
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/d" --nocompress --efs skip --ui alice --ue '*'
for s in c d; do
	run 0 "$WS_BIN" verify "$WORK/$s"
	contains "$OUT" "0 damaged, catalog intact"
	run 0 "$WS_BIN" list "$WORK/$s"
	for n in "${NAMES[@]}"; do contains "$OUT" " $D/$n  ["; done
done
for n in "${NAMES[@]}"; do
	cmp -s "$WORK/d/USMT/File/C\$/$D/$n" "$WORK/data-$n" || fail "directory store: $n differs"
done
# extract to a Linux folder (case-sensitive here): each twin as its own file.
run 0 "$WS_BIN" extract "$WORK/c" "$D/*" "$WORK/x"
for n in "${NAMES[@]}"; do cmp -s "$WORK/x/$D/$n" "$WORK/data-$n" || fail "extract: $n differs"; done

# 2. The hard-link store: the second of each pair is refused by name.
cp --sparse=always "$WORK/src.img" "$WORK/hl.img"
run 4 "$WS_BIN" scan "$WORK/hl.img" MigStore --hardlink --nocompress --efs skip --ui alice --ue '*'
contains "$ERR" "differs from it only in case"
contains "$ERR" "--continue"
run 1 "$WS_BIN" scan "$WORK/hl.img" MigStore2 --hardlink --nocompress --efs skip --ui alice \
	--ue '*' --continue
contains "$OUT" "1 user(s)"
run 0 "$WS_BIN" verify --target "$WORK/hl.img" MigStore2
"$WS_BIN" list --target "$WORK/hl.img" MigStore2 --json >"$WORK/hl.json" || fail "list of the hard-link store"
mnt "$WORK/hl.img" "$WORK/h"
python3 - "$WORK/h/MigStore2/report.json" "$WORK/hl.json" "$WORK/h/MigStore2/USMT/File/C\$/$D" "$D" <<'EOF' || fail "hard-link store: $(cat "$WORK/h/MigStore2/report.json" | head -c 3000)"
import json, os, sys
report, listing, folder, d = sys.argv[1:5]
r = json.load(open(report))
refused = [s for s in r["skipped"] if "only in case" in s.get("reason", "")]
assert len(refused) == 2 and all(s["error"] for s in refused), refused
stored = {f["path"] for f in json.load(open(listing))["files"] if f["path"].startswith(d + "/")}
for pair in (("a.txt", "A.txt"), ("Makefile", "makefile")):
    kept = [n for n in pair if d + "/" + n in stored]
    gone = [n for n in pair if n not in kept]
    assert len(kept) == 1, (pair, kept)
    assert any(s["path"].endswith("\\" + gone[0]) for s in refused), (gone, refused)
    # The link in the store is the kept one's record (its own bytes).
    assert open(os.path.join(folder, kept[0]), "rb").read() == \
        open(os.path.join(os.path.dirname(report), "..", d, kept[0]), "rb").read(), kept
names = os.listdir(folder)
assert sum(n.lower() in ("a.txt", "makefile") for n in names) == 2, names
EOF
umnt "$WORK/h"

# 3. Restore onto a reinstalled Windows, from each copied store, and once
# more from the compressed store with merge rules on both pairs (the rules'
# patterns fold case, so each names both twins): neither SourcePriority nor
# DestinationPriority may make one twin win over the other.
cat >"$WORK/merge.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.example.com/migration/winstate-case-twins">
  <component type="Documents" context="User">
    <displayName>Case twins with merge rules</displayName>
    <role role="Data">
      <rules>
        <merge script="MigXmlHelper.SourcePriority()">
          <objectSet><pattern type="File">%CSIDL_PERSONAL% [a.txt]</pattern></objectSet>
        </merge>
        <merge script="MigXmlHelper.DestinationPriority()">
          <objectSet><pattern type="File">%CSIDL_PERSONAL% [makefile]</pattern></objectSet>
        </merge>
      </rules>
    </role>
  </component>
</migration>
XML
cp --sparse=always "$WORK/src.img" "$WORK/tgt-c.img"
WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/tgt-c.img" >"$WORK/reinstall.log" 2>&1 \
	|| fail "reinstall.sh: $(tail -5 "$WORK/reinstall.log")"
cp --sparse=always "$WORK/tgt-c.img" "$WORK/tgt-d.img"
cp --sparse=always "$WORK/tgt-c.img" "$WORK/tgt-m.img"
for s in c d m; do
	t="$WORK/tgt-$s.img" store="$WORK/$s" rules=()
	[ $s = m ] && store="$WORK/c" rules=(--rules "$WS_TOP/rules/xml/winstate-default.xml" --rules "$WORK/merge.xml")
	run 0 "$WS_BIN" load "$store" "$t" --mu "alice:$NEW_ALICE" --log "$WORK/load-$s.log" "${rules[@]}"
	if [ $s = m ]; then
		[ "$(grep -c "its merge rule does not apply" "$WORK/load-$s.log")" -eq 2 ] ||
			fail "merge rules: want 2 notes: $(grep -i "merge\|case" "$WORK/load-$s.log")"
	fi
	notes=$(grep "differs only in case" "$WORK/load-$s.log")
	[ "$(wc -l <<<"$notes")" -eq 2 ] || fail "$s: want 2 case notes in the log: $notes"
	contains "$OUT" "differs only in case"
	mnt "$t" "$WORK/t-$s"
	python3 - "$WORK/t-$s/$D" "$WORK" "$notes" <<'EOF' || fail "$s: restored twins"
import os, sys
folder, work, notes = sys.argv[1:4]
names = set(os.listdir(folder))
for pair, stem, ext in ((("a.txt", "A.txt"), None, ".txt"), (("Makefile", "makefile"), None, "")):
    first = [n for n in pair if n in names]
    assert len(first) == 1, (pair, sorted(n for n in names if n.lower().startswith(pair[0][0].lower())))
    second = [n for n in pair if n not in first][0]
    base, dot, e = second.rpartition(".") if "." in second else (second, "", "")
    renamed = (base + "(1)." + e) if dot else second + "(1)"
    assert renamed in names, (renamed, sorted(names))
    for n, on in ((first[0], first[0]), (second, renamed)):
        want = open(os.path.join(work, "data-" + n), "rb").read()
        got = open(os.path.join(folder, on), "rb").read()
        assert want == got, (n, on, got)
    assert any(second in line and renamed in line and first[0] in line for line in notes.splitlines()), notes
print("ok")
EOF
	umnt "$WORK/t-$s"
done
echo "case twins: kept by the compressed and directory stores and restored as name(1); the hard-link store refuses the second, named"
