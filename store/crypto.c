/*
 * Encryption of compressed stores, with libsodium.
 *
 * Every frame (and the catalog) is sealed on its own with
 * XChaCha20-Poly1305-IETF: a random 24-byte nonce, the ciphertext, a 16-byte
 * tag.  The associated data binds each frame to its store (16-byte random
 * store id) and to its place (frame number), so frames cannot be swapped,
 * moved between stores or replayed, and one file can be extracted without
 * decrypting the rest.  Per-frame sealing also lets the writer drop the
 * frames of a duplicate it only recognised at the end (see packstore.c),
 * which a single secretstream could not.
 *
 * The key is either 32 raw bytes (a key file) or derived from a passphrase
 * with Argon2id (crypto_pwhash), the salt and limits stored in the header.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"

enum st_status
crypto_init(void)
{
	if (sodium_init() < 0)
		return st_fail(ST_ERR_IO, "libsodium could not be initialised");
	return ST_OK;
}

enum st_status
st_key_from_file(const char *path, struct st_key *key)
{
	uint8_t data[130];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return st_fail_errno(ST_ERR_IO, "cannot open key file %s", path);
	n = read(fd, data, sizeof(data));
	close(fd);
	if (n < 0)
		return st_fail_errno(ST_ERR_IO, "cannot read key file %s", path);
	memset(key, 0, sizeof(*key));
	key->kind = ST_KEY_RAW;
	if (n == 32) {
		memcpy(key->raw, data, 32);
		sodium_memzero(data, sizeof(data));
		return ST_OK;
	}
	size_t len = (size_t)n;
	while (len && isspace(data[len - 1]))
		len--;
	size_t bin_len = 0;
	if (len == 64 && sodium_hex2bin(key->raw, 32, (const char *)data, len, NULL, &bin_len,
					NULL) == 0 && bin_len == 32) {
		sodium_memzero(data, sizeof(data));
		return ST_OK;
	}
	sodium_memzero(data, sizeof(data));
	memset(key, 0, sizeof(*key));
	return st_fail(ST_ERR_KEY, "key file %s holds neither 32 bytes nor 64 hex digits", path);
}

enum st_status
crypto_derive(const struct st_key *key, const uint8_t salt[16], unsigned long long ops,
	      size_t mem, uint8_t out[32])
{
	if (key->kind == ST_KEY_RAW) {
		memcpy(out, key->raw, 32);
		return ST_OK;
	}
	if (key->kind != ST_KEY_PASSPHRASE || !key->passphrase)
		return st_fail(ST_ERR_KEY, "no key was given");
	if (crypto_pwhash(out, 32, key->passphrase, strlen(key->passphrase), salt, ops, mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return st_fail(ST_ERR_NOMEM, "Argon2id needs %zu MiB of memory, which could not be "
			       "allocated", mem >> 20);
	return ST_OK;
}

void
crypto_seal(const uint8_t key[32], const uint8_t *ad, size_t adlen, const uint8_t *in,
	    size_t len, uint8_t *out)
{
	uint8_t *nonce = out;
	randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
						   NULL, in, len, ad, adlen, NULL, nonce, key);
}

int
crypto_open(const uint8_t key[32], const uint8_t *ad, size_t adlen, const uint8_t *in,
	    size_t len, uint8_t *out)
{
	if (len < ST_SEAL_OVERHEAD)
		return -1;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(
		out, NULL, NULL, in + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
		len - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad, adlen, in, key);
}

void
frame_ad(uint8_t ad[24], const uint8_t *store_id, uint64_t index)
{
	memcpy(ad, store_id, 16);
	fmt_put_le64(ad + 16, index);
}
