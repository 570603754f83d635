#!/usr/bin/env bash
# make check-deps: the house's one rule, checked from the code itself.
#
#   tests/check-deps.sh BUILD MODULE...    (modules from the top floor down,
#                                           as the Makefile's MODULES line lists them)
#
# A module may include and call only the modules below it (to its right in
# MODULES), and each field library belongs to one module.  Includes are read
# from the sources; calls from the built libraries (`nm`), so a call through a
# forward declaration is caught too.  Exit 1 with one line per breach.
set -euo pipefail
build=$1; shift
modules=("$@")
declare -A floor
for i in "${!modules[@]}"; do floor[${modules[$i]}]=$i; done

# Which module alone may include each field library's headers.
declare -A owner=([ntfs-3g]=ntfs [blkid]=ntfs [libxml]=rules [hivex.h]=registry
	[zstd.h]=store [sodium.h]=store)

breaches=0
breach() { echo "check-deps: $*"; breaches=$((breaches + 1)); }

for m in "${modules[@]}"; do
	for f in "$m"/*.[ch]; do
		[ -e "$f" ] || continue
		while IFS=: read -r line inc; do
			dep=${inc%%/*}
			if [ -z "${floor[$dep]+x}" ]; then
				breach "$f:$line includes \"$inc\", which is no module's"
			elif [ "${floor[$dep]}" -lt "${floor[$m]}" ]; then
				breach "$f:$line includes \"$inc\": $dep/ is above $m/"
			fi
		done < <(grep -n '^#include "' "$f" | sed -E 's/^([0-9]+):#include "([^"]+)".*/\1:\2/')
		while IFS=: read -r line lib; do
			for key in "${!owner[@]}"; do
				if [[ $lib == "$key"* ]] && [ "${owner[$key]}" != "$m" ]; then
					breach "$f:$line includes <$lib>, which only ${owner[$key]}/ may use"
				fi
			done
		done < <(grep -n '^#include <' "$f" | sed -E 's/^([0-9]+):#include <([^>]+)>.*/\1:\2/')
	done
done

# Calls: every symbol a module's library needs from another module must be
# defined below it.
declare -A definer
for m in "${modules[@]}"; do
	lib=$build/lib/libws_$m.a
	[ -f "$lib" ] || { breach "$lib is not built (run make first)"; continue; }
	while read -r sym; do [ -n "$sym" ] && definer[$sym]=$m; done < <(nm --defined-only -g "$lib" 2>/dev/null |
		awk 'NF == 3 && $2 ~ /[TDBRC]/ { print $3 }')
done
for m in "${modules[@]}"; do
	lib=$build/lib/libws_$m.a
	[ -f "$lib" ] || continue
	while read -r sym; do
		[ -n "$sym" ] || continue
		d=${definer[$sym]:-}
		if [ -n "$d" ] && [ "${floor[$d]}" -lt "${floor[$m]}" ]; then
			breach "$m/ calls $sym, defined in $d/ above it"
		fi
	done < <(nm -u "$lib" 2>/dev/null | awk '{ print $NF }' | sort -u)
done

if [ "$breaches" -gt 0 ]; then
	echo "check-deps: $breaches breach(es) of the order ${modules[*]}"
	exit 1
fi
echo "check-deps: ${#modules[@]} modules keep the order ${modules[*]}"
