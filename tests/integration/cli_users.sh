#!/usr/bin/env bash
# `winstate users` on the sample Windows disk agrees with what the fixture
# builder put in ProfileList, SAM and the profile folders (fixture.env), and
# reports the awkward cases instead of dropping them.
. "$(dirname "$0")/common.bash"

disk=$(fixture win.img)
. "$(fixture fixture.env)"

run 0 "$WS_BIN" users "$disk" --json
echo "$OUT" >"$WORK/users.json"
python3 - "$WORK/users.json" "$(fixture fixture.env)" <<'PY' || fail "users --json disagrees with the fixture"
import json, shlex, sys
d = json.load(open(sys.argv[1]))
env = {}
for line in open(sys.argv[2], encoding="utf-8"):
    if "=" in line and not line.startswith("#"):
        k, v = line.rstrip("\n").split("=", 1)
        env[k] = shlex.split(v)[0] if v else ""
w = d["windows"]
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
# The registry says "Windows 10 Pro" on build 22631; that is Windows 11.
want = env["WIN_PRODUCT_NAME"]
if int(env["WIN_BUILD"]) >= 22000:
    want = want.replace("Windows 10", "Windows 11", 1)
check(w["product_name"] == want, "product name %r, expected %r" % (w["product_name"], want))
check(w["machine_sid_source"].startswith("SECURITY"), "machine SID source %r" % w["machine_sid_source"])
check(w["current_build"] == env["WIN_BUILD"], "build")
check(w["display_version"] == env["WIN_DISPLAY_VERSION"], "display version")
check(w["computer_name"] == env["COMPUTER_NAME"], "computer name %r" % w["computer_name"])
check(w["machine_sid"] == env["MACHINE_SID"], "machine SID")
users = d["users"]
by_sid = {}
for u in users:
    if u["sid"]:
        by_sid.setdefault(u["sid"], []).append(u)
kinds = {"local": "local", "domain": "domain", "entra": "Entra ID", "local-deleted": "local"}
for key in env["USER_KEYS"].split():
    sid = env[key + "_SID"]
    rows = [u for u in by_sid.get(sid, []) if not u["bak"]] or by_sid.get(sid, [])
    check(rows, "%s (%s) is listed" % (key, sid))
    if not rows:
        continue
    u = rows[0]
    if key == env["TEMP_PROFILE_USER"]:
        check(u["type"] == "temporary" and u["temporary"], "%s is a temporary profile" % key)
        check(u["name"] == env[key + "_NAME"], "the TEMP profile is named after its account")
        check(any(x["bak"] for x in by_sid[sid]), "the .bak entry of %s is listed" % key)
        continue
    check(u["name"] == env[key + "_NAME"], "%s name %r" % (key, u["name"]))
    check(u["type"] == kinds[env[key + "_KIND"]], "%s type %r" % (key, u["type"]))
    check(u["name_source"] != "", "%s says where its name came from" % key)
    if key == env["MISSING_FOLDER_USER"]:
        check(not u["folder_exists"], "missing has no folder")
    else:
        check(u["folder_exists"] and u["size"] > 0 and u["files"] > 0, "%s folder and size" % key)
        check(u["hive_state"] in ("clean", "replayed", "dirty-not-replayed"), "%s hive %r" % (key, u["hive_state"]))
for name in env["SAM_DISABLED_USERS"].split():
    for u in users:
        if u["name"] == name and u["type"] == "local":
            check(u["disabled"], "%s is disabled" % name)
check(by_sid[env["ALICE_SID"]][0]["name_source"].startswith("SAM"), "alice's name comes from SAM")
check("Volatile Environment" in by_sid[env["CAROL_SID"]][0]["name_source"], "carol's name from her hive")
check(by_sid[env["ALICE_SID"]][0]["display_name"] == env["ALICE_FULLNAME"], "alice's full name is her display name")
# A local account SAM does not list is still local (the machine SID says so).
check(by_sid[env["MISSING_SID"]][0]["type"] == "local", "missing is a local account")
for u in users:
    # A display name (free text, Office's user name) is never the account name.
    if u["display_name"] and u["name_source"] and not u["name_source"].startswith("SAM"):
        check(u["name"] != u["display_name"] or "IdentityStore" in u["name_source"], "%s: name is the display name" % u["name"])
    if u["sid"] and u["sid"].startswith(env["MACHINE_SID"] + "-"):
        check(u["type"] in ("local", "temporary"), "%s (machine SID) typed %r" % (u["name"], u["type"]))
orphan = [u for u in users if u["volume_path"] == env["ORPHAN_PROFILE"]]
check(orphan and not orphan[0]["in_profile_list"], "the orphan folder is reported")
check(any(u["type"] == "default" for u in users), "the Default profile is listed")
check(by_sid[env["OLDUSER_SID"]][0]["last_use"] < by_sid[env["ALICE_SID"]][0]["last_use"], "last use")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY

run 0 "$WS_BIN" users "$disk" --no-sizes
contains "$OUT" "$ALICE_SID"
contains "$OUT" "Windows: Windows 11 Pro 23H2 (build 22631)"
lacks "$OUT" "Windows 10"
contains "$OUT" "Machine SID: $MACHINE_SID (from SECURITY Policy\PolAcDmS)"
contains "$OUT" "display name \"Alice Anderson\" (SAM full name, not an account name)"
contains "$OUT" "no ProfileList entry"
contains "$OUT" "ProfileList entry but no folder"

# Not a Windows volume, or not a usable one: a sentence and code 3.
truncate -s 16M "$WORK/empty.img"
mkntfs -q -F -f "$WORK/empty.img" >/dev/null 2>&1 || fail "mkntfs"
run 3 "$WS_BIN" users "$WORK/empty.img"
contains "$ERR" "no Windows installation"
run 3 "$WS_BIN" users "$(fixture bitlocker.img)"
contains "$ERR" "BitLocker"
run 3 "$WS_BIN" users "$disk" --windir Nowhere
contains "$ERR" "Nowhere"
run 2 "$WS_BIN" users
exit 0
