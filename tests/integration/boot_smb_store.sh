#!/usr/bin/env bash
# Unattended run from an edited stick: winstate.cfg on the WINSTATE stick asks
# for a scan into smb://10.0.2.2:PORT/migration/%COMPUTERNAME%/%DATE% with the
# stick's credentials file; the kernel command line overrides after=.  A samba
# server started here (QEMU user networking: 10.0.2.2 is this machine) must
# end up with the store folder, the log and the report beside it, and the
# result line must carry the agent's exit code.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/boot_common.bash"

command -v smbd >/dev/null || skip "smbd is not installed (Debian package samba)"
command -v mcopy >/dev/null || skip "mcopy is not installed (Debian package mtools)"
[ -f "$IMAGE/winstate-usb.img" ] || skip "no $IMAGE/winstate-usb.img (make image)"
win=$(fixture win.img)

# samba, private to this test, as root on a free port, one user
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/smb"/{share,private,lock,state,cache,pid} || fail "mkdir"
cat >"$WORK/smb/smb.conf" <<CONF
[global]
	smb ports = $port
	interfaces = 127.0.0.1
	bind interfaces only = yes
	private dir = $WORK/smb/private
	lock directory = $WORK/smb/lock
	state directory = $WORK/smb/state
	cache directory = $WORK/smb/cache
	pid directory = $WORK/smb/pid
	passdb backend = tdbsam:$WORK/smb/private/passdb.tdb
	log file = $WORK/smb/log
	server min protocol = SMB3
	disable spoolss = yes
	load printers = no
[migration]
	path = $WORK/smb/share
	read only = no
	valid users = root
CONF
printf 's3cretpw\ns3cretpw\n' | smbpasswd -c "$WORK/smb/smb.conf" -s -a root >/dev/null ||
	fail "smbpasswd could not add the test user"
setsid smbd -F --no-process-group -s "$WORK/smb/smb.conf" >"$WORK/smb/stdout" 2>&1 &
smbd_pid=$!
BOOT_PIDS+=("$smbd_pid")
for ((i = 0; i < 50; i++)); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.2
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || fail "smbd did not start: $(tail -n 5 "$WORK/smb/log" "$WORK/smb/stdout")"

# the stick, edited the way an administrator would (any PC can write FAT32)
cp --sparse=always "$IMAGE/winstate-usb.img" "$WORK/stick.img"
cat >"$WORK/winstate.cfg" <<CFG
# edited for the test
mode=scan
store=smb://10.0.2.2:$port/migration/%COMPUTERNAME%/%DATE%
credentials=creds.txt
args=--efs skip --ue *\alice
after=shell
CFG
printf 'username=root\r\npassword=s3cretpw\r\n' >"$WORK/creds.txt"
mcopy -o -i "$WORK/stick.img@@1M" "$WORK/winstate.cfg" "$WORK/creds.txt" ::/ || fail "mcopy"
stick_before=$(sha256sum <"$WORK/stick.img")

d=$(overlay "$win" win)
kernel_vm smb "winstate.after=poweroff" $(virtio_disk w "$d") $(usb_disk stick "$WORK/stick.img" raw) \
	-nic user,model=e1000
wait_vm smb
today=$(date -u +%Y-%m-%d)
store=$WORK/smb/share/WS-PC01/$today
contains "$SERIAL" "Settings: /dev/sda1/winstate.cfg"
contains "$SERIAL" "Store: smb://10.0.2.2:$port/migration/WS-PC01/$today (mounted at /run/winstate/store/WS-PC01/$today)"
contains "$SERIAL" "Running: winstate scan /dev/vda:3 /run/winstate/store/WS-PC01/$today"
[ -d "$store" ] || fail "the store folder $store was not created on the share"
[ -f "$store.scan.log" ] || fail "no log beside the store ($store.scan.log): $(ls -R "$WORK/smb/share")"
[ -f "$store.scan.report.txt" ] || fail "no report beside the store"
report=$(cat "$store.scan.report.txt")
contains "$report" "mode:     scan"
contains "$report" "windows:  /dev/vda:3 (clean)"
code=$(sed -n 's/^exit: *\([0-9]*\).*/\1/p' <<<"$report")
[ "$code" = 0 ] || fail "the scan did not complete (exit ${code:-none}): $report"
expect_result smb scan 0
# The store that arrived on the share is complete (alice is left out: her
# sparse disk image would triple the emulated capture time).
run 0 "$WS_BIN" verify "$store"
contains "$OUT" "0 damaged"
contains "$SERIAL" "Powering off."
unchanged "$d"
[ "$(sha256sum <"$WORK/stick.img")" = "$stick_before" ] || fail "the boot stick was written"
echo "scan via smb: exit 0, the store on the share verifies"
