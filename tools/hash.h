/* MD5 (RFC 1321) and SHA-256 (FIPS 180-4) for `sbp data verify`: small,
 * streaming, dependency-free. MD5 is used only to compare files with the
 * published MNIST checksums, never for anything security-related. */
#ifndef SBP_TOOL_HASH_H
#define SBP_TOOL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SBP_MD5_SIZE 16
#define SBP_SHA256_SIZE 32

typedef struct sbp_tool_md5 {
    uint32_t state[4];
    uint64_t length;          /* bytes hashed so far */
    unsigned char block[64];
    size_t used;              /* bytes waiting in block */
} sbp_tool_md5;

typedef struct sbp_tool_sha256 {
    uint32_t state[8];
    uint64_t length;
    unsigned char block[64];
    size_t used;
} sbp_tool_sha256;

void sbp_tool_md5_init(sbp_tool_md5 *h);
void sbp_tool_md5_update(sbp_tool_md5 *h, const void *data, size_t len);
void sbp_tool_md5_final(sbp_tool_md5 *h, unsigned char out[SBP_MD5_SIZE]);

void sbp_tool_sha256_init(sbp_tool_sha256 *h);
void sbp_tool_sha256_update(sbp_tool_sha256 *h, const void *data, size_t len);
void sbp_tool_sha256_final(sbp_tool_sha256 *h, unsigned char out[SBP_SHA256_SIZE]);

/* Lower-case hex of n bytes into out (2n+1 chars, NUL-terminated). */
void sbp_tool_hex(const unsigned char *bytes, size_t n, char *out);

#endif
