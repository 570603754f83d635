#!/usr/bin/env bash
# make check-deps catches each kind of breach of the house's order, on a small
# house of two modules built here: an include of a module above, a call into
# a module above (read from the built library), a field library outside its
# module, and an include of something that is no module; the tree itself
# keeps the order.
. "$(dirname "$0")/common.bash"

check=$WS_TOP/tests/check-deps.sh
cd "$WORK" || fail "cd"
mkdir -p top low build/lib
cat >top/top.h <<'H'
int top_answer(void);
H
cat >top/top.c <<'C'
#include "low/low.h"
#include "top/top.h"
int top_answer(void) { return low_answer() + 1; }
C
cat >low/low.h <<'H'
int low_answer(void);
H
cat >low/low.c <<'C'
#include "low/low.h"
int low_answer(void) { return 41; }
C
build() {
	for m in top low; do
		cc -I. -c "$m/$m.c" -o "build/$m.o" || fail "cannot build the small house"
		rm -f "build/lib/libws_$m.a" && ar rcs "build/lib/libws_$m.a" "build/$m.o"
	done
}
build
run 0 bash "$check" build top low
contains "$OUT" "2 modules keep the order top low"

# The same house read with the order reversed: low/ is now above top/.
run 1 bash "$check" build low top
contains "$OUT" 'top/top.c:1 includes "low/low.h": low/ is above top/'
contains "$OUT" "top/ calls low_answer, defined in low/ above it"

# A call alone, through a declaration written in place (no include to see).
printf 'int low_answer(void);\nint top_answer(void) { return low_answer() + 1; }\n' >top/top.c
printf 'int top_answer(void);\nint low_answer(void) { return top_answer(); }\n' >low/low.c
build
run 1 bash "$check" build top low
contains "$OUT" "low/ calls top_answer, defined in top/ above it"

# A field library outside the module that owns it, and an include of no module.
printf '#include <ntfs-3g/volume.h>\n#include "tests/helper.h"\nint low_answer(void) { return 41; }\n' >low/low.c
run 1 bash "$check" build top low
contains "$OUT" "low/low.c:1 includes <ntfs-3g/volume.h>, which only ntfs/ may use"
contains "$OUT" 'low/low.c:2 includes "tests/helper.h", which is no module'"'"'s'

# The project keeps its own order.
cd "$WS_TOP" || fail "cd"
modules=$(sed -n 's/^MODULES  *:= //p' Makefile)
[ -n "$modules" ] || fail "the Makefile has no MODULES line"
run 0 bash "$check" "$WS_BUILD" $modules
contains "$OUT" "9 modules keep the order"
