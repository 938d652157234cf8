// SPDX-License-Identifier: GPL-2.0
/*
 * Key generation and the state directory. WireGuard keys come from
 * OpenSSL's X25519 (EVP_PKEY_X25519), which produces exactly the clamped
 * 32-byte Curve25519 keys WireGuard expects.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "keys.h"
#include "log.h"

int wgkey_generate(uint8_t priv[WG_KEY_LEN])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
	EVP_PKEY *pkey = NULL;
	size_t len = WG_KEY_LEN;
	int ret = -1;

	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_keygen(ctx, &pkey) <= 0)
		goto out;
	if (EVP_PKEY_get_raw_private_key(pkey, priv, &len) <= 0 ||
	    len != WG_KEY_LEN)
		goto out;
	ret = 0;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	if (ret)
		log_err("X25519 key generation failed");
	return ret;
}

int wgkey_public(const uint8_t priv[WG_KEY_LEN], uint8_t pub[WG_KEY_LEN])
{
	EVP_PKEY *pkey;
	size_t len = WG_KEY_LEN;
	int ret = -1;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
					    WG_KEY_LEN);
	if (!pkey)
		return -1;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) > 0 &&
	    len == WG_KEY_LEN)
		ret = 0;
	EVP_PKEY_free(pkey);
	return ret;
}

void wgkey_to_b64(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_B64_LEN])
{
	EVP_EncodeBlock((unsigned char *)out, key, WG_KEY_LEN);
}

int wgkey_from_b64(const char *s, uint8_t key[WG_KEY_LEN])
{
	unsigned char buf[48];
	size_t n = strcspn(s, "\r\n");

	/* 32 bytes are 44 characters ending in exactly one '=' */
	if (n != 44 || s[42] == '=' || s[43] != '=')
		return -1;
	if (EVP_DecodeBlock(buf, (const unsigned char *)s, 44) != 33)
		return -1;
	memcpy(key, buf, WG_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int state_dir_prepare(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		log_err("cannot create state dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		log_err("state dir %s is not a directory", dir);
		return -1;
	}
	/* keys live here: nobody else may read or list them */
	if ((st.st_mode & 0777) != 0700 && chmod(dir, 0700)) {
		log_err("chmod 0700 %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int state_write_file(const char *dir, const char *name, const void *buf,
		     size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	const char *p = buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto err;
	if (fchmod(fd, 0600))
		goto err_close;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto err_close;
		p += n;
		len -= n;
	}
	/* rename only after the data is on disk: a crash leaves old or new */
	if (fsync(fd))
		goto err_close;
	if (close(fd))
		goto err_unlink;
	if (rename(tmp, path))
		goto err_unlink;
	return 0;
err_close:
	close(fd);
err_unlink:
	unlink(tmp);
err:
	log_err("cannot write %s: %s", path, strerror(errno));
	return -1;
}

int state_read_file(const char *dir, const char *name, char **buf,
		    size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	char *b;
	int fd;
	ssize_t n;
	size_t off = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size > 64 << 20) {
		close(fd);
		return -EFBIG;
	}
	b = malloc(st.st_size + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, b + off, st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	b[off] = 0;
	*buf = b;
	if (len)
		*len = off;
	return 0;
}

int state_file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

int wgkey_store(const char *dir, const char *name,
		const uint8_t priv[WG_KEY_LEN])
{
	char b64[WG_KEY_B64_LEN + 1];
	int ret;

	wgkey_to_b64(priv, b64);
	strcat(b64, "\n");
	ret = state_write_file(dir, name, b64, strlen(b64));
	OPENSSL_cleanse(b64, sizeof(b64));
	return ret;
}

int wgkey_load_or_create(const char *dir, uint8_t priv[WG_KEY_LEN])
{
	char *buf;
	int ret;

	ret = state_read_file(dir, "wg.key", &buf, NULL);
	if (!ret) {
		ret = wgkey_from_b64(buf, priv);
		OPENSSL_cleanse(buf, strlen(buf));
		free(buf);
		if (ret)
			log_err("%s/wg.key: not a base64 WireGuard key", dir);
		return ret;
	}
	if (ret != -ENOENT) {
		log_err("%s/wg.key: %s", dir, strerror(-ret));
		return -1;
	}
	if (wgkey_generate(priv) || wgkey_store(dir, "wg.key", priv))
		return -1;
	log_info("generated a new WireGuard key in %s/wg.key", dir);
	return 0;
}
