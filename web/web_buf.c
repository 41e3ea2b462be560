/*
 * web_buf.c - the growable buffer behind every answer, and the JSON and CSV
 * writers that turn SQLite rows into text.
 */
#include "web/web_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void web_buf_put(web_buf_t *b, const void *s, size_t n) {
    if (b->oom || n == 0)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void web_buf_puts(web_buf_t *b, const char *s) { web_buf_put(b, s, strlen(s)); }

void web_buf_printf(web_buf_t *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        web_buf_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    web_buf_put(b, big, (size_t)n);
    free(big);
}

void web_buf_free(web_buf_t *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

char *web_buf_take(web_buf_t *b, size_t *n) {
    char *p = b->p;
    *n = b->n;
    memset(b, 0, sizeof *b);
    return p;
}

/* The length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when p does not start
 * one.  A stored string may hold any bytes (a trace file's name is the file
 * system's), but the answers are declared UTF-8 and JSON must be. */
static size_t utf8_len(const unsigned char *p) {
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

/* U+FFFD, the replacement character, for a byte that is not UTF-8. */
static const char utf8_bad[] = "\xEF\xBF\xBD";

void web_json_str(web_buf_t *b, const char *s) {
    if (!s) {
        web_buf_puts(b, "null");
        return;
    }
    web_buf_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *run = p;
    for (; *p; p++) {
        const char *esc = NULL;
        char u[8];
        switch (*p) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '<': esc = "\\u003c"; break; /* harmless inside <script>, too */
        default:
            if (*p < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", *p);
                esc = u;
            } else if (*p >= 0x80) {
                size_t n = utf8_len(p);
                if (n) {
                    p += n - 1; /* a whole character, copied as it is */
                    continue;
                }
                esc = utf8_bad;
            }
        }
        if (esc) {
            web_buf_put(b, run, (size_t)(p - run));
            web_buf_puts(b, esc);
            run = p + 1;
        }
    }
    web_buf_put(b, run, (size_t)(p - run));
    web_buf_put(b, "\"", 1);
}

void web_json_num(web_buf_t *b, double v) {
    if (!isfinite(v)) {
        web_buf_puts(b, "null");
        return;
    }
    /* Shortest of %.15g / %.17g that reads back exactly. */
    char s[40];
    snprintf(s, sizeof s, "%.15g", v);
    if (strtod(s, NULL) != v)
        snprintf(s, sizeof s, "%.17g", v);
    web_buf_puts(b, s);
}

void web_json_col(web_buf_t *b, sqlite3_stmt *st, int i) {
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        web_buf_printf(b, "%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        web_json_num(b, sqlite3_column_double(st, i));
        break;
    case SQLITE_TEXT:
        web_json_str(b, (const char *)sqlite3_column_text(st, i));
        break;
    case SQLITE_BLOB: /* never stored by mmbench; not representable */
    default:
        web_buf_puts(b, "null");
    }
}

/* s with each byte that is not UTF-8 replaced by U+FFFD. */
static void put_utf8(web_buf_t *b, const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
    while (p < end) {
        size_t n = *p < 0x80 ? 1 : utf8_len(p);
        if (n) {
            p += n;
            continue;
        }
        web_buf_put(b, run, (size_t)(p - run));
        web_buf_puts(b, utf8_bad);
        run = ++p;
    }
    web_buf_put(b, run, (size_t)(p - run));
}

void web_csv_str(web_buf_t *b, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        put_utf8(b, s, strlen(s));
        return;
    }
    web_buf_put(b, "\"", 1);
    for (const char *p = s, *q; *p; p = q) {
        q = strchr(p, '"');
        q = q ? q + 1 : p + strlen(p);
        put_utf8(b, p, (size_t)(q - p));
        if (q[-1] == '"')
            web_buf_put(b, "\"", 1);
    }
    web_buf_put(b, "\"", 1);
}

void web_csv_col(web_buf_t *b, sqlite3_stmt *st, int i) {
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        web_buf_printf(b, "%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, i);
        if (isfinite(v))
            web_json_num(b, v);
        break;
    }
    case SQLITE_TEXT:
        web_csv_str(b, (const char *)sqlite3_column_text(st, i));
        break;
    default: /* NULL: empty field */
        break;
    }
}

void web_row_object(web_buf_t *b, sqlite3_stmt *st) {
    int n = sqlite3_column_count(st);
    web_buf_put(b, "{", 1);
    for (int i = 0; i < n; i++) {
        if (i)
            web_buf_put(b, ",", 1);
        web_json_str(b, sqlite3_column_name(st, i));
        web_buf_put(b, ":", 1);
        web_json_col(b, st, i);
    }
    web_buf_put(b, "}", 1);
}

void web_row_array(web_buf_t *b, sqlite3_stmt *st) {
    int n = sqlite3_column_count(st);
    web_buf_put(b, "[", 1);
    for (int i = 0; i < n; i++) {
        if (i)
            web_buf_put(b, ",", 1);
        web_json_col(b, st, i);
    }
    web_buf_put(b, "]", 1);
}

void web_row_csv(web_buf_t *b, sqlite3_stmt *st) {
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        if (i)
            web_buf_put(b, ",", 1);
        web_csv_col(b, st, i);
    }
    web_buf_puts(b, "\r\n");
}

void web_csv_header(web_buf_t *b, sqlite3_stmt *st) {
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        if (i)
            web_buf_put(b, ",", 1);
        web_csv_str(b, sqlite3_column_name(st, i));
    }
    web_buf_puts(b, "\r\n");
}
