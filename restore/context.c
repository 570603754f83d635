/*
 * What every step of a restore shares: the outcome and its sentence, the
 * list of problems, the log, path helpers and the cache of the target's
 * folders (made component by component, never through a link).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "restore/internal.h"

/* The first failure is the restore's: what a step says after it (a problem
 * caused by that failure) does not replace it. */
void
outcome(struct ctx *c, enum restore_outcome o, const char *fmt, ...)
{
	va_list ap;
	if (c->res->outcome != RESTORE_OK)
		return;
	c->res->outcome = o;
	va_start(ap, fmt);
	vsnprintf(c->res->message, sizeof(c->res->message), fmt, ap);
	va_end(ap);
	if (c->o->log)
		fprintf(c->o->log, "error: %s\n", c->res->message);
}

/* Out of memory, anywhere: the restore stops with RESTORE_INTERNAL (exit 5). */
enum restore_outcome
nomem(struct ctx *c)
{
	outcome(c, RESTORE_INTERNAL, "out of memory");
	return c->res->outcome;
}

/* An item skipped, with why.  One that cannot be listed for lack of memory is
 * still counted, and the restore ends out of memory, never "done". */
static void
vproblem(struct ctx *c, const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	size_t n = c->res->problem_count + 1;
	char **grown = s ? realloc(c->res->problems, n * sizeof(*grown)) : NULL;
	if (!grown) {
		free(s);
		c->res->skipped++;
		nomem(c);
		return;
	}
	c->res->problems = grown;
	grown[c->res->problem_count++] = s;
	c->res->skipped++;
	if (c->o->log)
		fprintf(c->o->log, "skipped: %s\n", s);
}

void
problem(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vproblem(c, fmt, ap);
	va_end(ap);
}

/* A problem from ntfs/ status @st; its out of memory is the restore's. */
void
nv_problem(struct ctx *c, enum nv_status st, const char *fmt, ...)
{
	va_list ap;
	if (st == NV_ERR_NOMEM) {
		c->res->skipped++;
		nomem(c);
		return;
	}
	va_start(ap, fmt);
	vproblem(c, fmt, ap);
	va_end(ap);
}

void
logf_(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	if (!c->o->log)
		return;
	va_start(ap, fmt);
	vfprintf(c->o->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->o->log);
}

char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *
joinp(const char *a, const char *b)
{
	char *p;
	if (asprintf(&p, "%s%s%s", a, *a && *b ? "/" : "", b) < 0)
		return NULL;
	return p;
}

const char *
user_extra(const struct st_user *u, const char *key)
{
	for (size_t i = 0; i < u->extra_count; i++)
		if (u->extra[i].key && !strcasecmp(u->extra[i].key, key))
			return u->extra[i].value;
	return NULL;
}

/* "C:\Users\x" -> "Users/x" (root "" on the target); NULL when not on drive @drive. */
char *
win_to_volume(const char *win, char drive)
{
	if (!win || strlen(win) < 3 || win[1] != ':' || toupper((unsigned char)win[0]) != drive ||
	    win[2] != '\\')
		return NULL;
	char *p = strdup(win + 3);
	if (!p)
		return NULL;
	for (char *q = p; *q; q++)
		if (*q == '\\')
			*q = '/';
	size_t n = strlen(p);
	while (n && p[n - 1] == '/')
		p[--n] = '\0';
	return p;
}

/* Is @path equal to or below @prefix (case-insensitive, on a component boundary)? */
const char *
below(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	if (!n)
		return path;
	if (strncasecmp(path, prefix, n))
		return NULL;
	if (path[n] == '\0')
		return path + n;
	if (path[n] == '/')
		return path + n + 1;
	return NULL;
}

char *
lower_key(const char *s)
{
	char *k = strdup(s);
	for (char *p = k; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return k;
}

static size_t
hash_str(const char *s)
{
	size_t h = 1469598103934665603ull & SIZE_MAX;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h % DIR_BUCKETS;
}

bool
dir_cached(struct ctx *c, const char *key, uint64_t *mref)
{
	for (struct dir_entry *e = c->dirs[hash_str(key)]; e; e = e->next)
		if (!strcmp(e->key, key)) {
			*mref = e->mref;
			return true;
		}
	return false;
}

void
dir_remember(struct ctx *c, char *key, uint64_t mref)
{
	struct dir_entry *e = key ? malloc(sizeof(*e)) : NULL;
	if (!e) {
		free(key);
		nomem(c);
		return;
	}
	size_t h = hash_str(key);
	e->key = key;
	e->mref = mref;
	e->next = c->dirs[h];
	c->dirs[h] = e;
}

/* A file's or folder's EAs, byte for byte as captured; a buffer ntfs/ will
 * not write (damaged in the store) costs that file its EAs, named. */
void
restore_ea(struct ctx *c, const struct st_file *f, uint64_t mref)
{
	enum nv_status st;
	if (f->ea_len && (st = nv_set_ea(c->vol, mref, f->ea, f->ea_len)) != NV_OK)
		nv_problem(c, st, "%s: its extended attributes were not restored: %s", f->path,
			nv_last_error());
}

/*
 * The folder @path (volume-relative), made when missing.  Every component
 * below @root must be a real folder: a junction, symlink or other reparse
 * point met on the way is refused, so nothing lands outside @root.
 */
enum nv_status
ensure_dir(struct ctx *c, const char *root, uint64_t root_mref, const char *path, const char *owner,
	   uint64_t *out)
{
	const char *rest = below(path, root);
	if (!rest)
		return NV_ERR_INVALID;
	uint64_t cur = root_mref;
	char *sofar = strdup(root);
	const char *p = rest;
	enum nv_status st = sofar ? NV_OK : NV_ERR_NOMEM;
	while (sofar && *p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char *comp = strndup(p, n);
		char *next = comp ? joinp(sofar, comp) : NULL;
		if (!next) {
			free(comp);
			st = NV_ERR_NOMEM;
			break;
		}
		free(sofar);
		sofar = next;
		char *key = lower_key(sofar);
		uint64_t m;
		if (!key) {
			free(comp);
			st = NV_ERR_NOMEM;
			break;
		}
		if (dir_cached(c, key, &m)) {
			free(key);
		} else {
			if (nv_lookup(c->vol, sofar, &m) == NV_OK) {
				struct nv_inode *in;
				st = nv_stat(c->vol, m, &in);
				if (st == NV_OK) {
					if (in->reparse_tag || !(in->kind & NV_IS_DIR))
						st = in->reparse_tag ? NV_ERR_UNSUPPORTED : NV_ERR_NOT_DIR;
					nv_inode_free(in);
				}
			} else {
				st = nv_mkdir(c->vol, cur, comp, &m);
				if (st == NV_OK) {
					struct nv_inode *pin;
					if (nv_stat(c->vol, cur, &pin) == NV_OK) {
						uint8_t *sd;
						size_t sl;
						/* errno: how fmt_sd_inherit says out of memory */
						errno = 0;
						int inh = pin->security ? fmt_sd_inherit(pin->security,
								pin->security_len, owner, true, &sd, &sl) : 1;
						/* Not left with libntfs-3g's default descriptor. */
						if (inh == 0)
							st = nv_set_security(c->vol, m, sd, sl);
						else if (inh < 0 && errno == ENOMEM)
							st = NV_ERR_NOMEM;
						if (inh == 0)
							free(sd);
						nv_inode_free(pin);
					}
				}
			}
			if (st != NV_OK) {
				free(key);
				free(comp);
				break;
			}
			dir_remember(c, key, m);
		}
		free(comp);
		cur = m;
		p += n;
		if (*p == '/')
			p++;
	}
	free(sofar);
	if (st == NV_OK)
		*out = cur;
	return st;
}

/* Is every component of @path a real folder (no junction, symlink, reparse point)? */
bool
real_folders(struct ctx *c, const char *path)
{
	char *copy = strdup(path);
	bool ok = copy != NULL;
	if (!copy)
		nomem(c);
	for (char *p = copy; ok && p && *p;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		uint64_t m;
		struct nv_inode *in;
		if (nv_lookup(c->vol, copy, &m) != NV_OK || nv_stat(c->vol, m, &in) != NV_OK) {
			ok = false;
			break;
		}
		ok = !in->reparse_tag && (in->kind & NV_IS_DIR);
		nv_inode_free(in);
		if (!slash)
			break;
		*slash = '/';
		p = slash + 1;
	}
	free(copy);
	return ok;
}
