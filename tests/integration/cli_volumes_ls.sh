#!/usr/bin/env bash
# `volumes` and `ls` on the sample Windows disk, checked against the fixture's
# own manifest (written from the ntfs-3g FUSE mount, not by winstate).
. "$(dirname "$0")/common.bash"

disk=$(fixture win.img)
manifest=$(fixture manifest.tsv)
. "$(fixture fixture.env)"

run 0 "$WS_BIN" volumes "$disk"
contains "$OUT" "GPT disk"
contains "$OUT" "EFI system"
contains "$OUT" "Microsoft reserved"
contains "$OUT" "Windows installed"
run 0 "$WS_BIN" volumes --json "$disk"
python3 -c 'import json,sys; d=json.load(sys.stdin); p=[x for x in d["partitions"] if x.get("ntfs")]; assert len(p)==1 and p[0]["ntfs"]["windows"], d' <<<"$OUT" \
	|| fail "volumes --json: $OUT"

for img in hibernated dirty bitlocker; do
	f=$(fixture $img.img)
	run 0 "$WS_BIN" volumes "$f"
	case $img in
	hibernated) contains "$OUT" "hibernated" ;;
	dirty) contains "$OUT" "dirty" ;;
	bitlocker) contains "$OUT" "BitLocker" ;;
	esac
done

# Every manifest entry is listed by `ls -R --json` with the same size, attributes,
# link count and MFT record, and nothing else is.
run 0 "$WS_BIN" ls "$disk" / -R --json
echo "$OUT" >"$WORK/ls.json"
python3 - "$WORK/ls.json" "$manifest" <<'PY' || fail "ls -R --json disagrees with the manifest"
import json, sys
ours = {e["path"]: e for e in json.load(open(sys.argv[1]))}
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2], encoding="utf-8")]
head, rows = rows[0], rows[1:]
col = {n: i for i, n in enumerate(head)}
bad = 0
seen = set()
for r in rows:
    path = r[col["path"]]
    seen.add(path)
    e = ours.get(path)
    if e is None:
        print("missing from ls:", path); bad += 1; continue
    if r[col["kind"]] == "f" and int(r[col["size"]]) != e["size"]:
        print("size", path, r[col["size"]], e["size"]); bad += 1
    if int(r[col["attrib"]], 16) != e["attributes"]:
        print("attrib", path, r[col["attrib"]], hex(e["attributes"])); bad += 1
    if int(r[col["nlink"]]) != e["links"]:
        print("links", path, r[col["nlink"]], e["links"]); bad += 1
    if int(r[col["ino"]]) != e["mref"]:
        print("mref", path, r[col["ino"]], e["mref"]); bad += 1
extra = set(ours) - seen
for p in sorted(extra)[:20]:
    print("not in the manifest:", p); bad += 1
sys.exit(1 if bad else 0)
PY

# Junctions are shown with their target and never entered.
run 0 "$WS_BIN" ls "$disk:3" "Users/$ALICE_NAME"
contains "$OUT" "Application Data -> "
contains "$OUT" "[junction]"
run 0 "$WS_BIN" ls "$disk:3" "Users/$ALICE_NAME/Application Data/"
contains "$OUT" "[junction]"
exit 0
