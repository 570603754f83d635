/*
 * libFuzzer target: replaying a fuzzed new- or old-format .LOG1 into a fixed
 * dirty hive (hive_fixture.h), then reading the result through hivex as
 * winstate would.  Checks what the replay promises: the report's state
 * agrees with what was applied, and a replayed copy is a hive that opens.
 */
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/hive_fixture.h"
#include "tests/fuzz/hive_walk.h"

static char hive_path[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static uint8_t before[8192];
	(void)argc;
	(void)argv;
	snprintf(hive_path, sizeof(hive_path), "%s", fz_path("NTUSER.DAT"));
	fz_hive_before(before, FZ_HIVE_SEQ1, FZ_HIVE_SEQ2);
	fz_write_file(hive_path, before, sizeof(before));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reg_replay_report rep;
	const char *log = fz_path("NTUSER.DAT.LOG1");
	const char *out = fz_path("replayed");

	fz_write_file(log, data, size);
	unlink(out);
	int rc = reg_hive_replay_logs(hive_path, log, NULL, out, &rep);
	if (rc == 0 && rep.state == REG_HIVE_REPLAYED) {
		if (!rep.entries_applied)
			abort(); /* "replayed" with nothing applied */
		int err;
		char msg[320];
		reg_hive *h = reg_hive_open(out, REG_HIVE_OPEN_NO_REPLAY, &err, msg, sizeof(msg));
		if (h) {
			fz_walk_hive(h);
			reg_hive_close(h);
		}
	} else if (rc == 0 && rep.state == REG_HIVE_CLEAN) {
		abort(); /* the fixed hive is dirty whatever the log says */
	}
	return 0;
}
