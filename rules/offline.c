/*
 * USMT's offline.xml (ScanState /offline:FILE), which names the offline
 * Windows to capture:
 *     <offline><winDir><path>C:\Windows</path>...</winDir></offline>
 * On Linux a <path> names a disk instead of a drive letter
 * (DISK[:PART][:\Windows], as /offlinewindir: takes).  The file is read as
 * carefully as a rule file: no network, no DTD, no entities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

int
mig_offline_split(const char *spec, char **disk, char **windir)
{
	*disk = *windir = NULL;
	const char *sep = strstr(spec, ":\\");
	if (!sep)
		sep = strstr(spec, ":/");
	if (sep) {
		*disk = strndup(spec, (size_t)(sep - spec));
		const char *w = sep + 2;
		if (*w && !(*windir = strdup(w))) {
			free(*disk);
			*disk = NULL;
			return -1;
		}
		if (*windir) {
			for (char *c = *windir; *c; c++)
				if (*c == '\\')
					*c = '/';
			size_t n = strlen(*windir);
			while (n && (*windir)[n - 1] == '/')
				(*windir)[--n] = 0;
		}
	} else {
		*disk = strdup(spec);
	}
	if (*disk && **disk)
		return 0;
	free(*disk);
	free(*windir);
	*disk = *windir = NULL;
	return -1;
}

static bool
named(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !xmlStrcasecmp(n->name, BAD_CAST name);
}

/* Add @text's Windows to @o; 1 when it is not DISK[:PART][:\Windows], -1 out of memory. */
static int
add_path(struct mig_offline *o, const char *text)
{
	char *disk, *windir;
	if (mig_offline_split(text, &disk, &windir) < 0)
		return 1;
	struct mig_offline_windows *g = realloc(o->windows, (o->count + 1) * sizeof(*g));
	if (!g) {
		free(disk);
		free(windir);
		return -1;
	}
	o->windows = g;
	g[o->count++] = (struct mig_offline_windows){ disk, windir };
	return 0;
}

int
mig_offline_load(const char *file, struct mig_offline *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	mig_diags *d = mig_diags_new();
	size_t len;
	char *buf = mig__read_file(file, &len, d);
	xmlDocPtr doc = buf ? mig__xml_read(file, buf, len, d) : NULL;
	free(buf);
	if (!doc) {
		const struct mig_diag *g = mig_diags_count(d) ? mig_diags_get(d, 0) : NULL;
		if (g && g->line)
			snprintf(err, errlen, "%s cannot be read as XML: line %u: %s", file, g->line,
				 g->msg);
		else
			snprintf(err, errlen, "%s cannot be read as XML: %s", file,
				 g ? g->msg : "unknown error");
		mig_diags_free(d);
		return -1;
	}
	mig_diags_free(d);
	int rc = 0;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!root || !named(root, "offline")) {
		snprintf(err, errlen, "%s is not an offline.xml (its root is not <offline>)", file);
		rc = -1;
	}
	for (xmlNodePtr wd = root && !rc ? root->children : NULL; wd && !rc; wd = wd->next) {
		if (!named(wd, "winDir"))
			continue;
		for (xmlNodePtr p = wd->children; p && !rc; p = p->next) {
			if (!named(p, "path"))
				continue;
			char *text = mig__text(p);
			if (!text || add_path(out, text) < 0) {
				snprintf(err, errlen, "%s: out of memory", file);
				rc = -1;
			}
			free(text);
		}
	}
	xmlFreeDoc(doc);
	if (rc)
		mig_offline_free(out);
	return rc;
}

void
mig_offline_free(struct mig_offline *o)
{
	for (size_t i = 0; i < o->count; i++) {
		free(o->windows[i].disk);
		free(o->windows[i].windir);
	}
	free(o->windows);
	memset(o, 0, sizeof(*o));
}
