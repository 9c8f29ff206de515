/* Private parts of the NETtalk loader (lib/data/nettalk.c), for the tests. */
#ifndef SBP_NETTALK_H
#define SBP_NETTALK_H

#include "../internal.h"

/* Documented limits (docs/nettalk.md), checked before allocating. */
#define SBP__NT_MAX_FILE ((size_t)64 << 20) /* bytes of any one input file */
#define SBP__NT_MAX_WORD 32                 /* letters in a word */

/* One line of nettalk.data. */
typedef struct sbp__nt_entry {
    size_t at;       /* offset of its symbols in the corpus arrays */
    uint32_t len;    /* letters */
    uint32_t line;   /* 1-based line in nettalk.data */
    uint8_t cls;     /* 0 regular, 1 irregular, 2 foreign */
    uint8_t repeat;  /* 1: an earlier line has the same word (not used) */
} sbp__nt_entry;

/* The parsed corpus: letters a..z as 0..25, phoneme and stress symbols as
 * indices into the code table, every entry in file order. */
typedef struct sbp__nt_corpus {
    size_t n_entries;  /* lines with an entry */
    size_t n_words;    /* distinct words (entries with repeat == 0) */
    size_t n_letters;  /* letters over all entries */
    sbp__nt_entry *entry;
    uint8_t *letter, *phoneme, *stress;
} sbp__nt_corpus;

/* Parses nettalk.data against a code table. */
sbp_status sbp__nt_parse_corpus(const char *path, const sbp_nettalk_codes *codes,
                                sbp__nt_corpus *out, sbp_diag *diag);
void sbp__nt_corpus_free(sbp__nt_corpus *c);

/* Parses one table file: features.tsv (stress = 0) or stress.tsv
 * (stress = 1), filling that half of *codes. */
sbp_status sbp__nt_parse_table(const char *path, int stress, sbp_nettalk_codes *codes,
                               sbp_diag *diag);

/* Parses nettalk.list against the corpus: *pos receives, for each listed
 * word in list order, the index of its first entry; *n their count.
 * Free *pos with sbp__free. */
sbp_status sbp__nt_parse_list(const char *path, const sbp__nt_corpus *corpus, size_t **pos,
                              size_t *n, sbp_diag *diag);

#endif
