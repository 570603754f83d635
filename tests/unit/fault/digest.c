/* Volume digests for the fault tests (digest.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ntfs/ntfs.h"
#include "tests/unit/fault/digest.h"

static uint64_t
mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

struct digest {
	digest_skip_fn skip;
	bool skip_user_hives;
	uint64_t h;
	unsigned long entries;
	struct nv_volume *v;
};

static int
digest_entry(const struct nv_entry *en, void *ctx)
{
	struct digest *d = ctx;
	if (d->skip && d->skip(en->path, en->name))
		return NV_WALK_SKIP;
	d->h = mix(d->h, en->path, strlen(en->path) + 1);
	d->entries++;
	if (!en->inode) {
		d->h = mix(d->h, en->error ? en->error : "?", 1);
		return NV_WALK_CONTINUE;
	}
	const struct nv_inode *in = en->inode;
	if (in->kind & NV_IS_DIR)
		return NV_WALK_CONTINUE; /* a folder's times move when entries are added */
	if (d->skip_user_hives &&
	    (!strcasecmp(en->name, "NTUSER.DAT") || !strcasecmp(en->name, "UsrClass.dat")))
		return NV_WALK_CONTINUE;
	d->h = mix(d->h, &in->size, sizeof(in->size));
	d->h = mix(d->h, &in->times[NV_TIME_CREATION], 16);
	d->h = mix(d->h, &in->attributes, sizeof(in->attributes));
	if (in->size > 256 * 1024 || in->reparse_tag)
		return NV_WALK_CONTINUE; /* big ones: size and times only, to stay quick */
	struct nv_reader *r;
	if (nv_reader_open(d->v, en->mref, NULL, &r) != NV_OK) {
		d->h = mix(d->h, "unreadable", 10);
		return NV_WALK_CONTINUE;
	}
	char buf[65536];
	size_t got;
	uint64_t off = 0;
	while (nv_reader_pread(r, buf, sizeof(buf), off, &got) == NV_OK && got) {
		d->h = mix(d->h, buf, got);
		off += got;
	}
	nv_reader_close(r);
	return NV_WALK_CONTINUE;
}

int
volume_digest(const char *img, const char *start, digest_skip_fn skip, bool skip_user_hives,
	      uint64_t *out, char *why, size_t whylen)
{
	struct digest d = { skip, skip_user_hives, 1469598103934665603ULL, 0, NULL };
	if (nv_open(img, NULL, &d.v) != NV_OK) {
		snprintf(why, whylen, "%s", nv_last_error());
		return -1;
	}
	enum nv_status st = nv_walk(d.v, start, digest_entry, &d);
	nv_close(d.v);
	if (st != NV_OK) {
		snprintf(why, whylen, "%s", nv_last_error());
		return -1;
	}
	*out = mix(d.h, &d.entries, sizeof(d.entries));
	return 0;
}
