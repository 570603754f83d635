#!/usr/bin/env bash
# The store tools: verify (names damaged files), list, extract (never outside
# DEST), rmstore of local stores, and the usmtutils spellings with USMT's
# output shapes and exit codes.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
ln -sf "$WS_BIN" "$WORK/usmtutils"
cp --sparse=always "$vol" "$WORK/src.img"
run 0 "$WS_BIN" scan "$WORK/src.img" "$WORK/store" --efs skip --ui carol --ui bob --ue '*'

# verify: an intact store.
run 0 "$WS_BIN" verify "$WORK/store"
contains "$OUT" "0 damaged, catalog intact"
run 0 "$WS_BIN" verify "$WORK/store" --json
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["files_ok"] > 50 and d["catalog_ok"] and not d["damaged"], d' "$OUT" ||
	fail "verify --json: $OUT"
run 0 "$WORK/usmtutils" /verify "$WORK/store/USMT/USMT.MIG"
contains "$OUT" "Number of corrupted files: 0"
run 0 "$WORK/usmtutils" /verify:all "$WORK/store"
contains "$OUT" 'C:\Users\carol\'
contains "$OUT" "	OK"
contains "$OUT" "CATALOG	OK"
run 0 "$WORK/usmtutils" /verify:catalog "$WORK/store"
[ "$OUT" = "CATALOG	OK" ] || fail "/verify:catalog prints only the catalog line: $OUT"

# list: users, files with size and decision, registry values.
run 0 "$WS_BIN" list "$WORK/store"
contains "$OUT" "$CAROL_SID"
contains "$OUT" "include (component"
contains "$OUT" "registry values"
run 0 "$WS_BIN" list "$WORK/store" --json
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert {u["name"] for u in d["users"]} == {"bob", "carol"}, d["users"]
assert all(f["decision"] for f in d["files"]) and d["registry"], "decisions"
' "$OUT" || fail "list --json"

# A damaged store: verify names the file, exit 3 / USMT 42.
cp -r "$WORK/store" "$WORK/bad"
python3 -c '
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
# Frames start after the header and the dictionary (trailer bytes 56, 72).
doff, dlen = struct.unpack_from("<Q8xQ", b, len(b) - 96 + 56)
b[(doff + dlen if doff else 128) + 5000] ^= 0xFF
open(p, "wb").write(b)' "$WORK/bad/USMT/USMT.MIG"
run 3 "$WS_BIN" verify "$WORK/bad"
contains "$OUT" "DAMAGED "
run 42 "$WORK/usmtutils" /verify:failureonly "$WORK/bad"
contains "$OUT" "	CORRUPTED"
lacks "$(grep -v '^CATALOG' <<<"$OUT")" "	OK"
run 42 "$WORK/usmtutils" /verify:summary "$WORK/bad"
contains "$OUT" "Number of corrupted files: "
lacks "$OUT" "Number of corrupted files: 0"
run 27 "$WORK/usmtutils" /verify "$WORK/nothing-here"

# extract: a pattern, a user, into any local folder; existing files need --overwrite.
run 0 "$WS_BIN" extract "$WORK/store" 'Users/carol/Documents/*' "$WORK/dest"
contains "$OUT" "extracted"
n=$(find "$WORK/dest/Users/carol/Documents" -type f | wc -l)
[ "$n" -gt 0 ] || fail "nothing extracted"
[ ! -e "$WORK/dest/Users/bob" ] || fail "the pattern took bob's files too"
run 4 "$WS_BIN" extract "$WORK/store" 'Users/carol/Documents/*' "$WORK/dest"
contains "$ERR" "--overwrite"
run 0 "$WS_BIN" extract "$WORK/store" 'Users/carol/Documents/*' "$WORK/dest" --overwrite
run 0 "$WS_BIN" extract "$WORK/store" --user "$BOB_SID" '*' "$WORK/bobonly"
[ -d "$WORK/bobonly/Users/bob" ] && [ ! -e "$WORK/bobonly/Users/carol" ] || fail "--user"
# A symlink planted in the destination is not followed.
mkdir -p "$WORK/trap/Users" "$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$WORK/trap/Users/carol"
"$WS_BIN" extract "$WORK/store" 'Users/carol/*' "$WORK/trap" >/dev/null 2>&1
[ -z "$(ls -A "$WORK/elsewhere")" ] || fail "extract followed a symlink out of DEST"
# usmtutils /extract with /i and /e.
run 0 "$WORK/usmtutils" /extract "$WORK/store" "$WORK/ux" '/i:*.docx,*.txt' '/e:*.txt'
find "$WORK/ux" -type f -name '*.docx' | grep -q . || fail "/i:*.docx took nothing"
! find "$WORK/ux" -type f ! -name '*.docx' ! -name '*.txt' | grep -q . || fail "/i took other files"
# A damaged store: what is intact comes out, the damaged file does not.
run 1 "$WS_BIN" extract "$WORK/bad" '*' "$WORK/salvage"

# rmstore of a local store; a folder that is not a store is refused.
mkdir -p "$WORK/notastore/docs" && echo keep >"$WORK/notastore/docs/a.txt"
run 3 "$WS_BIN" rmstore "$WORK/notastore"
[ -e "$WORK/notastore/docs/a.txt" ] || fail "rmstore removed a folder that is not a store"
mkdir -p "$WORK/mixed/USMT" && echo keep >"$WORK/mixed/precious.doc"
run 4 "$WS_BIN" rmstore "$WORK/mixed"
[ -e "$WORK/mixed/precious.doc" ] || fail "rmstore removed a stranger"
cp -r "$WORK/store" "$WORK/store2"
ln -s "$WORK/elsewhere" "$WORK/store2/USMT/link"
touch "$WORK/elsewhere/survivor"
run 0 "$WS_BIN" rmstore "$WORK/store2"
[ ! -e "$WORK/store2" ] && [ -e "$WORK/elsewhere/survivor" ] || fail "rmstore of a local store"
run 0 "$WORK/usmtutils" /rd "$WORK/bad" /y
[ ! -e "$WORK/bad" ] || fail "usmtutils /rd"
run 2 "$WS_BIN" verify
run 2 "$WS_BIN" extract "$WORK/store" onlypattern
exit 0
