# Checks of a restore shared by the scenario scripts (scenario_*.sh):
# sourced after common.bash, never run.  Everything is read through the
# ntfs-3g driver (xattrs system.ntfs_acl / ntfs_attrib / ntfs_times /
# ntfs_reparse_data, user.* streams) and hivex's tools, never winstate's own
# reader.

# HKCU\Software\Classes values too, so a new profile needs a UsrClass.dat.
classes_rules() { cat >"$1" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<migration urlid="http://www.microsoft.com/migration/1.0/migxmlext/wstestclasses">
  <component type="Application" context="User">
    <displayName>File associations and Explorer bags</displayName>
    <role role="Settings">
      <rules>
        <include>
          <objectSet>
            <pattern type="Registry">HKCU\Software\Classes\.txt\OpenWithProgids [*]</pattern>
            <pattern type="Registry">HKCU\Software\Classes\Local Settings\Software\Microsoft\Windows\Shell\* [*]</pattern>
          </objectSet>
        </include>
      </rules>
    </role>
  </component>
</migration>
EOF
}

# Python helpers shared by the checks: xattrs read with one 64 KiB buffer
# (ntfs-3g answers EIO, not ERANGE, to a short one), SIDs, descriptors.
PYLIB='
import ctypes, hashlib, json, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
def xattr(p, n):
    buf = ctypes.create_string_buffer(65536)
    r = libc.lgetxattr(os.fsencode(p), n.encode(), buf, len(buf))
    return buf.raw[:r] if r >= 0 else ("missing (%s)" % os.strerror(ctypes.get_errno())).encode()
def sid_bytes(s):
    p = s.split("-")
    subs = [int(v) for v in p[3:]]
    return bytes([1, len(subs)]) + int(p[2]).to_bytes(6, "big") + b"".join(v.to_bytes(4, "little") for v in subs)
def sd_parts(sd):
    """Control, owner, group, SACL, DACL of a self-relative descriptor (the
    same descriptor may be laid out in another order)."""
    assert len(sd) >= 20 and sd[0] == 1, sd
    ctl = int.from_bytes(sd[2:4], "little")
    off = [int.from_bytes(sd[i:i + 4], "little") for i in (4, 8, 12, 16)]
    sid = lambda o: sd[o:o + 8 + 4 * sd[o + 1]] if o else None
    acl = lambda o: sd[o:o + int.from_bytes(sd[o + 2:o + 4], "little")] if o else None
    return [ctl, sid(off[0]), sid(off[1]), acl(off[2]) if ctl & 0x10 else None,
            acl(off[3]) if ctl & 0x4 else None]
def reg_export(path):
    """{(key, value name): "hex(T):..."} of a whole hive, through hivexregedit."""
    text = subprocess.run(["hivexregedit", "--export", path, "\\"], check=True,
                          capture_output=True).stdout.decode("utf-8", "replace").replace("\\\n", "")
    vals, key = {}, None
    for line in text.splitlines():
        if line.startswith("["):
            key = line[1:-1].lstrip("\\").lower()
            vals[(key, None)] = ""
        elif line.startswith("\"") or line.startswith("@="):
            if line.startswith("@="):
                name, data = "", line[2:]
            else:
                name, _, data = line[1:].partition("\"=")
            vals[(key, name.lower())] = data.strip()
    return vals
'

# listing ROOT SKIP...: every entry of a mounted volume but the SKIP folders
# and SOFTWARE, with its content and metadata (attributes, descriptor, times,
# streams, reparse data; folders without their times, which a new entry changes).
listing() { python3 -c "$PYLIB"'
root, skip = sys.argv[1], [s.lower() + "/" for s in sys.argv[2:]]
out = []
for d, dirs, files in os.walk(root):
    rel = os.path.relpath(d, root)
    rel = "" if rel == "." else rel + "/"
    for n in sorted(dirs + files):
        r, p = rel + n, os.path.join(d, n)
        if any((r + "/").lower().startswith(s) for s in skip) or \
           r.lower() == "windows/system32/config/software":
            continue
        meta = [xattr(p, "system.ntfs_attrib").hex(), xattr(p, "system.ntfs_acl").hex()]
        if os.path.islink(p):
            meta.append(xattr(p, "system.ntfs_reparse_data").hex())
        elif not os.path.isdir(p):
            h = hashlib.sha256()
            try:
                with open(p, "rb") as f:
                    for b in iter(lambda: f.read(1 << 20), b""):
                        h.update(b)
                digest = h.hexdigest()[:16]
            except OSError as e:  # EFS data, refused by the driver
                digest = "unreadable:" + e.strerror
            meta += [digest, xattr(p, "system.ntfs_times").hex()]
            meta += sorted(k + "=" + xattr(p, k).hex() for k in os.listxattr(p, follow_symlinks=False)
                           if k.startswith("user."))
        out.append(r + " " + " ".join(meta))
    dirs[:] = [n for n in dirs if not os.path.islink(os.path.join(d, n))]
print("\n".join(out))
' "$@"; }

# check_files LIST SRC TGT OLDSID=NEWSID=TARGET_PROFILE...: every file the
# store holds for these users is in the target profile (Documents kept
# elsewhere, like OneDrive\Documents, in the new Documents), with the same
# content, named streams, reparse data, attributes and times, and the same
# descriptor with the old SIDs replaced; hard links stay links; nothing else
# but the user's hives is in the new profiles.
check_files() { python3 -c "$PYLIB"'
store, src, tgt = sys.argv[1], sys.argv[2], sys.argv[3]
users = {}
for arg in sys.argv[4:]:
    old, new, prof = arg.split("=")
    users[old] = (new, prof)
d = json.load(open(store))
profiles = {u["sid"]: u for u in d["users"]}
manifest = {}
for line in open(os.path.join(os.environ["WS_FIXTURES"], "manifest.tsv"), encoding="utf-8").read().splitlines()[1:]:
    row = line.split("\t")
    manifest[row[0]] = row
def where(f):
    new, prof = users[f["owner"]]
    u = profiles[f["owner"]]
    personal = u["extra"].get("folder:Personal", "")[3:].replace("\\", "/")
    path = f["path"]
    if personal and path.lower().startswith(personal.lower() + "/"):
        return prof + "/Documents" + path[len(personal):]
    assert path.lower().startswith(u["profile"].lower() + "/"), path
    return prof + path[len(u["profile"]):]
restored = set()
checked = links = compressed = 0
for f in d["files"]:
    if f["owner"] not in users:
        continue
    if f["attributes"] & 0x410 == 0x10:  # a plain folder kept for its EAs (scan_ea.sh compares them)
        b = os.path.join(tgt, where(f))
        assert os.path.isdir(b) and not os.path.islink(b), "folder not restored: " + where(f)
        assert not xattr(b, "system.ntfs_ea").startswith(b"missing"), "folder without its EAs: " + where(f)
        continue
    if f["attributes"] & 0x10:  # a junction or folder link (scan_junctions.sh checks targets)
        b = os.path.join(tgt, where(f))
        restored.add(where(f).lower())
        assert os.path.islink(b), "junction not restored: " + where(f)
        ra = xattr(os.path.join(src, f["path"]), "system.ntfs_reparse_data")
        if ra.startswith(b"missing") and f["path"] in manifest:  # below a cloud folder
            ra = int(manifest[f["path"]][7], 16).to_bytes(4, "little")
        assert ra[:4] == xattr(b, "system.ntfs_reparse_data")[:4], "reparse tag of " + f["path"]
        continue
    a, b = os.path.join(src, f["path"]), os.path.join(tgt, where(f))
    restored.add(where(f).lower())
    assert os.path.lexists(b), "missing: " + where(f)
    if f["link_to"] >= 0:
        other = os.path.join(tgt, where(d["files"][f["link_to"]]))
        assert os.lstat(b).st_ino == os.lstat(other).st_ino, "hard link split: " + f["path"]
        links += 1
    row = manifest.get(f["path"])
    cloud = row is not None and row[7] != "-" and int(row[7], 16) & 0xFFFF0FFF == 0x9000001A
    if cloud:
        # A hydrated OneDrive file comes back plain (restore.md): its data, no cloud
        # reparse data, no pinned bits.  The ntfs-3g driver cannot enter a cloud
        # folder on the source, so the manifest is the original there.
        assert xattr(b, "system.ntfs_reparse_data").startswith(b"missing"), "cloud reparse kept: " + f["path"]
        assert hashlib.sha256(open(b, "rb").read()).hexdigest() == row[8], "content: " + f["path"]
        want = int(row[3], 16) & ~(0x400 | 0x80000 | 0x100000)
        got = int.from_bytes(xattr(b, "system.ntfs_attrib")[:4], "little")
        assert got == want, "attributes of %s: 0x%x vs 0x%x" % (f["path"], got, want)
        if xattr(a, "system.ntfs_times").startswith(b"missing"):  # below a cloud folder
            checked += 1
            continue
    elif f["attributes"] & 0x400:
        assert xattr(a, "system.ntfs_reparse_data") == xattr(b, "system.ntfs_reparse_data"), "reparse: " + f["path"]
    else:
        assert open(a, "rb").read() == open(b, "rb").read(), "content: " + f["path"]
        sa = sorted(k for k in os.listxattr(a) if k.startswith("user."))
        sb = sorted(k for k in os.listxattr(b) if k.startswith("user."))
        assert sa == sb, "streams of %s: %s vs %s" % (f["path"], sa, sb)
        for k in sa:
            assert xattr(a, k) == xattr(b, k), "stream %s of %s" % (k, f["path"])
    if f["attributes"] & 0x800:  # LZNT1 again, not only the bit: fewer clusters than bytes
        compressed += 1
        assert os.stat(b).st_blocks * 512 < os.stat(b).st_size, "not compressed: " + f["path"]
    for n in ("system.ntfs_times",) if cloud else ("system.ntfs_attrib", "system.ntfs_times"):
        assert xattr(a, n) == xattr(b, n), "%s of %s: %s vs %s" % (n, f["path"], xattr(a, n).hex(), xattr(b, n).hex())
    want = sd_parts(xattr(a, "system.ntfs_acl"))
    for old, (new, _) in users.items():
        want = [v.replace(sid_bytes(old), sid_bytes(new)) if isinstance(v, bytes) and
                len(sid_bytes(old)) == len(sid_bytes(new)) else v for v in want]
    raw = xattr(b, "system.ntfs_acl")
    assert sd_parts(raw) == want, "descriptor of %s: %s vs %s" % (f["path"], sd_parts(raw), want)
    for old, (new, _) in users.items():
        assert old == new or sid_bytes(old) not in raw, "old SID left in " + f["path"]
    checked += 1
assert checked > 100 and links >= 1 and compressed >= 1, (checked, links, compressed)
for new, prof in users.values():
    for dpath, dirs, files in os.walk(os.path.join(tgt, prof)):
        for n in files + [n for n in dirs if os.path.islink(os.path.join(dpath, n))]:
            rel = os.path.relpath(os.path.join(dpath, n), tgt)
            assert rel.lower() in restored or n.lower() in ("ntuser.dat", "usrclass.dat"), "stranger: " + rel
        dirs[:] = [n for n in dirs if not os.path.islink(os.path.join(dpath, n))]
print(checked, "files checked")
' "$@"; }

# check_registry LIST SRC TGT OLDSID=SRC_PROFILE=TARGET_PROFILE=NEWSID...:
# every value the store holds for these users is in the target user's
# NTUSER.DAT (HKCU\Software\Classes: UsrClass.dat) with the same type and
# bytes; a UsrClass.dat the restore made has the root "<SID>_Classes".
check_registry() { python3 -c "$PYLIB"'
store, src, tgt = sys.argv[1], sys.argv[2], sys.argv[3]
uc = "AppData/Local/Microsoft/Windows/UsrClass.dat"
hives, n = {}, 0
def hive(root, prof, which):
    p = os.path.join(root, prof, "NTUSER.DAT" if which == "nt" else uc)
    if p not in hives:
        hives[p] = reg_export(p)
    return hives[p]
who = {a.split("=")[0]: a.split("=")[1:] for a in sys.argv[4:]}
for r in json.load(open(store))["registry"]:
    if r["owner"] not in who:
        continue
    sprof, tprof, sid = who[r["owner"]]
    key = r["key"].split("\\", 1)[1]
    if "shell folders" in key.lower():
        continue                    # the target keeps its own folders (docs/restore.md)
    which = "nt"
    if key.lower().startswith("software\\classes\\"):
        key, which = key[len("software\\classes\\"):], "uc"
    k = (key.lower(), r["name"].lower())
    want = hive(src, sprof, which).get(k)
    got = hive(tgt, tprof, which).get(k)
    assert want is not None and got == want, (tprof, which, k, want, got)
    n += 1
assert n > 20, n
for sprof, tprof, sid in who.values():
    xml = subprocess.run(["hivexml", os.path.join(tgt, tprof, uc)], capture_output=True).stdout.decode()
    assert ("name=\"%s_Classes\"" % sid) in xml, (tprof, "UsrClass.dat root", xml[:300])
print(n, "values checked")
' "$@"; }

# check_software BEFORE AFTER SID=PROFILE_PATH...: hivexregedit exports of
# SOFTWARE: only these ProfileList entries were added, nothing else changed.
check_software() { python3 -c "$PYLIB"'
def sections(p):
    out, key = {}, None
    for line in open(p, encoding="utf-8", errors="replace").read().replace("\\\n", "").splitlines():
        if line.startswith("["):
            key = line
            out[key] = []
        elif key and line:
            out[key].append(line)
    return out
a, b = sections(sys.argv[1]), sections(sys.argv[2])
pl = "[\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\"
want = dict(x.split("=", 1) for x in sys.argv[3:])
added = {k for k in b if k not in a}
assert added == {pl + s + "]" for s in want}, added
for k in a:
    assert k in b and sorted(a[k]) == sorted(b[k]), "changed: " + k
for s, path in want.items():
    enc = ",".join("%02x" % c for c in path.encode("utf-16-le") + b"\0\0")
    line = [l for l in b[pl + s + "]"] if l.startswith("\"ProfileImagePath\"")][0]
    assert line.endswith(enc), (line, path)
' "$@"; }

# profile_root TGT PROFILE SID OLDSID: the new profile folder and its hives
# belong to SID (owner, ACEs), and OLDSID appears nowhere in them.
check_profile_root() { python3 -c "$PYLIB"'
tgt, prof, sid, old = sys.argv[1:5]
sd = xattr(os.path.join(tgt, prof), "system.ntfs_acl")
parts = sd_parts(sd)
assert parts[1] == sid_bytes(sid), ("owner", sd.hex())
assert parts[0] & 0x1000, ("DACL not protected", hex(parts[0]))
for h in ("", "NTUSER.DAT", "AppData/Local/Microsoft/Windows/UsrClass.dat"):
    f = xattr(os.path.join(tgt, prof, h), "system.ntfs_acl")
    assert sid_bytes(sid) in sd_parts(f)[4] and (old == sid or sid_bytes(old) not in f), (prof, h, f.hex())
' "$@"; }
