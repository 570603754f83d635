/* Shared helpers of the rules unit tests. */
#ifndef WS_TEST_RULES_COMMON_H
#define WS_TEST_RULES_COMMON_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules/rules.h"

/* Folder with Microsoft's stock files: $WS_SHARED/usmt-xml or ../shared. */
static inline const char *
shared_xml(const char *name, char *buf, size_t len)
{
	const char *sh = getenv("WS_SHARED");
	snprintf(buf, len, "%s/usmt-xml/%s", sh && *sh ? sh : "../shared", name);
	return access(buf, R_OK) == 0 ? buf : NULL;
}

/* A host on which every file and folder and every registry key exists
 * (so detections succeed), with no registry values and no file bytes. */
static inline int
all_file_exists(void *o, const char *p, int *is_dir)
{
	(void)o;
	if (is_dir)
		*is_dir = strrchr(p, '.') == NULL;
	return 1;
}

static inline int
all_reg_exists(void *o, const char *k, const char *v)
{
	(void)o;
	(void)k;
	(void)v;
	return 1;
}

static inline int
is64(void *o)
{
	(void)o;
	return 1;
}

static const struct mig_rules_host all_exists_host = {
	.file_exists = all_file_exists,
	.reg_exists = all_reg_exists,
	.is_native_64bit = is64,
};

#endif
