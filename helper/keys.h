/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NBH_KEYS_H
#define NBH_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define WG_KEY_LEN	32
#define WG_KEY_B64_LEN	45	/* 44 characters + NUL */

/* WireGuard keys are raw X25519 keys: 32 bytes, base64 for humans. */
int wgkey_generate(uint8_t priv[WG_KEY_LEN]);
int wgkey_public(const uint8_t priv[WG_KEY_LEN], uint8_t pub[WG_KEY_LEN]);
void wgkey_to_b64(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_B64_LEN]);
int wgkey_from_b64(const char *s, uint8_t key[WG_KEY_LEN]);

/* The state directory: created 0700; files in it written 0600, atomically. */
int state_dir_prepare(const char *dir);
int state_write_file(const char *dir, const char *name, const void *buf,
		     size_t len);
/* Reads a whole file (NUL-terminated for convenience); *len excludes it. */
int state_read_file(const char *dir, const char *name, char **buf,
		    size_t *len);
int state_file_exists(const char *dir, const char *name);

/* The WireGuard private key in <dir>/wg.key (base64), created if absent. */
int wgkey_load_or_create(const char *dir, uint8_t priv[WG_KEY_LEN]);
int wgkey_store(const char *dir, const char *name,
		const uint8_t priv[WG_KEY_LEN]);

#endif
