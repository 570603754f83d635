#!/usr/bin/env bash
# bob keeps his Documents in OneDrive on the old Windows.  After capture,
# reinstall and restore, they are in the new profile's Documents folder (the
# capture records each user's known folders; restore maps them), as read
# through the ntfs-3g driver.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
. "$(fixture fixture.env)"
cp --sparse=always "$vol" "$WORK/pc.img"
run 0 "$WS_BIN" scan "$WORK/pc.img" "$WORK/store" --efs skip --ui bob --ue '*'
run 0 "$WS_BIN" list "$WORK/store" --json
python3 -c '
import json, sys
d = json.load(sys.stdin)
bob = [u for u in d["users"] if u["sid"] == sys.argv[1]][0]
extra = bob.get("extra", bob)
assert extra.get("folder:Personal", "").endswith("OneDrive\\Documents"), extra
' "$BOB_SID" <<<"$OUT" || fail "the store does not record bob's Documents folder: $OUT"

WS_TOOLSDIR="$WS_TOOLS" bash "$WS_TOP/tests/fixtures/reinstall.sh" "$WORK/pc.img" >/dev/null 2>&1 || fail "reinstall.sh"
new_bob=S-1-5-21-3777777777-3888888888-399999999-1002
"$WS_BIN" load "$WORK/store" "$WORK/pc.img" --mu "bob:$new_bob" >"$WORK/load.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || fail "load exited $rc: $(cat "$WORK/load.out")"

# bob's OneDrive is cloud-tagged: the ntfs-3g driver shows it as a symlink
# and cannot enter it, so the originals come from the fixture's manifest.
manifest=$(fixture manifest.tsv)
orig=$(awk -F'\t' -v d="$BOB_ONEDRIVE_DOCS/bob-notes-" 'index($1, d) == 1' "$manifest" | wc -l)
want=$(awk -F'\t' -v p="$BOB_ONEDRIVE_DOCS/bob-notes-0.docx" '$1 == p { print $9 }' "$manifest")
mnt "$WORK/pc.img" "$WORK/mnt"
found=$(find "$WORK/mnt/Users/bob/Documents" -maxdepth 1 -name 'bob-notes-*' | wc -l)
leftover=$(find "$WORK/mnt/Users/bob" -path '*/OneDrive/Documents/bob-notes-*' | wc -l)
got=$(sha256sum <"$WORK/mnt/Users/bob/Documents/bob-notes-0.docx" | cut -d' ' -f1)
[ -n "$want" ] && [ "$got" = "$want" ]
same=$?
umnt "$WORK/mnt"
[ "$orig" -gt 0 ] || fail "the fixture has no bob-notes in OneDrive\\Documents"
[ "$found" -eq "$orig" ] || fail "$found of $orig documents reached Users/bob/Documents"
[ "$leftover" -eq 0 ] || fail "documents were restored under OneDrive too"
[ "$same" -eq 0 ] || fail "bob-notes-0.docx differs from the original"
exit 0
