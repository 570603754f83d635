/*
 * A new, empty hive written from nothing: hivex can change a hive but not
 * make one, and a profile created offline needs a UsrClass.dat that Windows
 * would otherwise make at first sign-in.
 *
 * The file is the smallest one Windows and hivex accept: a 4 KiB base block
 * ("regf", equal sequence numbers = clean, version 1.5, the root cell's
 * offset, the bins' length, the XOR checksum at 0x1FC) and one 4 KiB bin
 * holding the root key ("nk", flagged as the hive's entry, name stored as
 * ASCII), its security cell ("sk", a ring of one) and a free cell filling the
 * rest.  Offsets inside the hive count from the first bin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/reg_internal.h"

#define BASE_BLOCK 4096u
#define BIN_SIZE 4096u
#define BIN_HEADER 0x20u
#define NO_CELL 0xFFFFFFFFu

#define NK_HIVE_ENTRY 0x0004u
#define NK_NO_DELETE 0x0008u
#define NK_ASCII_NAME 0x0020u

static uint32_t
cell_size(size_t data)
{
	return (uint32_t)((data + 4 + 7) & ~(size_t)7); /* size field included, 8-aligned */
}

/*
 * The key security Windows gives a user's Classes root: owner the user,
 * group SYSTEM, protected DACL with full control (KEY_ALL_ACCESS) for the
 * user, SYSTEM and Administrators and read for RESTRICTED, inherited by
 * subkeys (CONTAINER_INHERIT).
 */
static int
key_security(const uint8_t *user, uint8_t **sd, size_t *sd_len)
{
	static const uint8_t system[] = { 1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0 };
	static const uint8_t admins[] = { 1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0 };
	static const uint8_t restricted[] = { 1, 1, 0, 0, 0, 0, 0, 5, 12, 0, 0, 0 };
	const uint32_t all = 0x000F003Fu, read = 0x00020019u;
	const uint8_t ci = FMT_ACE_CONTAINER_INHERIT;
	const struct fmt_sd_allow aces[] = {
		{ ci, all, user }, { ci, all, system }, { ci, all, admins }, { ci, read, restricted },
	};
	return fmt_sd_build(FMT_SE_DACL_PROTECTED, user, system, aces, sizeof(aces) / sizeof(aces[0]),
			    sd, sd_len);
}

int
reg_hive_create_empty(const char *out_path, const char *root_name, const char *owner_sid,
		     uint64_t filetime, char *msg, size_t msgsz)
{
	uint8_t user[FMT_SID_MAX];
	size_t user_len, name_len = root_name ? strlen(root_name) : 0;

	if (msg && msgsz)
		msg[0] = '\0';
	if (!out_path || !name_len || name_len > 255 ||
	    fmt_sid_from_string(owner_sid, user, sizeof(user), &user_len) != 0) {
		if (msg && msgsz)
			snprintf(msg, msgsz, "a new hive needs a file, a root key name of 1-255 "
				 "characters and its owner's SID");
		return REG_EINVAL;
	}
	for (size_t i = 0; i < name_len; i++)
		if ((unsigned char)root_name[i] < 0x20 || (unsigned char)root_name[i] > 0x7E ||
		    root_name[i] == '\\') {
			if (msg && msgsz)
				snprintf(msg, msgsz, "the root key name \"%s\" must be printable "
					 "ASCII without a backslash", root_name);
			return REG_EINVAL;
		}

	uint8_t *f = calloc(1, BASE_BLOCK + BIN_SIZE);
	if (!f)
		return REG_ENOMEM;
	uint8_t *bin = f + BASE_BLOCK;
	uint32_t nk = BIN_HEADER;                          /* root key cell */
	uint32_t nk_size = cell_size(0x4C + name_len);
	uint32_t sk = nk + nk_size;                        /* its security cell */
	uint8_t *sd;
	size_t sd_len;
	if (key_security(user, &sd, &sd_len) < 0) {
		free(f);
		return REG_ENOMEM;
	}
	uint32_t sk_size = cell_size(0x14 + sd_len);
	uint32_t free_cell = sk + sk_size;

	/* Base block. */
	memcpy(f, "regf", 4);
	fmt_put_le32(f + 0x04, 1);             /* primary sequence */
	fmt_put_le32(f + 0x08, 1);             /* secondary sequence: equal, the hive is clean */
	fmt_put_le64(f + 0x0C, filetime);
	fmt_put_le32(f + 0x14, 1);             /* major version */
	fmt_put_le32(f + 0x18, 5);             /* minor version */
	fmt_put_le32(f + 0x1C, 0);             /* primary file */
	fmt_put_le32(f + 0x20, 1);             /* direct memory load format */
	fmt_put_le32(f + 0x24, nk);
	fmt_put_le32(f + 0x28, BIN_SIZE);
	fmt_put_le32(f + 0x2C, 1);             /* clustering factor */
	static const char file_name[] = "\\UsrClass.dat";
	for (size_t i = 0; i < sizeof(file_name) - 1; i++)
		fmt_put_le16(f + 0x30 + 2 * i, (uint16_t)file_name[i]);
	fmt_put_le32(f + 0x1FC, reg_regf_checksum(f));

	/* The bin. */
	memcpy(bin, "hbin", 4);
	fmt_put_le32(bin + 0x04, 0);           /* its offset from the first bin */
	fmt_put_le32(bin + 0x08, BIN_SIZE);
	fmt_put_le64(bin + 0x14, filetime);

	uint8_t *c = bin + nk;
	fmt_put_le32(c, (uint32_t)-(int32_t)nk_size); /* negative size: allocated */
	c += 4;
	memcpy(c, "nk", 2);
	fmt_put_le16(c + 0x02, NK_HIVE_ENTRY | NK_NO_DELETE | NK_ASCII_NAME);
	fmt_put_le64(c + 0x04, filetime);
	fmt_put_le32(c + 0x10, NO_CELL);       /* parent: none */
	fmt_put_le32(c + 0x1C, NO_CELL);       /* subkey list */
	fmt_put_le32(c + 0x20, NO_CELL);       /* volatile subkey list */
	fmt_put_le32(c + 0x28, NO_CELL);       /* value list */
	fmt_put_le32(c + 0x2C, sk);
	fmt_put_le32(c + 0x30, NO_CELL);       /* class name */
	fmt_put_le16(c + 0x48, (uint16_t)name_len);
	memcpy(c + 0x4C, root_name, name_len);

	c = bin + sk;
	fmt_put_le32(c, (uint32_t)-(int32_t)sk_size);
	c += 4;
	memcpy(c, "sk", 2);
	fmt_put_le32(c + 0x04, sk);            /* the ring of security cells: just this one */
	fmt_put_le32(c + 0x08, sk);
	fmt_put_le32(c + 0x0C, 1);             /* one key uses it */
	fmt_put_le32(c + 0x10, (uint32_t)sd_len);
	memcpy(c + 0x14, sd, sd_len);
	free(sd);

	fmt_put_le32(bin + free_cell, BIN_SIZE - free_cell); /* positive size: free */

	int e = reg_write_file(out_path, f, BASE_BLOCK + BIN_SIZE);
	free(f);
	if (e && msg && msgsz)
		snprintf(msg, msgsz, "cannot write the new hive %s", out_path);
	return e ? REG_EIO : REG_OK;
}
