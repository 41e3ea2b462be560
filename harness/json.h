/*
 * json.h - the harness's small text writers, internal to the harness and the
 * web server: JSON string escaping, numbers in full precision (the same
 * spelling for JSON and CSV), and the run record as JSON with its arrays.
 *
 * Usage:
 *     hx_json_str(stdout, r->failure);           // "disk \"full\"\n" -> quoted, escaped
 *     char num[HX_NUM_MAX];
 *     if (hx_num_format(num, sizeof num, v, 1)) fputs(num, f); else fputs("null", f);
 *     hx_run_write_json_ex(f, r, HX_JSON_ARRAYS); // with samples, blocks, comp, info
 */
#ifndef MMB_HX_JSON_H
#define MMB_HX_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "harness/hx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest text hx_num_format writes, with its terminating NUL. */
#define HX_NUM_MAX 32

/* Write s (NULL reads as "") to f as one JSON string literal, quotes
 * included: ", \ and control characters escaped; other bytes (UTF-8) as is. */
void hx_json_str(FILE *f, const char *s);

/* Escape s into buf as a JSON string literal, quotes included.  Returns the
 * length the full literal needs (like snprintf): the output is complete only
 * when the result is < len; buf is always NUL-terminated when len > 0. */
size_t hx_json_escape(char *buf, size_t len, const char *s);

/* Spell v as a number that reads back exactly: an integer without decimals
 * when is_int and v is integral (and fits int64), else the shortest %g form
 * that round-trips (at most %.17g).  No thousands separators, no locale.
 * Returns 1 when written; 0 when v is NaN or infinite (the caller writes null
 * or an empty CSV field), and then buf holds "". */
int hx_num_format(char *buf, size_t len, double v, int is_int);

/* Write v as a JSON value: a number, or null when not finite. */
void hx_json_num(FILE *f, double v, int is_int);

enum {
    HX_JSON_ARRAYS = 1 << 0, /* also samples, heap_blocks, composition, run_info */
};

/* hx_run_write_json with options; no trailing newline (hx_run_write_json
 * writes one). */
void hx_run_write_json_ex(FILE *f, const hx_run_t *r, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
