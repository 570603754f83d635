#!/usr/bin/env bash
# The boot image's store and option spellings, without booting: the init's
# own functions (cut out of initramfs/init) run under busybox sh, the shell
# the image runs them with.  C:\Folder names a hard-link store on the Windows
# volume (passed on as the volume-relative folder); other drive letters, the
# volume's root and .. are refused; the first word of winstate.args picks the
# spelling (scanstate/loadstate or winstate) and /hardlink or --hardlink
# asks for a hard-link store; a hard-link capture of a dirty or hibernated
# Windows is refused, a copying capture is not.
source "$(dirname "$0")/common.bash"

command -v busybox >/dev/null || skip "busybox is not installed (Debian package busybox-static)"
init=$WS_TOP/initramfs/init
{
	echo 'say() { printf "%s\n" "$*"; }'
	sed -n '/^volume_store() {/,/^}/p; /^args_words() {/,/^}/p; /^read_args() {/,/^}/p;
		/^agent_argv() {/,/^}/p; /^check_windows_state() {/,/^}/p' "$init"
} >"$WORK/fns.sh"
[ "$(grep -c "^}" "$WORK/fns.sh")" = 5 ] || fail "initramfs/init no longer has the functions this test cuts out: $(grep '() {' "$WORK/fns.sh")"

# bb <<'SH': run the script after the init's functions, under busybox sh.
bb() { cat "$WORK/fns.sh" - >"$WORK/t.sh"; busybox sh "$WORK/t.sh" 2>&1; }

out=$(bb <<'SH'
WIN=/dev/vda:3
for s in 'C:\MigStore' 'c:/Stores/PC 1/' 'C:\\Stores\\WS-PC01' 'D:\MigStore' 'C:\' 'C:\a\..\b'; do
	volume_store "$s" >/dev/null; echo "[$s] [$STORE_DIR] $STORE_PROBLEM"
done
SH
)
contains "$out" "[C:\\MigStore] [MigStore] "
contains "$out" "[c:/Stores/PC 1/] [Stores/PC 1] "
contains "$out" "[C:\\\\Stores\\\\WS-PC01] [Stores/WS-PC01] "
contains "$out" "[D:\\MigStore] [] winstate.store=D:\\MigStore names drive D:, which this image cannot tell apart: a hard-link store goes on the Windows volume as C:\\MigStore"
contains "$out" "[C:\\] [] winstate.store=C:\\ is the root of the Windows volume"
contains "$out" "[C:\\a\\..\\b] [] winstate.store=C:\\a\\..\\b may not contain . or .. folders."

out=$(bb <<'SH'
WIN=/dev/sda:3
cfg_args='/hardlink /nocompress "/mu:WS-PC01\bob:S-1-5-21-9" /ue:*'; read_args; echo "$SPELLING hardlink=$HARDLINK"
agent_argv scan MigStore | tr '\n' '|'; echo; agent_argv load MigStore | tr '\n' '|'; echo
cfg_args='--efs skip --rules "/x/My Rules.xml" --HardLink'; read_args; echo "$SPELLING hardlink=$HARDLINK"
agent_argv scan /run/s | tr '\n' '|'; echo
cfg_args=; read_args; echo "$SPELLING hardlink=$HARDLINK"; agent_argv load /run/s | tr '\n' '|'; echo
cfg_args='/nocompress /v:13'; read_args; echo "$SPELLING hardlink=$HARDLINK"
SH
)
contains "$out" "usmt hardlink=1"
contains "$out" "scanstate|MigStore|/offlinewindir:/dev/sda:3|/hardlink|/nocompress|/mu:WS-PC01\\bob:S-1-5-21-9|/ue:*|"
contains "$out" "loadstate|MigStore|/target:/dev/sda:3|/hardlink|"
contains "$out" "native hardlink=1"
contains "$out" "winstate|scan|/dev/sda:3|/run/s|--efs|skip|--rules|/x/My Rules.xml|--HardLink|"
contains "$out" "native hardlink="$'\n'"winstate|load|/run/s|/dev/sda:3|"
contains "$out" "usmt hardlink="$'\n'

out=$(bb <<'SH'
WIN=/dev/vda:3 cfg_hibernated=readonly
for st in dirty hibernated; do for hl in "" 1; do for mode in scan load users; do
	WIN_STATE=$st HARDLINK=$hl WIN_PROBLEM=
	check_windows_state $mode >/dev/null; echo "$st/${hl:-copy}/$mode: ${WIN_PROBLEM:-ok}"
done; done; done
SH
)
contains "$out" "dirty/copy/scan: ok"
contains "$out" "dirty/1/scan: Windows on /dev/vda:3 was not shut down cleanly (the volume is marked dirty), and a hard-link store is written on that volume."
contains "$out" "dirty/copy/load: Windows on /dev/vda:3 was not shut down cleanly (the volume is marked dirty). Start Windows once"
contains "$out" "hibernated/copy/scan: ok"
contains "$out" "hibernated/1/scan: Windows on /dev/vda:3 is hibernated"
contains "$out" "hibernated/copy/load: Windows on /dev/vda:3 is hibernated"
contains "$out" "dirty/1/users: ok"
contains "$out" "hibernated/1/users: ok"
echo "store and option spellings of the boot image: as documented"
