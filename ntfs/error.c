/*
 * Failure reasons.  Each thread keeps the sentence for its last failure so a
 * caller can print it after a plain status comparison.  libntfs-3g's own log
 * messages are captured rather than printed: they are kept as detail for our
 * sentence, and shown on stderr only when WINSTATE_NTFS_DEBUG is set.
 */
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"
#include "ntfs/internal.h"

static _Thread_local char last_error[1024];
static _Thread_local char library_message[512];

const char *
nv_last_error(void)
{
	return last_error[0] ? last_error : "no error";
}

const char *
nv_status_name(enum nv_status status)
{
	static const char *const names[] = {
		[NV_OK] = "ok",
		[NV_ERR_NOMEM] = "out of memory",
		[NV_ERR_IO] = "I/O error",
		[NV_ERR_NOT_FOUND] = "not found",
		[NV_ERR_INVALID] = "invalid argument",
		[NV_ERR_NOT_NTFS] = "not NTFS",
		[NV_ERR_UNFORMATTED] = "unformatted",
		[NV_ERR_BITLOCKER] = "BitLocker",
		[NV_ERR_HIBERNATED] = "hibernated",
		[NV_ERR_UNCLEAN] = "unclean",
		[NV_ERR_CORRUPT] = "corrupt",
		[NV_ERR_READ_ONLY] = "read-only",
		[NV_ERR_EXISTS] = "exists",
		[NV_ERR_NO_SPACE] = "no space",
		[NV_ERR_BUSY] = "busy",
		[NV_ERR_NAME] = "invalid name",
		[NV_ERR_PARTITION] = "bad partition",
		[NV_ERR_TOO_MANY_LINKS] = "too many links",
		[NV_ERR_NOT_DIR] = "not a directory",
		[NV_ERR_UNSUPPORTED] = "unsupported",
	};
	if ((unsigned)status < sizeof(names) / sizeof(names[0]) && names[status])
		return names[status];
	return "unknown error";
}

enum nv_status
nv_fail(enum nv_status status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsentence(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return status;
}

static enum nv_status
status_of_errno(int err)
{
	switch (err) {
	case ENOMEM: return NV_ERR_NOMEM;
	case ENOENT: return NV_ERR_NOT_FOUND;
	case EEXIST: return NV_ERR_EXISTS;
	case ENOSPC: return NV_ERR_NO_SPACE;
	case EROFS: return NV_ERR_READ_ONLY;
	case EBUSY: return NV_ERR_BUSY;
	case EMLINK: return NV_ERR_TOO_MANY_LINKS;
	case ENOTDIR: return NV_ERR_NOT_DIR;
	case ENAMETOOLONG:
	case EILSEQ: return NV_ERR_NAME;
	case EINVAL: return NV_ERR_INVALID;
	case EOPNOTSUPP: return NV_ERR_UNSUPPORTED;
	case EIO: return NV_ERR_IO;
	default: return NV_ERR_IO;
	}
}

enum nv_status
nv_fail_errno(int err, const char *fmt, ...)
{
	char what[600];
	va_list ap;
	const char *lib = nv_library_message();

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (lib[0])
		snprintf(last_error, sizeof(last_error), "%s: %s (libntfs-3g: %s)", what,
			 strerror(err), lib);
	else
		snprintf(last_error, sizeof(last_error), "%s: %s", what, strerror(err));
	return status_of_errno(err);
}

const char *
nv_library_message(void)
{
	static _Thread_local char copy[sizeof(library_message)];
	memcpy(copy, library_message, sizeof(copy));
	library_message[0] = '\0';
	return copy;
}

static int
capture_log(const char *function, const char *file, int line, u32 level, void *data,
	    const char *format, va_list args)
{
	char text[sizeof(library_message)];
	size_t n;

	(void)function;
	(void)file;
	(void)line;
	(void)data;
	vsnprintf(text, sizeof(text), format, args);
	n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	(void)level;
	/* Keep the first message of an operation: later ones tend to be echoes. */
	if (!library_message[0])
		memcpy(library_message, text, n + 1);
	if (getenv("WINSTATE_NTFS_DEBUG"))
		fprintf(stderr, "libntfs-3g: %s\n", text);
	return (int)n;
}

void
nv_install_log_handler(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	ntfs_log_set_handler(capture_log);
	ntfs_log_clear_levels(NTFS_LOG_LEVEL_INFO | NTFS_LOG_LEVEL_VERBOSE | NTFS_LOG_LEVEL_QUIET |
			      NTFS_LOG_LEVEL_PROGRESS | NTFS_LOG_LEVEL_DEBUG | NTFS_LOG_LEVEL_TRACE);
}
