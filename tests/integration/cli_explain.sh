#!/usr/bin/env bash
# `winstate explain DISK ...` takes a user's folders from their own hive: bob's
# Documents live in OneDrive on the sample disk, so that is where the default
# rules look for them.  Without the disk, the documented defaults apply.
. "$(dirname "$0")/common.bash"

disk=$(fixture win.img)
. "$(fixture fixture.env)"

run 0 "$WS_BIN" explain --user bob "$disk" 'C:\Users\bob\OneDrive\Documents\plan.docx' 'C:\Users\bob\Documents\plan.docx'
first=$(sed -n '1,/^C:\\Users\\bob\\Documents/p' <<<"$OUT")
second=$(sed -n '/^C:\\Users\\bob\\Documents/,$p' <<<"$OUT")
contains "$first" "user context (bob): INCLUDED"
contains "$first" 'OneDrive\Documents\* [*]'
contains "$second" "user context (bob): NOT_SELECTED"

# Without the disk the default Documents folder is assumed.
run 0 "$WS_BIN" explain --user bob 'C:\Users\bob\Documents\plan.docx'
contains "$OUT" "user context (bob): INCLUDED"

# A SID works as well as a name; an unknown user is refused with a sentence.
run 0 "$WS_BIN" explain --user "$ALICE_SID" "$disk" 'C:\Users\alice\Desktop\notes.txt'
contains "$OUT" "user context (alice): INCLUDED"
run 3 "$WS_BIN" explain --user nobody "$disk" 'C:\x.txt'
contains "$ERR" 'no profile for "nobody"'
run 3 "$WS_BIN" explain --user alice "$(fixture bitlocker.img)" 'C:\x.txt'
contains "$ERR" "BitLocker"
exit 0
