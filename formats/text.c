#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "formats/formats.h"

void
fmt_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else if (*p == 0xED && p[1] >= 0xA0 && p[1] <= 0xBF && (p[2] & 0xC0) == 0x80) {
				/* A lone surrogate from an NTFS name (WTF-8): as an escape, so
				 * the document stays UTF-8. */
				fprintf(out, "\\u%04x", 0xD000u | (unsigned)(p[1] & 0x3F) << 6 | (p[2] & 0x3Fu));
				p += 2;
			} else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void
fmt_json_hex(FILE *out, const uint8_t *data, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++)
		fprintf(out, "%02x", data[i]);
	fputc('"', out);
}

const char *
fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

/* Seconds between 1601-01-01 and 1970-01-01. */
#define EPOCH_DIFF 11644473600LL

static int
split_time(uint64_t t, struct tm *tm, unsigned *fraction)
{
	long long secs = (long long)(t / 10000000ULL) - EPOCH_DIFF;
	time_t tt = (time_t)secs;
	*fraction = (unsigned)(t % 10000000ULL);
	return gmtime_r(&tt, tm) ? 0 : -1;
}

const char *
fmt_ntfs_time(uint64_t t, char *buf, size_t len)
{
	struct tm tm;
	unsigned frac;
	if (!t || split_time(t, &tm, &frac) < 0)
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

const char *
fmt_ntfs_time_iso(uint64_t t, char *buf, size_t len)
{
	struct tm tm;
	unsigned frac;
	char base[32];
	if (!t || split_time(t, &tm, &frac) < 0) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%07uZ", base, frac);
	return buf;
}

const char *
fmt_attribute_letters(uint32_t a, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		char letter;
	} letters[] = {
		{ 0x1, 'R' }, { 0x2, 'H' }, { 0x4, 'S' }, { 0x20, 'A' }, { 0x10, 'D' },
		{ 0x800, 'C' }, { 0x4000, 'E' }, { 0x200, 'P' }, { 0x400, 'L' },
		{ 0x1000, 'O' }, { 0x100, 'T' }, { 0x2000, 'N' },
	};
	size_t n = sizeof(letters) / sizeof(letters[0]);
	if (len < n + 1)
		return "";
	for (size_t i = 0; i < n; i++)
		buf[i] = (a & letters[i].bit) ? letters[i].letter : '-';
	buf[n] = '\0';
	return buf;
}

void
fmt_vsentence(char *dest, size_t len, const char *fmt, va_list ap)
{
	char text[2048];

	if (!len)
		return;
	vsnprintf(text, sizeof(text) < len ? sizeof(text) : len, fmt, ap);
	memcpy(dest, text, strlen(text) + 1);
}

void
fmt_sentence(char *dest, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsentence(dest, len, fmt, ap);
	va_end(ap);
}
