/*
 * Small shared utilities of the rules module: diagnostics list, growable
 * string buffers, allocation that ends the program on exhaustion, and simple Unicode
 * case folding of UTF-8 (MigXML matching is case-insensitive like NTFS).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

/* The rule compiler cannot unwind from deep inside it, so running out of
 * memory ends the program with winstate's out-of-memory exit code (5, as
 * the README says), not a crash. */
static int out_of_memory_exit = 5;

void
mig_set_out_of_memory_exit(int code)
{
	out_of_memory_exit = code;
}

static _Noreturn void
out_of_memory(void)
{
	fprintf(stderr, "winstate: out of memory\n");
	exit(out_of_memory_exit);
}

void *
mig__xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *
mig__xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

char *
mig__strndup(const char *s, size_t n)
{
	char *p = mig__xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *
mig__strdup(const char *s)
{
	return s ? mig__strndup(s, strlen(s)) : NULL;
}

bool
mig__ieq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcasecmp(a, b) == 0;
}

/* ---------------------------------------------------------------- sbuf */

static void
sb_grow(struct sbuf *s, size_t more)
{
	if (s->n + more + 1 <= s->cap)
		return;
	size_t cap = s->cap ? s->cap : 64;
	while (cap < s->n + more + 1)
		cap *= 2;
	s->p = mig__xrealloc(s->p, cap);
	s->cap = cap;
}

void
sb_addn(struct sbuf *s, const char *p, size_t n)
{
	sb_grow(s, n);
	memcpy(s->p + s->n, p, n);
	s->n += n;
	s->p[s->n] = 0;
}

void
sb_add(struct sbuf *s, const char *p)
{
	sb_addn(s, p, strlen(p));
}

void
sb_addc(struct sbuf *s, char c)
{
	sb_addn(s, &c, 1);
}

void
sb_fmt(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	sb_grow(s, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(s->p + s->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->n += (size_t)n;
}

char *
sb_steal(struct sbuf *s)
{
	char *p = s->p ? s->p : mig__strdup("");
	s->p = NULL;
	s->n = s->cap = 0;
	return p;
}

void
sb_free(struct sbuf *s)
{
	free(s->p);
	s->p = NULL;
	s->n = s->cap = 0;
}

/* ---------------------------------------------------------------- diagnostics */

mig_diags *
mig_diags_new(void)
{
	mig_diags *d = mig__xmalloc(sizeof(*d));
	memset(d, 0, sizeof(*d));
	return d;
}

void
mig_diags_free(mig_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	free(d);
}

void
mig_diags_add(mig_diags *d, enum mig_diag_level level, const char *file, unsigned line,
	const char *msg)
{
	mig__diag(d, level, file, line, "%s", msg ? msg : "");
}

void
mig__diag(mig_diags *d, enum mig_diag_level level, const char *file, unsigned line,
	const char *fmt, ...)
{
	if (!d)
		return;
	struct sbuf s = { 0 };
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	char *msg = mig__xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_free(&s);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = mig__xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n].level = level;
	d->v[d->n].file = mig__strdup(file);
	d->v[d->n].line = line;
	d->v[d->n].msg = msg;
	d->n++;
}

size_t
mig_diags_count(const mig_diags *d)
{
	return d ? d->n : 0;
}

const struct mig_diag *
mig_diags_get(const mig_diags *d, size_t i)
{
	return d && i < d->n ? &d->v[i] : NULL;
}

size_t
mig_diags_count_level(const mig_diags *d, enum mig_diag_level level)
{
	size_t c = 0;
	for (size_t i = 0; d && i < d->n; i++)
		c += d->v[i].level == level;
	return c;
}

static const char *
level_name(enum mig_diag_level l)
{
	switch (l) {
	case MIG_DIAG_NOTE: return "note";
	case MIG_DIAG_WARNING: return "warning";
	case MIG_DIAG_UNSUPPORTED: return "unsupported";
	case MIG_DIAG_ERROR: return "error";
	}
	return "?";
}

void
mig_diags_print(const mig_diags *d, FILE *out, enum mig_diag_level min)
{
	for (size_t i = 0; d && i < d->n; i++) {
		const struct mig_diag *g = &d->v[i];
		if (g->level < min)
			continue;
		if (g->file && g->line)
			fprintf(out, "%s:%u: ", g->file, g->line);
		else if (g->file)
			fprintf(out, "%s: ", g->file);
		fprintf(out, "%s: %s\n", level_name(g->level), g->msg);
	}
}

const char *
mig_diags_first(const mig_diags *d, enum mig_diag_level min)
{
	for (size_t i = 0; d && i < d->n; i++)
		if (d->v[i].level >= min)
			return d->v[i].msg;
	return NULL;
}

/* ---------------------------------------------------------------- strings */

int
mig__parse_bool(const char *s)
{
	if (!s)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	static const char *yes[] = { "1", "true", "yes" }, *no[] = { "0", "false", "no" };
	for (int i = 0; i < 3; i++) {
		if (strlen(yes[i]) == n && !strncasecmp(s, yes[i], n))
			return 1;
		if (strlen(no[i]) == n && !strncasecmp(s, no[i], n))
			return 0;
	}
	return -1;
}

char *
mig__trim(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return mig__strndup(s, n);
}

/* Simple case folding for the code points of the BMP in common use: the
 * mapping keeps the UTF-8 length, so folding can be done in place. */
static uint32_t
fold_cp(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'A' && c <= 'Z') ? c + 32 : c;
	if ((c >= 0xC0 && c <= 0xDE && c != 0xD7))
		return c + 32;
	if (c >= 0x100 && c <= 0x17F) {        /* Latin Extended-A: pairs */
		if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F)
			return c;
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
			return (c & 1) ? c + 1 : c;
		if (c == 0x178)
			return 0xFF;
		return (c & 1) ? c : c + 1;
	}
	if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)   /* Greek */
		return c + 32;
	if (c >= 0x410 && c <= 0x42F)                 /* Cyrillic */
		return c + 32;
	if (c >= 0x400 && c <= 0x40F)
		return c + 80;
	if (c >= 0x460 && c <= 0x4FF && c != 0x482 && !(c >= 0x483 && c <= 0x489)) {
		if (c >= 0x4C1 && c <= 0x4CE)
			return (c & 1) ? c + 1 : c;
		if (c == 0x4C0 || c == 0x4CF)
			return c;
		return (c & 1) ? c : c + 1;
	}
	if (c >= 0x531 && c <= 0x556)                 /* Armenian */
		return c + 48;
	if (c >= 0x1E00 && c <= 0x1EFF && !(c >= 0x1E96 && c <= 0x1E9F))
		return (c & 1) ? c : c + 1;               /* Latin Extended Additional */
	if (c >= 0xFF21 && c <= 0xFF3A)               /* fullwidth A-Z */
		return c + 32;
	return c;
}

static size_t
utf8_len_of(uint32_t c)
{
	return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

void
mig__fold_into(const char *in, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0;
	while (i < len) {
		unsigned char b = p[i];
		if (b < 0x80) {
			out[i] = (char)((b >= 'A' && b <= 'Z') ? b + 32 : b);
			i++;
			continue;
		}
		size_t n = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
		if (i + n > len)
			n = 1;
		uint32_t c = n == 2 ? (b & 0x1Fu) : n == 3 ? (b & 0x0Fu) : (b & 0x07u);
		bool ok = n > 1;
		for (size_t k = 1; k < n && ok; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				ok = false;
			c = (c << 6) | (p[i + k] & 0x3F);
		}
		uint32_t f = ok ? fold_cp(c) : c;
		if (!ok || f == c || utf8_len_of(f) != n) {
			memcpy(out + i, in + i, ok ? n : 1);
			i += ok ? n : 1;
			continue;
		}
		if (n == 2) {
			out[i] = (char)(0xC0 | (f >> 6));
			out[i + 1] = (char)(0x80 | (f & 0x3F));
		} else if (n == 3) {
			out[i] = (char)(0xE0 | (f >> 12));
			out[i + 1] = (char)(0x80 | ((f >> 6) & 0x3F));
			out[i + 2] = (char)(0x80 | (f & 0x3F));
		} else {
			memcpy(out + i, in + i, n);
		}
		i += n;
	}
}

void
mig__fold(const char *in, size_t len, struct sbuf *out)
{
	sb_grow(out, len);
	mig__fold_into(in, len, out->p + out->n);
	out->n += len;
	out->p[out->n] = 0;
}
