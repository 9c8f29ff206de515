/* Fuzz target: model files from memory (sbp_net_load_mem, lib/io.c;
 * format in docs/file-format.md).
 *
 * Input layout:
 *   byte 0   flags: bit 0 set the header's length field (bytes 16..23) to
 *            the real size; bit 1 recompute the trailing CRC-32C. With both,
 *            mutations reach the section parser instead of stopping at the
 *            length or checksum check; without them those checks are fuzzed.
 *   then     the model bytes.
 *
 * Checked promises: a pinned status; *out set exactly on success; the
 * diagnostic agrees with the status and is NUL-terminated; a loaded network
 * saves again (sbp_net_save_mem), that file loads, and saving the reloaded
 * network gives the same bytes (the format is canonical). Nothing is
 * trained here: a file's parameters may ask for long runs. */
#include "fuzz.h"
#include "io.h"
#include "sbp/sbp.h"

#define HEADER_LENGTH_AT 16
#define CRC_BYTES 4

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    unsigned flags = data[0];
    size_t n = size - 1;
    uint8_t *buf = malloc(n ? n : 1);
    FUZZ_CHECK(buf != NULL);
    if (n) memcpy(buf, data + 1, n);
    if ((flags & 1) && n >= HEADER_LENGTH_AT + 8) put_le64(buf + HEADER_LENGTH_AT, n);
    if ((flags & 2) && n >= CRC_BYTES)
        put_le32(buf + n - CRC_BYTES, sbp__crc32c(0, buf, n - CRC_BYTES));

    sbp_diag diag;
    memset(&diag, 0x5a, sizeof diag);
    sbp_net *net = (sbp_net *)(uintptr_t)1;
    sbp_status st = sbp_net_load_mem(buf, n, &diag, &net);
    fuzz_report("load_mem", st, diag.message);
    free(buf);
    FUZZ_CHECK(fuzz_known_status(st));
    FUZZ_CHECK(diag.status == st);
    FUZZ_CHECK(fuzz_terminated(diag.message, sizeof diag.message));
    FUZZ_CHECK(fuzz_terminated(diag.file, sizeof diag.file));
    if (st != SBP_OK) {
        FUZZ_CHECK(net == NULL);
        FUZZ_CHECK(diag.message[0] != '\0');
        FUZZ_CHECK(st != SBP_E_INVALID && st != SBP_E_INTERNAL && st != SBP_E_IO);
        return 0;
    }
    FUZZ_CHECK(net != NULL);
    FUZZ_CHECK(sbp_net_get_engine(net) >= SBP_ENGINE_RELAX &&
               sbp_net_get_engine(net) <= SBP_ENGINE_RBM);

    void *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    FUZZ_CHECK(sbp_net_save_mem(net, &a, &na) == SBP_OK);
    sbp_net *again = NULL;
    st = sbp_net_load_mem(a, na, NULL, &again);
    FUZZ_CHECK(st == SBP_OK && again != NULL);
    FUZZ_CHECK(sbp_net_layer_count(again) == sbp_net_layer_count(net));
    FUZZ_CHECK(sbp_net_save_mem(again, &b, &nb) == SBP_OK);
    FUZZ_CHECK(na == nb && memcmp(a, b, na) == 0);
    sbp_free(a);
    sbp_free(b);
    sbp_net_free(again);
    sbp_net_free(net);
    return 0;
}
