/*
 * Creating a local account in an offline SAM hive (LoadState's /lac).
 *
 * What Windows keeps for a local user, and what is written here:
 *  - SAM\Domains\Account\F: the domain's fixed record; the next RID to hand
 *    out is the dword at 0x48 and is bumped.  The domain SID is the last 24
 *    bytes of Account\V.
 *  - Users\<RID as 8 hex digits>: F, the user's fixed 0x50-byte record (RID,
 *    primary group 513, account flags, times), and V, the variable record: 17
 *    (offset, length, extra) entries (0xCC bytes) then the data they point at
 *    (offsets relative to 0xCC, 4-byte aligned): 0 security descriptor, 1 user
 *    name, 2 full name, 3 comment, 11 logon hours, 12 group memberships,
 *    13/14 LM/NT hash, 15/16 their histories.
 *  - Users\Names\<name>: no data; the default value's *type* is the RID.
 *  - The Users alias (Builtin\Aliases\00000221, value C: a header of
 *    (offset, length) entries then the data; the member SIDs last, with their
 *    count at 0x30) gains the SID, and Builtin\Aliases\Members\<domain SID>\
 *    <RID> lists the aliases the account belongs to (the default value's type
 *    is their count, its data their RIDs).
 *
 * No password hash is written: a stored NT hash must be encrypted with the
 * SAM key (derived from the SYSTEM hive's boot key, with RC4 or AES-128-CBC),
 * and the project links no library that has those ciphers and MD4.  A
 * password is refused; an empty password needs no crypto (the hash entries
 * hold no hash, as for an account that never had a password).
 *
 * Every value is read and checked before the first change, so a refused
 * account leaves the hive as it was.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/reg_internal.h"

#define ACCOUNT "SAM\\Domains\\Account"
#define USERS ACCOUNT "\\Users"
#define NAMES USERS "\\Names"
#define USERS_ALIAS "SAM\\Domains\\Builtin\\Aliases\\00000221"
#define ALIAS_MEMBERS "SAM\\Domains\\Builtin\\Aliases\\Members"
#define RID_USERS_ALIAS 0x221u
#define RID_NONE_GROUP 0x201u
#define FIRST_USER_RID 1000u

#define ACB_DISABLED 0x0001u
#define ACB_PWNOTREQ 0x0004u
#define ACB_NORMAL 0x0010u

#define USER_F_LEN 0x50u
#define USER_V_ENTRIES 17u
#define USER_V_HEADER (USER_V_ENTRIES * 12u)

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void
put(struct buf *b, const void *data, size_t len)
{
	if (b->oom)
		return;
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2 + 64;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void
put16(struct buf *b, uint16_t v)
{
	uint8_t x[2];
	fmt_put_le16(x, v);
	put(b, x, 2);
}

static void
put32(struct buf *b, uint32_t v)
{
	uint8_t x[4];
	fmt_put_le32(x, v);
	put(b, x, 4);
}

/* S-1-A-S1-...: a SID of @n sub-authorities under authority @auth. */
static size_t
make_sid(uint8_t *out, uint8_t auth, const uint32_t *sub, unsigned n)
{
	out[0] = 1;
	out[1] = (uint8_t)n;
	memset(out + 2, 0, 5);
	out[7] = auth;
	for (unsigned i = 0; i < n; i++)
		fmt_put_le32(out + 8 + 4 * i, sub[i]);
	return 8u + 4u * n;
}

static void
put_ace(struct buf *b, uint8_t type, uint8_t flags, uint32_t mask, const uint8_t *sid)
{
	size_t sl = fmt_sid_len(sid, FMT_SID_MAX);
	uint8_t h[2] = { type, flags };
	put(b, h, 2);
	put16(b, (uint16_t)(8 + sl));
	put32(b, mask);
	put(b, sid, sl);
}

/*
 * The descriptor the SAM gives a user object it creates: owner and group
 * Administrators; audit (success and failure) of Everyone's security changes
 * and of anything Anonymous does; the user may read and change its own
 * password and preferences (0x20044), Administrators have full control of
 * the object (0xF07FF), Everyone may read it and change a password (0x2035B).
 */
static int
user_sd(const uint8_t *user_sid, struct buf *b)
{
	uint8_t everyone[12], anonymous[12], admins[16];
	uint32_t zero = 0, seven = 7, ba[2] = { 32, 544 };
	make_sid(everyone, 1, &zero, 1);
	make_sid(anonymous, 5, &seven, 1);
	make_sid(admins, 5, ba, 2);

	struct buf sacl = { 0 }, dacl = { 0 };
	put_ace(&sacl, 2 /* SYSTEM_AUDIT */, 0xC0, 0x01050044, everyone);
	put_ace(&sacl, 2, 0xC0, 0x000F07FF, anonymous);
	put_ace(&dacl, 0 /* ACCESS_ALLOWED */, 0, 0x00020044, user_sid);
	put_ace(&dacl, 0, 0, 0x000F07FF, admins);
	put_ace(&dacl, 0, 0, 0x0002035B, everyone);
	int ret = -1;
	if (sacl.oom || dacl.oom)
		goto out;
	size_t sacl_len = 8 + sacl.len, dacl_len = 8 + dacl.len;
	uint32_t o_sacl = 20, o_dacl = (uint32_t)(o_sacl + sacl_len);
	uint32_t o_owner = (uint32_t)(o_dacl + dacl_len), o_group = o_owner + 16;
	uint8_t hdr[2] = { 1, 0 };
	put(b, hdr, 2);
	put16(b, 0x8014); /* self-relative, DACL and SACL present */
	put32(b, o_owner);
	put32(b, o_group);
	put32(b, o_sacl);
	put32(b, o_dacl);
	uint8_t acl[2] = { 2, 0 };
	put(b, acl, 2);
	put16(b, (uint16_t)sacl_len);
	put16(b, 2);
	put16(b, 0);
	put(b, sacl.p, sacl.len);
	put(b, acl, 2);
	put16(b, (uint16_t)dacl_len);
	put16(b, 3);
	put16(b, 0);
	put(b, dacl.p, dacl.len);
	put(b, admins, 16);
	put(b, admins, 16);
	ret = b->oom ? -1 : 0;
out:
	free(sacl.p);
	free(dacl.p);
	return ret;
}

/* The V record: 17 entries, then their data (4-byte aligned, offsets from
 * the end of the entries; an empty entry points where the next data goes). */
static int
user_v(const uint8_t *user_sid, const char *name, const uint8_t hash_hdr[4], size_t hash_len,
       struct buf *out)
{
	struct buf sd = { 0 };
	size_t nlen;
	uint8_t *uname = fmt_utf8_to_utf16le(name, &nlen);
	uint8_t hours[21], groups[8];
	memset(hours, 0xFF, sizeof(hours));
	fmt_put_le32(groups, RID_NONE_GROUP);
	fmt_put_le32(groups + 4, 7); /* mandatory, enabled by default, enabled */
	if (!uname || user_sd(user_sid, &sd) < 0) {
		free(uname);
		free(sd.p);
		return -1;
	}
	struct {
		const void *p;
		size_t len;
		uint32_t extra;
	} item[USER_V_ENTRIES] = { { 0 } };
	item[0].p = sd.p;
	item[0].len = sd.len;
	item[0].extra = 0x00010002; /* as every V's descriptor entry has */
	item[1].p = uname;
	item[1].len = nlen - 2; /* no terminating NUL */
	item[11].p = hours;
	item[11].len = sizeof(hours);
	item[12].p = groups;
	item[12].len = sizeof(groups);
	item[12].extra = 1; /* one group */
	for (unsigned i = 13; i <= 16; i++) {
		item[i].p = hash_hdr;
		item[i].len = hash_len;
	}
	struct buf data = { 0 };
	static const uint8_t pad[4];
	for (unsigned i = 0; i < USER_V_ENTRIES; i++) {
		put32(out, (uint32_t)data.len);
		put32(out, (uint32_t)item[i].len);
		put32(out, item[i].extra);
		put(&data, item[i].p, item[i].len);
		put(&data, pad, (4 - item[i].len % 4) % 4);
	}
	put(out, data.p, data.len);
	free(data.p);
	free(uname);
	free(sd.p);
	return out->oom || data.oom ? -1 : 0;
}

static void
user_f(uint8_t f[USER_F_LEN], uint32_t rid, uint16_t acb, uint64_t now)
{
	memset(f, 0, USER_F_LEN);
	f[0] = 2; /* revision 2.1, as Windows 10 writes */
	f[2] = 1;
	/* 0x08 last logon, 0x10 last logoff, 0x28 last bad password: never (0). */
	fmt_put_le32(f + 0x18, (uint32_t)now); /* password last set: now (0 would force a change) */
	fmt_put_le32(f + 0x1C, (uint32_t)(now >> 32));
	fmt_put_le32(f + 0x20, 0xFFFFFFFFu); /* account expires: never */
	fmt_put_le32(f + 0x24, 0x7FFFFFFFu);
	fmt_put_le32(f + 0x30, rid);
	fmt_put_le32(f + 0x34, RID_NONE_GROUP);
	fmt_put_le16(f + 0x38, (uint16_t)acb);
}

/* SAM account names: 1-20 characters, none of " / \ [ ] : ; | = , + * ? < > @,
 * no control characters, not only dots and spaces. */
static bool
valid_name(const char *name)
{
	size_t chars = 0;
	bool only_dots = true;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7F || strchr("\"/\\[]:;|=,+*?<>@", *p))
			return false;
		if ((*p & 0xC0) != 0x80)
			chars++;
		if (*p != '.' && *p != ' ')
			only_dots = false;
	}
	return chars >= 1 && chars <= 20 && !only_dots;
}

static int
fail(reg_hive *h, int err, const char *fmt, const char *arg)
{
	reg_seterr(h, fmt, arg);
	return err;
}

/* Parse an alias C value; on success the members region is [*moff, *moff + *mlen)
 * relative to the data base 0x34, holding *count SIDs. */
static bool
alias_members(const struct reg_value *c, uint32_t *moff, uint32_t *mlen, uint32_t *count)
{
	if (c->len < 0x34)
		return false;
	for (unsigned e = 0; e < 4; e++) {
		uint32_t off = fmt_le32(c->data + 0x04 + 12 * e), len = fmt_le32(c->data + 0x08 + 12 * e);
		if (off > c->len - 0x34 || len > c->len - 0x34 - off)
			return false;
	}
	*moff = fmt_le32(c->data + 0x28);
	*mlen = fmt_le32(c->data + 0x2C);
	*count = fmt_le32(c->data + 0x30);
	uint32_t at = 0;
	for (uint32_t i = 0; i < *count; i++) {
		const uint8_t *s = c->data + 0x34 + *moff + at;
		size_t sl = fmt_sid_len(s, *mlen - at);
		if (!sl)
			return false;
		at += (uint32_t)sl;
	}
	return at == *mlen;
}

static bool
alias_has(const struct reg_value *c, uint32_t moff, uint32_t mlen, const uint8_t *sid, size_t sl)
{
	/* The members were checked by alias_members: each is a whole SID. */
	for (uint32_t at = 0; at < mlen;) {
		const uint8_t *member = c->data + 0x34 + moff + at;
		size_t ml = fmt_sid_len(member, mlen - at);
		if (ml == sl && !memcmp(member, sid, sl))
			return true;
		at += (uint32_t)ml;
	}
	return false;
}

/* A copy of C with @sid appended to the members (later data moves up). */
static uint8_t *
alias_add(const struct reg_value *c, uint32_t moff, uint32_t mlen, uint32_t count,
	  const uint8_t *sid, size_t sl, size_t *out_len)
{
	size_t at = 0x34 + (size_t)moff + mlen;
	uint8_t *n = malloc(c->len + sl);
	if (!n)
		return NULL;
	memcpy(n, c->data, at);
	memcpy(n + at, sid, sl);
	memcpy(n + at + sl, c->data + at, c->len - at);
	for (unsigned e = 0; e < 3; e++) {
		uint32_t off = fmt_le32(n + 0x04 + 12 * e);
		if (off >= moff + mlen && fmt_le32(n + 0x08 + 12 * e))
			fmt_put_le32(n + 0x04 + 12 * e, off + (uint32_t)sl);
	}
	fmt_put_le32(n + 0x2C, mlen + (uint32_t)sl);
	fmt_put_le32(n + 0x30, count + 1);
	*out_len = c->len + sl;
	return n;
}

int
reg_sam_create_user(reg_hive *h, const struct reg_sam_new_user *u, struct reg_sam_created *out)
{
	struct reg_value af = { 0 }, av = { 0 }, alias = { 0 }, guest = { 0 };
	reg_key *kids = NULL;
	struct buf v = { 0 };
	uint8_t *newc = NULL;
	int e;

	memset(out, 0, sizeof(*out));
	if (!(h->flags & REG_HIVE_OPEN_WRITE))
		return fail(h, REG_ERDONLY, "%s: the SAM hive is open read-only", h->src_path);
	if (!u->name || !valid_name(u->name))
		return fail(h, REG_EINVAL,
			    "\"%s\" cannot be a local account name (1 to 20 characters, none of "
			    "\" / \\ [ ] : ; | = , + * ? < > @)", u->name ? u->name : "");
	if (u->password && *u->password)
		return fail(h, REG_EINVAL,
			    "a password cannot be set offline for %s: the SAM stores it encrypted with a "
			    "key derived from the SYSTEM hive's boot key (RC4 or AES-128-CBC over an MD4 "
			    "hash), which winstate does not implement; create the account without a "
			    "password and set one after the first start", u->name);

	/* Read and check everything first: a refusal changes nothing. */
	e = reg_hive_get_value(h, ACCOUNT, "F", &af);
	if (e || af.len < 0x50) {
		e = e == REG_ENOMEM ? e : REG_EFORMAT;
		reg_seterr(h, "the SAM has no usable " ACCOUNT "\\F (the account domain's record%s): "
			   "it is damaged or not a SAM, and no account is created",
			   af.data ? " is too short" : " is missing");
		goto out;
	}
	e = reg_hive_get_value(h, ACCOUNT, "V", &av);
	const uint8_t *dsid = av.len >= 24 ? av.data + av.len - 24 : NULL;
	if (e || !dsid || dsid[0] != 1 || dsid[1] != 4 || dsid[7] != 5 || fmt_le32(dsid + 8) != 21) {
		e = e == REG_ENOMEM ? e : REG_EFORMAT;
		reg_seterr(h, "the SAM's " ACCOUNT "\\V does not end with the machine SID "
			   "(S-1-5-21-x-y-z): it is damaged, and no account is created");
		goto out;
	}
	reg_key users, names;
	if ((e = reg_key_open(h, USERS, &users)) || (e = reg_key_open(h, NAMES, &names))) {
		e = REG_EFORMAT;
		reg_seterr(h, "the SAM has no " NAMES " key: it is damaged, and no account is created");
		goto out;
	}
	size_t n;
	if ((e = reg_key_subkeys(h, names, &kids, &n)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		char *kn = reg_key_name(h, kids[i]);
		bool same = kn && reg_strcaseeq(kn, u->name);
		free(kn);
		if (same) {
			e = REG_EINVAL;
			reg_seterr(h, "the target already has a local account named %s", u->name);
			goto out;
		}
	}
	free(kids);
	kids = NULL;
	/* The RID: the domain's next one, past every user key there is. */
	uint32_t rid = fmt_le32(af.data + 0x48), nusers = 0;
	if (rid < FIRST_USER_RID)
		rid = FIRST_USER_RID;
	if ((e = reg_key_subkeys(h, users, &kids, &n)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		char *kn = reg_key_name(h, kids[i]), *end = NULL;
		unsigned long r = kn ? strtoul(kn, &end, 16) : 0;
		if (kn && strlen(kn) == 8 && end && !*end) {
			nusers++;
			if (r >= rid && r < 0xFFFFFFFFul)
				rid = (uint32_t)r + 1;
		}
		free(kn);
	}
	free(kids);
	kids = NULL;
	if (rid >= 0x7FFFFFFFu) {
		e = REG_EFORMAT;
		reg_seterr(h, "the SAM's next RID is out of range: no account is created");
		goto out;
	}
	uint8_t sid[28];
	memcpy(sid, dsid, 24);
	sid[1] = 5;
	fmt_put_le32(sid + 24, rid);

	/* The hash entries say "no hash": a 4-byte header as Guest's when the
	 * domain uses RC4 (revision 1, Guest's entry is exactly that header),
	 * else empty entries (what a cleared password leaves). */
	uint8_t hash_hdr[4] = { 0 };
	size_t hash_len = 0;
	if (af.len >= 0x6C && fmt_le32(af.data + 0x68) == 1 &&
	    !reg_hive_get_value(h, USERS "\\000001F5", "V", &guest) && guest.len >= USER_V_HEADER) {
		uint32_t off = fmt_le32(guest.data + 12 * 14), len = fmt_le32(guest.data + 12 * 14 + 4);
		if (len == 4 && off <= guest.len - USER_V_HEADER - 4 && guest.data[USER_V_HEADER + off + 2] == 1) {
			memcpy(hash_hdr, guest.data + USER_V_HEADER + off, 4);
			hash_len = 4;
		}
	}

	/* The Users alias, when the SAM has it (a real one does). */
	uint32_t moff = 0, mlen = 0, mcount = 0;
	bool have_alias = false;
	e = reg_hive_get_value(h, USERS_ALIAS, "C", &alias);
	if (!e) {
		if (!alias_members(&alias, &moff, &mlen, &mcount)) {
			e = REG_EFORMAT;
			reg_seterr(h, "the SAM's Users alias (" USERS_ALIAS "\\C) is damaged: no account "
				   "is created");
			goto out;
		}
		have_alias = true;
	} else if (e != REG_ENOTFOUND) {
		goto out;
	}
	e = REG_ENOMEM;
	uint16_t acb = ACB_NORMAL | ACB_PWNOTREQ | (u->enabled ? 0 : ACB_DISABLED);
	uint8_t f[USER_F_LEN];
	user_f(f, rid, acb, u->now);
	if (user_v(sid, u->name, hash_hdr, hash_len, &v) < 0)
		goto out;
	size_t newc_len = 0;
	if (have_alias && !alias_has(&alias, moff, mlen, sid, sizeof(sid)) &&
	    !(newc = alias_add(&alias, moff, mlen, mcount, sid, sizeof(sid), &newc_len)))
		goto out;

	/* Changes. */
	char path[256];
	reg_key k;
	snprintf(path, sizeof(path), USERS "\\%08X", rid);
	if ((e = reg_key_create(h, path, &k)) || (e = reg_key_set_value(h, k, "F", REG_BINARY, f, sizeof(f))) ||
	    (e = reg_key_set_value(h, k, "V", REG_BINARY, v.p, v.len)))
		goto out;
	char *npath = reg_asprintf(NAMES "\\%s", u->name);
	e = npath ? reg_key_create(h, npath, &k) : REG_ENOMEM;
	free(npath);
	if (e || (e = reg_key_set_value(h, k, "", rid, NULL, 0)))
		goto out;
	/* Users' default value's type counts the accounts (when Windows put it there). */
	struct reg_value ud = { 0 };
	if (!reg_key_get_value(h, users, "", &ud)) {
		e = reg_key_set_value(h, users, "", nusers + 1, ud.data, ud.len);
		reg_value_clear(&ud);
		if (e)
			goto out;
	}
	uint8_t *nf = malloc(af.len);
	if (!nf) {
		e = REG_ENOMEM;
		goto out;
	}
	memcpy(nf, af.data, af.len);
	fmt_put_le32(nf + 0x48, rid + 1);
	reg_key acct;
	e = reg_key_open(h, ACCOUNT, &acct);
	if (!e)
		e = reg_key_set_value(h, acct, "F", af.type, nf, af.len);
	free(nf);
	if (e)
		goto out;
	if (newc) {
		reg_key ak, mk;
		if ((e = reg_key_open(h, USERS_ALIAS, &ak)) ||
		    (e = reg_key_set_value(h, ak, "C", alias.type, newc, newc_len)))
			goto out;
		char *dom = fmt_sid_to_string(dsid, 24);
		char *mpath = dom ? reg_asprintf(ALIAS_MEMBERS "\\%s", dom) : NULL;
		char *rpath = dom ? reg_asprintf(ALIAS_MEMBERS "\\%s\\%08X", dom, rid) : NULL;
		free(dom);
		reg_key rkey;
		uint8_t one[4];
		fmt_put_le32(one, RID_USERS_ALIAS);
		e = mpath && rpath ? reg_key_create(h, rpath, &rkey) : REG_ENOMEM;
		if (!e)
			e = reg_key_open(h, mpath, &mk);
		free(mpath);
		free(rpath);
		/* The default value's type is how many aliases, its data their RIDs. */
		if (e || (e = reg_key_set_value(h, rkey, "", 1, one, 4)))
			goto out;
		/* The domain key's default value's type counts its members. */
		reg_key *mk_kids = NULL;
		size_t mn = 0;
		if ((e = reg_key_subkeys(h, mk, &mk_kids, &mn)))
			goto out;
		free(mk_kids);
		if ((e = reg_key_set_value(h, mk, "", (uint32_t)mn, NULL, 0)))
			goto out;
		out->in_users_alias = 1;
	}
	out->rid = rid;
	char *s = fmt_sid_to_string(sid, sizeof(sid));
	if (s)
		snprintf(out->sid, sizeof(out->sid), "%s", s);
	free(s);
	e = s ? REG_OK : REG_ENOMEM;
out:
	if (e == REG_ENOMEM)
		reg_seterr(h, "out of memory");
	free(kids);
	free(v.p);
	free(newc);
	reg_value_clear(&af);
	reg_value_clear(&av);
	reg_value_clear(&alias);
	reg_value_clear(&guest);
	return e;
}
