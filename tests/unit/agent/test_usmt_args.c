/*
 * USMT's command-line syntax and its documented refusals: administrators'
 * existing scripts must parse exactly as ScanState/LoadState/UsmtUtils would.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "agent/usmt_args.h"

static int
parse(enum usmt_tool tool, const char *line, struct usmt_args *a, char *err, size_t errlen)
{
	char *copy = strdup(line), *argv[32], *save = NULL;
	int argc = 0;
	for (char *t = strtok_r(copy, " ", &save); t && argc < 32; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	int code = usmt_parse(tool, argc, argv, a, err, errlen);
	free(copy);
	return code;
}

struct case_ {
	enum usmt_tool tool;
	const char *line;
	int code;
	const char *words;  /* in the error sentence */
};

static struct case_ cases[] = {
	/* accepted */
	{ USMT_SCANSTATE, "D:\\Store /i:MigDocs.xml /i:MigApp.xml /o /c /v:13 /l:scan.log", 0, "" },
	{ USMT_SCANSTATE, "C:\\MigStore /hardlink /nocompress /efs:hardlink /offlinewindir:C:\\Windows", 0, "" },
	{ USMT_SCANSTATE, "S /encrypt:AES_256 /key:secret123", 0, "" },
	{ USMT_SCANSTATE, "S /ui:S-1-5-21-* /ue:*\\* /uel:30", 0, "" },
	{ USMT_SCANSTATE, "S /uel:2024/01/31 /p:estimate.xml", 0, "" },
	{ USMT_SCANSTATE, "/genconfig:config.xml /i:MigApp.xml /v:5 /l:g.log /o", 0, "" },
	{ USMT_SCANSTATE, "S /I:MigUser.xml /V:4 /ALL", 0, "" },
	{ USMT_SCANSTATE, "S /l scan.log /i MigDocs.xml", 0, "" },
	{ USMT_LOADSTATE, "S /i:MigDocs.xml /decrypt /keyfile:k.txt /lac:Pa55 /lae /md:OLD:NEW /mu:OLD\\bob:NEW\\robert", 0, "" },
	{ USMT_UTILS, "/verify:failureonly D:\\S\\USMT\\USMT.MIG /decrypt:AES_192 /keyfile:k.txt", 0, "" },
	{ USMT_UTILS, "/extract D:\\S\\USMT\\USMT.MIG C:\\Out /i:*.txt,*.pdf /o", 0, "" },
	{ USMT_UTILS, "/rd D:\\MigStore /y", 0, "" },
	{ USMT_LOADSTATE, "S /target:win.img:3 /c /v:5", 0, "" },
	{ USMT_LOADSTATE, "MigStore /hardlink /nocompress /target /dev/sda:3", 0, "" },
	{ USMT_UTILS, "/rd MigStore /target:win.img:3 /y", 0, "" },
	{ USMT_SCANSTATE, "/?", 1, "" },
	/* refused, as USMT documents */
	{ USMT_SCANSTATE, "/i:MigDocs.xml", 11, "StorePath" },
	{ USMT_SCANSTATE, "S /all /ui:bob", 11, "/all" },
	{ USMT_SCANSTATE, "S /encrypt", 11, "needs the key" },
	{ USMT_SCANSTATE, "S /encrypt /key:a /keyfile:b", 11, "together" },
	{ USMT_SCANSTATE, "S /encrypt /key:abc /nocompress", 11, "cannot be encrypted" },
	{ USMT_SCANSTATE, "S /hardlink", 11, "needs /nocompress" },
	{ USMT_SCANSTATE, "S /listfiles:f.txt /p", 11, "/listfiles" },
	{ USMT_SCANSTATE, "S /efs:hardlink", 11, "hard-link store" },
	{ USMT_SCANSTATE, "S /efs:sometimes", 11, "expected abort" },
	{ USMT_SCANSTATE, "S /efs:decryptcopy", 11, "copyraw" },
	{ USMT_SCANSTATE, "S /v:3", 11, "sum of 1" },
	{ USMT_SCANSTATE, "S /r:many", 11, "whole number" },
	{ USMT_SCANSTATE, "S /o /o", 11, "twice" },
	{ USMT_SCANSTATE, "S T", 11, "second" },
	{ USMT_SCANSTATE, "S /lac", 11, "not a ScanState option" },
	{ USMT_SCANSTATE, "S /frobnicate", 11, "not an option" },
	{ USMT_SCANSTATE, "S /uel:yesterday", 11, "days" },
	{ USMT_SCANSTATE, "S /offlinewindir:C:\\W /offlinewinold:C:\\Windows.old", 11, "only one" },
	{ USMT_SCANSTATE, "/genconfig:c.xml S", 11, "only /i" },
	{ USMT_SCANSTATE, "S /key:abc", 11, "only go with" },
	{ USMT_SCANSTATE, "S /i:", 11, "empty" },
	{ USMT_SCANSTATE, "S /c:yes", 11, "takes no value" },
	{ USMT_SCANSTATE, "S /l", 11, "needs a value" },
	{ USMT_LOADSTATE, "S /lae", 11, "needs /lac" },
	{ USMT_LOADSTATE, "S /md:NOCOLON", 11, "OldDomain:NewDomain" },
	{ USMT_LOADSTATE, "S /mu:a:b:c", 11, "OldUser" },
	{ USMT_LOADSTATE, "S /offlinewindir:C:\\Windows", 36, "LoadState" },
	{ USMT_LOADSTATE, "S /offline:offline.xml", 36, "/target" },
	{ USMT_LOADSTATE, "S /target:a.img /target:b.img", 11, "twice" },
	{ USMT_LOADSTATE, "S /target:", 11, "empty" },
	{ USMT_SCANSTATE, "S /target:win.img", 11, "not a ScanState option" },
	{ USMT_UTILS, "D:\\x.mig", 11, "/verify" },
	{ USMT_UTILS, "/extract D:\\x.mig", 11, "destination" },
	{ USMT_UTILS, "/verify:everything x.mig", 11, "summary" },
};

/* One test over the table, so every row is checked and named in a failure. */
Test(usmt_args, documented_cases)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct case_ *c = &cases[i];
		struct usmt_args a;
		char err[512];
		int code = parse(c->tool, c->line, &a, err, sizeof(err));
		cr_expect_eq(code, c->code, "\"%s\": got %d (%s), want %d", c->line, code, err,
			     c->code);
		if (c->words[0])
			cr_expect(strstr(err, c->words), "\"%s\": message \"%s\" lacks \"%s\"", c->line,
				  err, c->words);
		usmt_args_free(&a);
	}
}

Test(usmt_args, values_land_where_they_belong)
{
	struct usmt_args a;
	char err[512];
	cr_assert_eq(parse(USMT_SCANSTATE, "D:\\Store /i:MigDocs.xml /i:MigApp.xml /v:5 /ui:S-1-5-21-1* "
			   "/ui:CONTOSO\\carol /efs:CopyRaw /c /hardlink /nocompress", &a, err,
			   sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(a.store, "D:\\Store");
	cr_assert_eq(a.includes.count, 2);
	cr_assert_str_eq(a.includes.items[1], "MigApp.xml");
	cr_assert_eq(a.verbosity, 5);
	cr_assert_eq(a.ui.count, 2);
	cr_assert_str_eq(a.ui.items[1], "CONTOSO\\carol");
	cr_assert_str_eq(a.efs, "copyraw");
	cr_assert(a.keep_going && a.hardlink && a.nocompress);
	usmt_args_free(&a);

	cr_assert_eq(parse(USMT_LOADSTATE, "S /mu:OLD\\bob:NEW\\robert /mu:alice:CONTOSO\\alice2 /lac", &a,
			   err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(a.mu_count, 2);
	cr_assert_str_eq(a.mu[0].from, "OLD\\bob");
	cr_assert_str_eq(a.mu[0].to, "NEW\\robert");
	cr_assert(a.lac);
	cr_assert_null(a.lac_password);
	usmt_args_free(&a);

	/* winstate's /target keeps the partition suffix for nv_split_target. */
	cr_assert_eq(parse(USMT_LOADSTATE, "S /TARGET:disk.img:3", &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(a.target, "disk.img:3");
	usmt_args_free(&a);
}

Test(usmt_args, arguments_over_256_characters)
{
	struct usmt_args a;
	char err[512], longpath[400];
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	char *argv[] = { longpath };
	cr_assert_eq(usmt_parse(USMT_SCANSTATE, 1, argv, &a, err, sizeof(err)), 12);
	cr_assert(strstr(err, "256"));
	usmt_args_free(&a);
}
