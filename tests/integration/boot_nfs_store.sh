#!/usr/bin/env bash
# A store on an NFS server: winstate.store=nfs://10.0.2.2:PORT/migration/%COMPUTERNAME%
# with a user-space NFS server (nfs-ganesha, VFS backend) started here on
# 127.0.0.1 only, private to this test (its own config, export, recovery
# folder and log in the test's folder); QEMU's user networking shows this
# machine to the guest as 10.0.2.2.  The guest's kernel NFS client mounts
# the export (NFSv4.1, from busybox mount); the options are in USMT spelling,
# so scanstate runs (alice, whose 256 MiB sparse disk image dominates the
# fixture, is left out to keep the emulated capture short).  The store that arrives must be complete: it verifies,
# lists the users, and has the console log, the report and ScanState.log
# beside it.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/boot_common.bash"

command -v ganesha.nfsd >/dev/null ||
	skip "ganesha.nfsd is not installed (Debian packages nfs-ganesha nfs-ganesha-vfs)"
[ -e /usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so ] ||
	skip "nfs-ganesha's VFS backend is not installed (Debian package nfs-ganesha-vfs)"
win=$(fixture win.img)
source "$WS_FIXTURES/fixture.env"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
G=$WORK/nfs
mkdir -p "$G/export" "$G/recovery" || fail "mkdir"
cat >"$G/ganesha.conf" <<CONF
NFS_CORE_PARAM {
	Bind_addr = 127.0.0.1;
	NFS_Port = $port;
	Protocols = 4;
	Enable_NLM = false;
	Enable_RQUOTA = false;
	Enable_UDP = false;
}
NFS_KRB5 { Active_krb5 = false; }
NFSv4 {
	Graceless = true;
	RecoveryBackend = fs;
	RecoveryRoot = "$G/recovery";
}
EXPORT {
	Export_Id = 1;
	Path = "$G/export";
	Pseudo = /migration;
	Protocols = 4;
	Transports = TCP;
	Access_Type = RW;
	Squash = No_Root_Squash;
	SecType = sys;
	FSAL { Name = VFS; }
}
CONF
# (Graceless: no 90 s grace period before the first write)
setsid ganesha.nfsd -F -f "$G/ganesha.conf" -L "$G/ganesha.log" -p "$G/ganesha.pid" >"$G/stdout" 2>&1 &
ganesha_pid=$!
BOOT_PIDS+=("$ganesha_pid")
for ((i = 0; i < 50; i++)); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	kill -0 "$ganesha_pid" 2>/dev/null || break
	sleep 0.2
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null ||
	fail "nfs-ganesha did not start: $(tail -n 5 "$G/ganesha.log" "$G/stdout" 2>/dev/null)"

d=$(overlay "$win" win)
kernel_vm nfs "winstate.mode=scan winstate.store=nfs://10.0.2.2:$port/migration/%COMPUTERNAME% \"winstate.args=/efs:skip /ue:*\\alice\" winstate.after=poweroff" \
	$(virtio_disk w "$d") -nic user,model=virtio-net-pci
wait_vm nfs
ready=$(ready_time)
expect_result nfs scan 0
contains "$SERIAL" "Network: eth0 is 10.0.2.15/24"
contains "$SERIAL" "Store: nfs://10.0.2.2:$port/migration/$COMPUTER_NAME (mounted at /run/winstate/store/$COMPUTER_NAME)"
contains "$SERIAL" "Running: scanstate /run/winstate/store/$COMPUTER_NAME /offlinewindir:/dev/vda:3 /efs:skip /ue:*\\alice"
unchanged "$d"
store=$G/export/$COMPUTER_NAME
[ -d "$store" ] || fail "no store folder $store on the export: $(ls -la "$G/export")"
[ -f "$store.scan.log" ] && [ -f "$store.scan.report.txt" ] || fail "no log and report beside the store: $(ls "$G/export")"
contains "$(cat "$store.scan.report.txt")" "exit:     0 (done)"
[ -s "$store.scan.ScanState.log" ] || fail "scanstate's own log did not come beside the store: $(ls "$G/export")"
contains "$(cat "$store.scan.ScanState.log")" "computer $COMPUTER_NAME"
run 0 "$WS_BIN" verify "$store"
contains "$OUT" "0 damaged"
"$WS_BIN" list "$store" --json >"$WORK/list.json" || fail "winstate list of the store"
python3 - "$WORK/list.json" "$BOB_SID" "$CAROL_SID" "$DAVE_SID" "$ALICE_SID" <<'PY' || fail "the store's users and files"
import json, sys
d = json.load(open(sys.argv[1]))
owners = {f["owner"] for f in d["files"]}
for sid in sys.argv[2:5]:
    assert sid in owners, f"no files of {sid}"
assert sys.argv[5] not in owners, "alice was excluded (/ue) but her files are in the store"
assert len(d["files"]) > 150 and len(d["registry"]) > 100, (len(d["files"]), len(d["registry"]))
PY
echo "scan to an NFS store (nfs-ganesha on this machine): exit 0, the store verifies; ready after $ready s"
