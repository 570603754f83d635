#!/usr/bin/env bash
# A hard-link capture writes only its store folder: a listing of everything
# else on the volume (through the ntfs-3g FUSE driver: names, inode numbers,
# sizes, content hashes, security descriptors, attributes, the four NTFS
# times, reparse data, named streams) is the same before and after.  Only
# the link counts of captured files grow, by one each: that is the store.
# Compressed and directory captures leave the image byte-for-byte unchanged.
. "$(dirname "$0")/common.bash"

vol=$(fixture volume.img)
cd "$WORK" || fail "cd"
cp --sparse=always "$vol" hl.img
mkdir mnt

listing() { # IMAGE OUT
	mnt "$1" "$WORK/mnt" ro,streams_interface=xattr
	python3 - mnt "$2" <<'EOF'
import hashlib, os, sys
root, out = sys.argv[1], sys.argv[2]
names = ("system.ntfs_acl", "system.ntfs_attrib", "system.ntfs_times", "system.ntfs_reparse_data")
with open(out, "w") as f:
    for d, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        rel_d = os.path.relpath(d, root)
        if rel_d == "MigStore" or rel_d.startswith("MigStore/"):
            continue
        for n in sorted(dirs + files):
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            if rel == "MigStore":
                continue
            st = os.lstat(p)
            row = [rel, oct(st.st_mode), str(st.st_ino), str(st.st_size)]
            for x in names:
                try:
                    row.append(os.getxattr(p, x, follow_symlinks=False).hex())
                except OSError:
                    row.append("-")
            try:
                for x in sorted(os.listxattr(p, follow_symlinks=False)):
                    if x.startswith("user."):
                        row.append(x + "=" + hashlib.sha256(os.getxattr(p, x, follow_symlinks=False)).hexdigest())
            except OSError:
                pass
            if os.path.isfile(p) and not os.path.islink(p):
                h = hashlib.sha256()
                try:
                    with open(p, "rb") as fh:
                        for chunk in iter(lambda: fh.read(1 << 20), b""):
                            h.update(chunk)
                    row.append(h.hexdigest())
                except OSError as e:
                    row.append("unreadable:%d" % e.errno)
            f.write("\t".join(row) + "\n")
EOF
	umnt "$WORK/mnt"
}

listing hl.img before.tsv
run 0 "$WS_BIN" scan hl.img MigStore --hardlink --nocompress --efs hardlink
listing hl.img after.tsv
[ "$(wc -l <before.tsv)" -gt 1000 ] || fail "the listing is too short: $(wc -l <before.tsv) lines"
diff before.tsv after.tsv >diff.txt || fail "a hard-link capture changed files outside its store: $(head -20 diff.txt)"
# And the store is there, holding links (not copies) of the captured files.
mnt hl.img "$WORK/mnt"
[ -f mnt/MigStore/catalog ] || fail "no catalog in the hard-link store"
n=$(find mnt/MigStore/USMT/File -type f | wc -l)
[ "$n" -gt 100 ] || fail "only $n files in the hard-link store"
umnt "$WORK/mnt"
# The store verifies, EFS files included (their ciphertext cannot be read
# offline; their links are what is checked).
run 0 "$WS_BIN" verify --target hl.img MigStore
contains "$OUT" "0 damaged"

# Compressed and directory captures: the image is not written at all.
before=$(sha256sum <"$vol")
run 0 "$WS_BIN" scan "$vol" c1 --efs skip
run 0 "$WS_BIN" scan "$vol" d1 --efs skip --nocompress
[ "$before" = "$(sha256sum <"$vol")" ] || fail "a capture changed the source image"
exit 0
