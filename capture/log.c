/* The capture's log, USMT's progress log, the one failure of a run, and the
 * console progress line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capture/internal.h"
#include "rules/rules.h"

/* ------------------------------------------------------------ helpers -- */

double
scan_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
stamp(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void __attribute__((format(printf, 3, 4)))
scan_log(struct scan *s, const char *level, const char *fmt, ...)
{
	if (!s->log)
		return;
	char ts[32];
	stamp(ts, sizeof(ts));
	fprintf(s->log, "%s, %-7s ", ts, level);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(s->log, fmt, ap);
	va_end(ap);
	fputc('\n', s->log);
}

/* USMT's progress log: "date, local time, migration time, key, value, ...". */
void
scan_progress_line(struct scan *s, const char *kv1, const char *v1, const char *kv2, const char *v2)
{
	if (!s->prog)
		return;
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	char date[32], clock_[32];
	strftime(date, sizeof(date), "%d %b %Y", &tm);
	strftime(clock_, sizeof(clock_), "%H:%M:%S %z", &tm);
	long el = (long)(scan_now() - s->t0);
	fprintf(s->prog, "%s, %s, %02ld:%02ld:%02ld, %s, %s", date, clock_, el / 3600,
		el / 60 % 60, el % 60, kv1, v1);
	if (kv2)
		fprintf(s->prog, ", %s, %s", kv2, v2);
	fputc('\n', s->prog);
	fflush(s->prog);
}

enum capture_outcome
scan_fail(struct scan *s, enum capture_outcome why, const char *fmt, ...)
{
	if (s->fail)
		return s->fail;
	s->fail = why;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->failmsg, sizeof(s->failmsg), fmt, ap);
	va_end(ap);
	LOG_ERR(s, "%s", s->failmsg);
	return why;
}

enum capture_outcome
scan_out_of_memory(struct scan *s, const char *doing)
{
	return scan_fail(s, CAPTURE_ERR_INTERNAL, "out of memory (%s)", doing);
}

enum capture_outcome
scan_store_fail(struct scan *s, enum st_status st, const char *fmt, ...)
{
	if (st == ST_ERR_NOMEM)
		return scan_out_of_memory(s, "writing the store");
	if (s->fail)
		return s->fail;
	char text[sizeof(s->failmsg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return scan_fail(s, CAPTURE_ERR_FAILED, "%s", text);
}

void
scan_say(struct scan *s, enum capture_level level, const char *fmt, ...)
{
	if (!s->o->say)
		return;
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	s->o->say(s->o->ctx, level, text);
}

bool
scan_canceled(struct scan *s)
{
	return s->o->cancel && *s->o->cancel;
}


static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

void
scan_decision_text(const struct mig_rule_ref *r, char *buf, size_t len)
{
	if (!r) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%s:%u %s (component \"%s\")", base_name(r->file), r->line,
		 mig_rule_kind_name(r->kind), r->component ? r->component : "");
}

/* ------------------------------------------------------------ progress -- */

void
scan_tick(struct scan *s, bool final)
{
	double t = scan_now();
	if (!final && t - s->last_tick < (s->o->progress_every > 0 ? s->o->progress_every : 10.0))
		return;
	s->last_tick = t;
	double el = t - s->t0;
	double rate = el > 0 ? (double)s->bytes / el : 0;
	double frac = s->used_bytes ? (double)s->walked_bytes / (double)s->used_bytes : 0;
	if (frac > 0.99 && !final)
		frac = 0.99;
	if (final)
		frac = 1;
	if (s->o->on_progress) {
		struct capture_progress p = {
			.fraction = frac, .files = s->files + s->links, .bytes = s->bytes,
			.bytes_per_second = (uint64_t)rate,
			.eta_seconds = frac > 0.02 && !final ? (long)(el / frac - el) : -1,
			.final = final,
		};
		s->o->on_progress(s->o->ctx, &p);
	}
	if (s->prog) {
		char pc[16], mins[16];
		snprintf(pc, sizeof(pc), "%.0f", frac * 100);
		snprintf(mins, sizeof(mins), "%ld", frac > 0.02 ? (long)((el / frac - el) / 60) : 0L);
		scan_progress_line(s, "totalPercentageCompleted", pc, "totalMinutesRemaining", mins);
	}
}
