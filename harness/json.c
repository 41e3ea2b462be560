/*
 * json.c - the run record's life cycle (init/release) and its JSON form,
 * plus the escaping and number spelling that show, export and the web
 * server share.
 */
#include "harness/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void hx_run_init(hx_run_t *r) {
    memset(r, 0, sizeof *r);
    for (int i = 0; i < HX_METRIC_COUNT; i++)
        r->m[i] = NAN;
}

void hx_run_release(hx_run_t *r) {
    free(r->samples);
    free(r->blocks);
    free(r->comp);
    free(r->info);
    r->samples = NULL;
    r->blocks = NULL;
    r->comp = NULL;
    r->info = NULL;
    r->nsamples = r->nblocks = r->ncomp = r->ninfo = 0;
}

/* The escape for byte c, or NULL when c is written as is. */
static const char *json_escape_of(unsigned char c, char tmp[8]) {
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\b': return "\\b";
    case '\f': return "\\f";
    default: break;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(tmp, 8, "\\u%04x", c);
        return tmp;
    }
    return NULL;
}

size_t hx_json_escape(char *buf, size_t len, const char *s) {
    size_t n = 0;
    char tmp[8];
#define PUT(ch)                                                                    \
    do {                                                                           \
        if (n + 1 < len)                                                           \
            buf[n] = (ch);                                                         \
        n++;                                                                       \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        const char *e = json_escape_of(*p, tmp);
        if (!e) {
            PUT((char)*p);
            continue;
        }
        for (; *e; e++)
            PUT(*e);
    }
    PUT('"');
#undef PUT
    if (len > 0)
        buf[n < len ? n : len - 1] = '\0';
    return n;
}

void hx_json_str(FILE *f, const char *s) {
    char tmp[8];
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        const char *e = json_escape_of(*p, tmp);
        if (e)
            fputs(e, f);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

int hx_num_format(char *buf, size_t len, double v, int is_int) {
    if (len)
        buf[0] = '\0';
    if (!isfinite(v) || len == 0)
        return 0;
    /* 2^63 is exact as a double; every integral double below it fits int64. */
    if (is_int && v == floor(v) && fabs(v) < 9223372036854775808.0) {
        snprintf(buf, len, "%" PRId64, (int64_t)v);
        return 1;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    /* %g never uses a locale's thousands separator, but a locale could make
     * the decimal point a comma: the harness never calls setlocale, and we
     * normalise anyway so that CSV and JSON stay parseable. */
    for (char *c = buf; *c; c++)
        if (*c == ',')
            *c = '.';
    return 1;
}

void hx_json_num(FILE *f, double v, int is_int) {
    char num[HX_NUM_MAX];
    fputs(hx_num_format(num, sizeof num, v, is_int) ? num : "null", f);
}

static void json_key(FILE *f, const char *key) {
    fputc(',', f);
    hx_json_str(f, key);
    fputc(':', f);
}

/* a text, or null when it is empty (not recorded) */
static void json_str_or_null(FILE *f, const char *key, const char *v) {
    json_key(f, key);
    if (v[0])
        hx_json_str(f, v);
    else
        fputs("null", f);
}

static void json_params(FILE *f, const wl_params_t *p) {
    char small[2048];
    size_t n = wl_params_json(p, small, sizeof small);
    if (n == 0) {
        fputs("{}", f);
        return;
    }
    if (n < sizeof small) {
        fputs(small, f);
        return;
    }
    char *big = malloc(n + 1);
    if (!big) {
        fputs("{}", f);
        return;
    }
    wl_params_json(p, big, n + 1);
    fputs(big, f);
    free(big);
}

void hx_run_write_json_ex(FILE *f, const hx_run_t *r, unsigned flags) {
    fputs("{\"run_id\":", f);
    if (r->id > 0)
        fprintf(f, "%" PRId64, r->id);
    else
        fputs("null", f);
    json_key(f, "allocator");
    hx_json_str(f, r->allocator);
    json_str_or_null(f, "allocator_version", r->allocator_version);
    json_key(f, "workload");
    hx_json_str(f, r->workload);
    json_key(f, "status");
    hx_json_str(f, r->status);
    json_str_or_null(f, "failure", r->failure);
    json_key(f, "signal");
    if (r->signal)
        fprintf(f, "%d", r->signal);
    else
        fputs("null", f);
    json_key(f, "exit_code");
    if (r->signal || r->exit_code < 0)
        fputs("null", f);
    else
        fprintf(f, "%d", r->exit_code);
    json_key(f, "rep");
    fprintf(f, "%d", r->rep);
    json_key(f, "sweep");
    hx_json_str(f, r->sweep);
    json_key(f, "started_at");
    hx_json_str(f, r->started_at);
    json_str_or_null(f, "finished_at", r->finished_at);
    json_key(f, "samples_requested");
    fprintf(f, "%" PRIu32, r->samples_requested);
    json_key(f, "stream_hash");
    fprintf(f, "\"%016" PRIx64 "\"", r->stream_hash);
    json_key(f, "host");
    hx_json_str(f, r->host);
    json_key(f, "mmbench_version");
    hx_json_str(f, r->mmbench_version);
    json_key(f, "git_rev");
    hx_json_str(f, r->git_rev);
    json_str_or_null(f, "machine", r->machine);
    json_str_or_null(f, "build", r->build);
    for (int i = 0; i < HX_METRIC_COUNT; i++) {
        json_key(f, hx_metric_info[i].key);
        hx_json_num(f, r->m[i], strcmp(hx_metric_info[i].sqltype, "INTEGER") == 0);
    }
    json_key(f, "params");
    json_params(f, &r->params);

    if (flags & HX_JSON_ARRAYS) {
        json_key(f, "samples");
        fputc('[', f);
        for (size_t i = 0; i < r->nsamples; i++) {
            fprintf(f, "%s{\"idx\":%zu", i ? "," : "", i);
            for (int c = 0; c < HX_SAMPLE_COUNT; c++) {
                json_key(f, hx_sample_info[c].key);
                hx_json_num(f, r->samples[i].v[c], strcmp(hx_sample_info[c].sqltype, "INTEGER") == 0);
            }
            fputc('}', f);
        }
        fputc(']', f);
        json_key(f, "heap_blocks");
        fputc('[', f);
        for (size_t i = 0; i < r->nblocks; i++) {
            fprintf(f, "%s{\"offset\":%" PRIu64 ",\"size\":%" PRIu64 ",\"used\":", i ? "," : "",
                    r->blocks[i].offset, r->blocks[i].size);
            hx_json_num(f, r->blocks[i].used, 0);
            fputc('}', f);
        }
        fputc(']', f);
        json_key(f, "composition");
        fputc('[', f);
        for (size_t i = 0; i < r->ncomp; i++) {
            fputs(i ? ",{\"category\":" : "{\"category\":", f);
            hx_json_str(f, r->comp[i].category);
            json_key(f, "label");
            hx_json_str(f, r->comp[i].label);
            json_key(f, "bytes");
            hx_json_num(f, r->comp[i].bytes, 0);
            fputc('}', f);
        }
        fputc(']', f);
        json_key(f, "run_info");
        fputc('{', f);
        for (size_t i = 0; i < r->ninfo; i++) {
            if (i)
                fputc(',', f);
            hx_json_str(f, r->info[i].key);
            fputc(':', f);
            hx_json_num(f, r->info[i].value, 0);
        }
        fputc('}', f);
    }
    fputc('}', f);
}

void hx_run_write_json(FILE *f, const hx_run_t *r) {
    hx_run_write_json_ex(f, r, 0);
    fputc('\n', f);
}
