// SPDX-License-Identifier: GPL-2.0
/*
 * nbmgmt's own certificate authority: created once by `init`, it signs the
 * server certificate and one client certificate per enrolled node.
 * Keys are EC P-256, signatures SHA-256.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "nbmgmt.h"
#include "proto/tls.h"

#define CA_DAYS		(20 * 365)
#define CERT_DAYS	(10 * 365)

struct ca {
	EVP_PKEY *key;
	X509 *cert;
	char *pem;
};

static void ossl_log(const char *what)
{
	unsigned long e = ERR_get_error();

	err("%s: %s", what, e ? ERR_reason_error_string(e) : "failed");
	ERR_clear_error();
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

/* A new certificate with a random serial, subject CN = cn, validity days. */
static X509 *cert_new(const char *cn, EVP_PKEY *pub, int days)
{
	X509 *c = X509_new();
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = BN_new();

	if (!c || !bn || !BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
		goto fail;
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	if (!serial || !X509_set_version(c, 2) ||
	    !X509_set_serialNumber(c, serial) ||
	    !X509_gmtime_adj(X509_getm_notBefore(c), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c), (long)days * 86400) ||
	    !X509_set_pubkey(c, pub) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN",
					MBSTRING_ASC, (const unsigned char *)cn,
					-1, -1, 0))
		goto fail;
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return c;
fail:
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_free(c);
	return NULL;
}

static int write_key(const char *path, EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, e[512];
	long n;
	int r = -1;

	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
		n = BIO_get_mem_data(b, &data);
		r = nbw_write_file(path, data, (size_t)n, 0600, e, sizeof(e));
		if (r)
			err("%s", e);
	}
	BIO_free(b);
	return r;
}

static char *cert_pem(X509 *c)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long n;

	if (b && PEM_write_bio_X509(b, c)) {
		n = BIO_get_mem_data(b, &data);
		s = strndup(data, (size_t)n);
	}
	BIO_free(b);
	return s;
}

static int write_cert(const char *path, X509 *c)
{
	char *pem = cert_pem(c), e[512];
	int r = -1;

	if (pem) {
		r = nbw_write_file(path, pem, strlen(pem), 0644, e, sizeof(e));
		if (r)
			err("%s", e);
	}
	free(pem);
	return r;
}

int ca_create(const struct paths *p, char **hosts, int n_hosts)
{
	EVP_PKEY *cakey = EVP_EC_gen("P-256"), *skey = EVP_EC_gen("P-256");
	X509 *ca = NULL, *srv = NULL;
	char san[4096] = "", item[300];
	unsigned char tmp[16];
	int i, r = -1;

	if (!cakey || !skey)
		goto ossl;
	ca = cert_new("nbguard CA", cakey, CA_DAYS);
	if (!ca || !X509_set_issuer_name(ca, X509_get_subject_name(ca)) ||
	    add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext(ca, ca, NID_subject_key_identifier, "hash") ||
	    !X509_sign(ca, cakey, EVP_sha256()))
		goto ossl;

	/* Server certificate: every host name and address it is reached by. */
	for (i = 0; i < n_hosts; i++) {
		bool ip = inet_pton(AF_INET, hosts[i], tmp) == 1 ||
			  inet_pton(AF_INET6, hosts[i], tmp) == 1;

		snprintf(item, sizeof(item), "%s%s:%s", san[0] ? "," : "",
			 ip ? "IP" : "DNS", hosts[i]);
		if (strlen(san) + strlen(item) >= sizeof(san)) {
			err("too many host names");
			goto out;
		}
		strcat(san, item);
	}
	srv = cert_new(hosts[0], skey, CERT_DAYS);
	if (!srv || !X509_set_issuer_name(srv, X509_get_subject_name(ca)) ||
	    add_ext(srv, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(srv, ca, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(srv, ca, NID_ext_key_usage, "serverAuth") ||
	    add_ext(srv, ca, NID_subject_alt_name, san) ||
	    add_ext(srv, ca, NID_authority_key_identifier, "keyid:always") ||
	    !X509_sign(srv, cakey, EVP_sha256()))
		goto ossl;
	if (write_key(p->ca_key, cakey) || write_cert(p->ca_crt, ca) ||
	    write_key(p->srv_key, skey) || write_cert(p->srv_crt, srv))
		goto out;
	r = 0;
	goto out;
ossl:
	ossl_log("creating certificates");
out:
	X509_free(ca);
	X509_free(srv);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(skey);
	return r;
}

struct ca *ca_load(const struct paths *p)
{
	struct ca *ca = calloc(1, sizeof(*ca));
	FILE *f;

	if (!ca)
		return NULL;
	f = fopen(p->ca_key, "re");
	if (f) {
		ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	f = fopen(p->ca_crt, "re");
	if (f) {
		ca->cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!ca->key || !ca->cert || !X509_check_private_key(ca->cert, ca->key)) {
		err("cannot load the CA from %s and %s (run `" PROG " init`?)",
		    p->ca_crt, p->ca_key);
		ERR_clear_error();
		ca_free(ca);
		return NULL;
	}
	ca->pem = cert_pem(ca->cert);
	if (!ca->pem) {
		ca_free(ca);
		return NULL;
	}
	return ca;
}

void ca_free(struct ca *ca)
{
	if (!ca)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->pem);
	free(ca);
}

const char *ca_cert_pem(const struct ca *ca)
{
	return ca->pem;
}

char *ca_sign_csr(struct ca *ca, const char *csr_pem, const char *name,
		  char fp[65], char *errbuf, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(csr_pem, -1);
	X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pub = req ? X509_REQ_get0_pubkey(req) : NULL;
	X509 *c = NULL;
	char *pem = NULL;

	if (!req || !pub) {
		snprintf(errbuf, errlen, "CSR is not a PEM certificate request");
		goto out;
	}
	if (X509_REQ_verify(req, pub) != 1) {
		snprintf(errbuf, errlen, "CSR signature does not verify");
		goto out;
	}
	/* Weak node keys would make the mutual TLS worth little. */
	if ((EVP_PKEY_is_a(pub, "RSA") && EVP_PKEY_get_bits(pub) < 2048) ||
	    (EVP_PKEY_is_a(pub, "EC") && EVP_PKEY_get_bits(pub) < 256) ||
	    !(EVP_PKEY_is_a(pub, "RSA") || EVP_PKEY_is_a(pub, "EC") ||
	      EVP_PKEY_is_a(pub, "ED25519"))) {
		snprintf(errbuf, errlen, "CSR key must be EC P-256 or stronger,"
			 " Ed25519, or RSA >= 2048 bits");
		goto out;
	}
	/* The subject the node asked for is ignored: CN is the node name. */
	c = cert_new(name, pub, CERT_DAYS);
	if (!c || !X509_set_issuer_name(c, X509_get_subject_name(ca->cert)) ||
	    add_ext(c, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(c, ca->cert, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(c, ca->cert, NID_ext_key_usage, "clientAuth") ||
	    add_ext(c, ca->cert, NID_authority_key_identifier, "keyid:always") ||
	    !X509_sign(c, ca->key, EVP_sha256()) ||
	    nbw_cert_fingerprint(c, fp)) {
		snprintf(errbuf, errlen, "signing the certificate failed");
		goto out;
	}
	pem = cert_pem(c);
	if (!pem)
		snprintf(errbuf, errlen, "out of memory");
out:
	ERR_clear_error();
	X509_free(c);
	X509_REQ_free(req);
	BIO_free(b);
	return pem;
}
