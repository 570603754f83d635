/*
 * Helper-function calls of MigXML ("MigXmlHelper.Name('a', "b", NULL)") and
 * the table of every helper we know, with argument counts and the places
 * where each may appear.
 *
 * Helpers used by the stock files (grep -ohE 'Mig(Xml|Sys)Helper\.[A-Za-z]+'
 * on MigApp.xml, MigUser.xml and MigDocs.xml):
 *   MigXmlHelper: SourcePriority, DoesObjectExist, GenerateDrivePatterns,
 *     DoesFileVersionMatch, GetStringContent, ExtractSingleFile, RelativeMove,
 *     DestinationPriority, IgnoreIrrelevantLinks, IsOSLaterThan,
 *     IsNative64Bit, GenerateDocPatterns, MergeShellLibraries,
 *     ExtractDirectory, Move, IsSameObject
 *   MigSysHelper: ConvertToOfficeLangID, UpdateMvBinaryMapiStruct,
 *     SetPstPathInMapiStruct, ExtractSingleFileUnicodeBin,
 *     ExtractSingleFileAnsiBin
 * plus every helper of the USMT "XML elements library" documentation.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

#define X "MigXmlHelper"
#define S "MigSysHelper"
#define ANY UINT_MAX

static const struct mig_helper helpers[] = {
	/* conditions */
	{ X, "DoesOSMatch", 2, 2, H_COND, true },
	{ X, "IsNative64Bit", 0, 0, H_COND, true },
	{ X, "IsOSLaterThan", 2, 2, H_COND, true },
	{ X, "IsOSEarlierThan", 2, 2, H_COND, true },
	{ X, "DoesObjectExist", 2, 2, H_COND, true },
	{ X, "DoesFileVersionMatch", 3, 3, H_COND, true },
	{ X, "IsFileVersionAbove", 3, 3, H_COND, true },
	{ X, "IsFileVersionBelow", 3, 3, H_COND, true },
	{ X, "IsSystemContext", 0, 0, H_COND, true },
	{ X, "DoesStringContentEqual", 3, 3, H_COND, true },
	{ X, "DoesStringContentContain", 3, 3, H_COND, true },
	{ X, "IsSameObject", 3, 3, H_COND, true },
	{ X, "IsSameContent", 4, 4, H_COND, true },
	{ X, "IsSameStringContent", 4, 4, H_COND, true },
	/* string / pattern generators */
	/* 5 arguments are seen in the stock MigApp.xml (QuickTime); the last two
	 * are undocumented and ignored (a note is emitted) */
	{ X, "GetStringContent", 2, 5, H_STR | H_GEN, true },
	{ X, "GenerateDrivePatterns", 2, 2, H_GEN, true },
	{ X, "GenerateUserPatterns", 2, 3, H_GEN, true },
	{ X, "GenerateDocPatterns", 0, 3, H_GEN, true },
	/* content filters */
	{ X, "ExtractSingleFile", 0, 2, H_CONTENT, true },
	{ X, "ExtractMultipleFiles", 0, 2, H_CONTENT, true },
	{ X, "ExtractDirectory", 0, 3, H_CONTENT, true },
	{ S, "ExtractSingleFileAnsiBin", 0, 2, H_CONTENT, true },
	{ S, "ExtractSingleFileUnicodeBin", 0, 2, H_CONTENT, true },
	/* include / exclude / destinationCleanup filters (evaluated at restore) */
	{ X, "IgnoreIrrelevantLinks", 0, 0, H_FILTER | H_CLEANUP, false },
	{ X, "AnswerNo", 0, 0, H_FILTER | H_CLEANUP, false },
	{ X, "NeverRestore", 0, 0, H_FILTER, false },
	{ X, "CompareStringContent", 2, 2, H_FILTER | H_CLEANUP, false },
	{ X, "SameRegContent", 0, ANY, H_FILTER | H_CLEANUP, false },
	{ X, "FileProperties", 3, 3, H_FILTER | H_CLEANUP, false },
	/* locationModify */
	{ X, "RelativeMove", 2, 2, H_LOCMOD, false },
	{ X, "Move", 1, 1, H_LOCMOD, false },
	{ X, "ExactMove", 1, 1, H_LOCMOD, false },
	/* merge */
	{ X, "SourcePriority", 0, 0, H_MERGE, false },
	{ X, "DestinationPriority", 0, 0, H_MERGE, false },
	{ X, "FindFilePlaceByPattern", 1, 1, H_MERGE, false },
	{ X, "NewestVersion", 1, 1, H_MERGE, false },
	{ X, "HigherValue", 0, 0, H_MERGE, false },
	{ X, "LowerValue", 0, 0, H_MERGE, false },
	/* contentModify */
	{ X, "ConvertToDWORD", 0, 1, H_CONTMOD, false },
	{ X, "ConvertToString", 0, 1, H_CONTMOD, false },
	{ X, "ConvertToBinary", 0, 0, H_CONTMOD, false },
	{ X, "OffsetValue", 1, 1, H_CONTMOD, false },
	{ X, "SetValueByTable", 1, 3, H_CONTMOD, false },
	{ X, "KeepExisting", 0, ANY, H_CONTMOD, false },
	{ X, "MergeMultiSzContent", 2, ANY, H_CONTMOD, false },
	{ X, "MergeDelimitedContent", 3, ANY, H_CONTMOD, false },
	{ X, "MergeShellLibraries", 0, 2, H_CONTMOD, false },
	{ S, "ConvertToOfficeLangID", 3, 3, H_CONTMOD, false },
	{ S, "UpdateMvBinaryMapiStruct", 0, 0, H_CONTMOD, false },
	{ S, "SetPstPathInMapiStruct", 0, 0, H_CONTMOD, false },
	/* internal contentModify helpers of the Windows manifests */
	{ X, "AntiAlias", 0, ANY, H_CONTMOD, false },
	{ X, "ConvertScreenSaver", 0, ANY, H_CONTMOD, false },
	{ X, "ConvertShowIEOnDesktop", 0, ANY, H_CONTMOD, false },
	{ X, "ConvertToOfficeLangID", 3, 3, H_CONTMOD, false },
	{ X, "MigrateActiveDesktop", 0, ANY, H_CONTMOD, false },
	{ X, "MigrateAppearanceUPM", 0, ANY, H_CONTMOD, false },
	{ X, "MigrateDisplayCS", 0, ANY, H_CONTMOD, false },
	{ X, "MigrateDisplaySS", 0, ANY, H_CONTMOD, false },
	{ X, "MigrateIEAutoSearch", 0, ANY, H_CONTMOD, false },
	{ X, "MigrateMouseUPM", 0, ANY, H_CONTMOD, false },
	{ X, "MigrateSoundSysTray", 0, ANY, H_CONTMOD, false },
	{ X, "MigrateTaskBarSS", 0, ANY, H_CONTMOD, false },
	{ X, "SetPstPathInMapiStruc", 0, ANY, H_CONTMOD, false },
	/* processing scripts */
	{ X, "AskForLogoff", 0, 0, H_PROC, false },
	{ X, "ConvertToShortFileName", 1, 1, H_PROC, false },
	{ X, "KillExplorer", 0, 0, H_PROC, false },
	{ X, "RegisterFonts", 1, 1, H_PROC, false },
	{ X, "RemoveEmptyDirectories", 1, 1, H_PROC, false },
	{ X, "RestartExplorer", 0, 0, H_PROC, false },
	{ X, "StartService", 1, ANY, H_PROC, false },
	{ X, "StopService", 1, 1, H_PROC, false },
	{ X, "SyncSCM", 1, 1, H_PROC, false },
};

const char *
mig__use_name(unsigned use)
{
	switch (use) {
	case H_COND: return "a <condition>";
	case H_GEN: return "an objectSet <script>";
	case H_STR: return "a variable <script>";
	case H_CONTENT: return "a <content filter>";
	case H_FILTER: return "an include/exclude filter";
	case H_MERGE: return "a <merge script>";
	case H_LOCMOD: return "a <locationModify script>";
	case H_CONTMOD: return "a <contentModify script>";
	case H_PROC: return "a <processing> script";
	case H_CLEANUP: return "a <destinationCleanup filter>";
	}
	return "this place";
}

const struct mig_helper *
mig__helper_find(const char *lib, const char *name)
{
	const struct mig_helper *any = NULL;
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
		if (strcasecmp(helpers[i].name, name))
			continue;
		if (!lib || !strcasecmp(helpers[i].lib, lib))
			return &helpers[i];
		any = &helpers[i];
	}
	/* MigSysHelper functions are also reachable through MigXmlHelper and back */
	return any;
}

void
mig__call_free(struct mig_call *c)
{
	free(c->lib);
	free(c->name);
	for (unsigned i = 0; i < c->nargs; i++)
		free(c->args[i]);
	free(c->args);
	memset(c, 0, sizeof(*c));
}

int
mig__call_parse(const char *text, struct mig_call *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	const char *id = p;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
		p++;
	if (p == id) {
		snprintf(err, errlen, "expected a helper call like MigXmlHelper.Name(...), got '%s'", text);
		return -1;
	}
	const char *dot = NULL;
	for (const char *q = id; q < p; q++)
		if (*q == '.')
			dot = q;
	if (dot) {
		c->lib = mig__strndup(id, (size_t)(dot - id));
		c->name = mig__strndup(dot + 1, (size_t)(p - dot - 1));
	} else {
		c->name = mig__strndup(id, (size_t)(p - id));
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '(') {
		snprintf(err, errlen, "missing '(' after %s", c->name);
		goto fail;
	}
	p++;
	unsigned cap = 0;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == ')' && c->nargs == 0) {
			p++;
			break;
		}
		char *arg = NULL;
		if (*p == '"' || *p == '\'') {
			char q = *p++;
			const char *e = strchr(p, q);
			if (!e) {
				snprintf(err, errlen, "unterminated string in arguments of %s", c->name);
				goto fail;
			}
			arg = mig__strndup(p, (size_t)(e - p));
			p = e + 1;
		} else {
			const char *s = p;
			while (*p && *p != ',' && *p != ')')
				p++;
			char *raw = mig__strndup(s, (size_t)(p - s));
			char *t = mig__trim(raw);
			free(raw);
			if (!*t) {
				free(t);
				snprintf(err, errlen, "empty argument in call of %s", c->name);
				goto fail;
			}
			if (!strcasecmp(t, "NULL"))
				free(t);
			else
				arg = t;
		}
		if (c->nargs == cap) {
			cap = cap ? cap * 2 : 4;
			c->args = mig__xrealloc(c->args, cap * sizeof(char *));
		}
		c->args[c->nargs++] = arg;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ')') {
			p++;
			break;
		}
		snprintf(err, errlen, "expected ',' or ')' in arguments of %s", c->name);
		goto fail;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p) {
		snprintf(err, errlen, "unexpected text after the call of %s: '%s'", c->name, p);
		goto fail;
	}
	return 0;
fail:
	mig__call_free(c);
	return -1;
}

int
mig__call_check(const char *text, unsigned use, struct mig_call *c, mig_diags *diags,
	const char *file, unsigned line)
{
	char err[512];
	if (!text || mig__call_parse(text, c, err, sizeof(err)) < 0) {
		mig__diag(diags, MIG_DIAG_ERROR, file, line, "%s", text ? err : "empty helper call");
		return -1;
	}
	if (c->lib && strcasecmp(c->lib, X) && strcasecmp(c->lib, S)) {
		mig__diag(diags, MIG_DIAG_ERROR, file, line,
			"unknown helper library '%s' in '%s.%s' (known: MigXmlHelper, MigSysHelper)",
			c->lib, c->lib, c->name);
		goto fail;
	}
	c->def = mig__helper_find(c->lib, c->name);
	if (!c->def) {
		mig__diag(diags, MIG_DIAG_ERROR, file, line, "unknown helper function '%s%s%s'",
			c->lib ? c->lib : "", c->lib ? "." : "", c->name);
		goto fail;
	}
	if (!(c->def->uses & use)) {
		mig__diag(diags, MIG_DIAG_ERROR, file, line, "helper %s cannot be used in %s",
			c->def->name, mig__use_name(use));
		goto fail;
	}
	if (c->nargs < c->def->min || c->nargs > c->def->max) {
		if (c->def->min == c->def->max)
			mig__diag(diags, MIG_DIAG_ERROR, file, line,
				"helper %s takes %u argument%s, %u given", c->def->name, c->def->min,
				c->def->min == 1 ? "" : "s", c->nargs);
		else if (c->def->max == ANY)
			mig__diag(diags, MIG_DIAG_ERROR, file, line,
				"helper %s takes at least %u arguments, %u given", c->def->name,
				c->def->min, c->nargs);
		else
			mig__diag(diags, MIG_DIAG_ERROR, file, line,
				"helper %s takes %u to %u arguments, %u given", c->def->name,
				c->def->min, c->def->max, c->nargs);
		goto fail;
	}
	return 0;
fail:
	mig__call_free(c);
	return -1;
}
