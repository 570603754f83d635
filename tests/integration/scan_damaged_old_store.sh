#!/usr/bin/env bash
# A hard-link store left damaged on the volume (a folder whose index block a
# killed capture half-wrote: libntfs-3g has no journal) is never half-removed
# by --overwrite or rmstore: both stop, name the damaged folder and leave every
# name in place.  The damage is made with ntfsinfo (another reader) and dd.
. "$(dirname "$0")/common.bash"

command -v ntfsinfo >/dev/null || fail "ntfsinfo (package ntfs-3g) is missing"
vol=$(fixture volume.img)
cd "$WORK" || fail "cd"
cp --sparse=always "$vol" hl.img
run 0 "$WS_BIN" scan hl.img MigStore --nocompress --hardlink --efs skip
folder='MigStore/USMT/File/C$/Users/alice/Documents'

# The folder's first index block, found by ntfs-3g's own ntfsinfo.
info=$(ntfsinfo -v -F "$folder" hl.img 2>&1) || fail "ntfsinfo: $info"
lcn=$(awk '/Dumping attribute \$INDEX_ALLOCATION/{f=1} f&&/Runlist:/{getline; print $2; exit}' <<<"$info")
[ -n "$lcn" ] || fail "$folder has no index allocation to damage: $info"
cluster=$(ntfsinfo -m hl.img | awk '/Cluster Size/{print $3; exit}')
off=$((lcn * cluster))
[ "$(dd if=hl.img bs=1 skip=$off count=4 2>/dev/null)" = INDX ] || fail "no INDX block at $lcn"
printf 'XXXX' | dd of=hl.img bs=1 seek=$off conv=notrunc 2>/dev/null
before=$(sha256sum hl.img)

run 3 "$WS_BIN" scan hl.img MigStore --nocompress --hardlink --efs skip --overwrite
contains "$ERR" "cannot remove the old store MigStore: $folder (its folder listing)"
contains "$ERR" "Corrupt index block signature"
contains "$ERR" "Nothing was removed: capture into another folder"
lacks "$ERR" "an empty file name"
[ "$(sha256sum hl.img)" = "$before" ] || fail "the refused --overwrite changed the volume"

run 4 "$WS_BIN" rmstore MigStore --target hl.img
contains "$ERR" "nothing was removed"
[ "$(sha256sum hl.img)" = "$before" ] || fail "the refused rmstore changed the volume"

# Another folder works on the same volume: the damaged store is left out of
# the walk (as every store found there is), and the log says so.
run 0 "$WS_BIN" scan hl.img MigStore2 --nocompress --hardlink --efs skip --log log.txt
grep -qF 'C:\MigStore not captured: another capture'"'"'s store' log.txt ||
	fail "the log does not name the old store as left out: $(grep -i migstore log.txt | head -3)"
run 0 "$WS_BIN" verify MigStore2 --target hl.img
exit 0
