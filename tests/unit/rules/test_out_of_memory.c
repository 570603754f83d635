/*
 * The rule compiler's one out-of-memory policy: it ends the program with the
 * spelling's exit code (winstate's 5, USMT's 71 under scanstate/loadstate),
 * never abort() or a crash.  An allocation no allocator can serve stands in
 * for exhausted memory.
 */
#include <stdint.h>

#include <criterion/criterion.h>

#include "rules/internal.h"

/* Under AddressSanitizer an impossible allocation returns NULL too, as the C
 * library's does, instead of being reported (this binary's default; the
 * environment's ASAN_OPTIONS name other flags). */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

Test(rules_out_of_memory, ends_with_winstates_code, .exit_code = 5)
{
	mig__xmalloc(SIZE_MAX / 2);
	cr_assert_fail("an allocation of SIZE_MAX / 2 bytes returned");
}

Test(rules_out_of_memory, ends_with_the_spellings_code, .exit_code = 71)
{
	mig_set_out_of_memory_exit(71);
	mig__xrealloc(NULL, SIZE_MAX / 2);
	cr_assert_fail("an allocation of SIZE_MAX / 2 bytes returned");
}
