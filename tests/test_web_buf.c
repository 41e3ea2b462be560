/*
 * test_web_buf.c - the web module's JSON and CSV string writers: answers
 * are declared UTF-8, so a stored string that is not (a trace file's name
 * is whatever bytes the file system holds) must come out as UTF-8, each
 * byte outside a well-formed sequence replaced by U+FFFD.
 */
#include "test.h"
#include "web/web_internal.h"

#include <stdlib.h>

/* What web_json_str / web_csv_str write for s, as a C string (static). */
static const char *json(const char *s) {
    static char out[256];
    web_buf_t b = {0};
    web_json_str(&b, s);
    snprintf(out, sizeof out, "%s", b.p ? b.p : "");
    web_buf_free(&b);
    return out;
}

static const char *csv(const char *s) {
    static char out[256];
    web_buf_t b = {0};
    web_csv_str(&b, s);
    snprintf(out, sizeof out, "%s", b.p ? b.p : "");
    web_buf_free(&b);
    return out;
}

#define FFFD "\xEF\xBF\xBD"

TEST(json_escapes_and_keeps_utf8) {
    EXPECT_STREQ(json("a\"b\\c\nd<e\x01"), "\"a\\\"b\\\\c\\nd\\u003ce\\u0001\"");
    /* 2-, 3- and 4-byte characters, the highest of each, pass unchanged */
    EXPECT_STREQ(json("\xC3\xA9 \xDF\xBF \xE2\x82\xAC \xEF\xBF\xBF \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"),
                 "\"\xC3\xA9 \xDF\xBF \xE2\x82\xAC \xEF\xBF\xBF \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF\"");
}

TEST(json_replaces_bytes_that_are_not_utf8) {
    EXPECT_STREQ(json("bad\xFF\xFEutf"), "\"bad" FFFD FFFD "utf\"");
    EXPECT_STREQ(json("\x80"), "\"" FFFD "\"");              /* a lone continuation byte */
    EXPECT_STREQ(json("\xC0\xAF"), "\"" FFFD FFFD "\"");     /* overlong '/' */
    EXPECT_STREQ(json("\xE0\x80\xAF"), "\"" FFFD FFFD FFFD "\""); /* overlong, 3 bytes */
    EXPECT_STREQ(json("\xED\xA0\x80"), "\"" FFFD FFFD FFFD "\""); /* a surrogate, U+D800 */
    EXPECT_STREQ(json("\xF4\x90\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\""); /* above U+10FFFF */
    EXPECT_STREQ(json("\xF5\x80"), "\"" FFFD FFFD "\"");
    EXPECT_STREQ(json("x\xE2\x82"), "\"x" FFFD FFFD "\"");   /* cut short by the end */
    EXPECT_STREQ(json("\xE2\x82\"q"), "\"" FFFD FFFD "\\\"q\""); /* cut short by a quote */
}

TEST(csv_quotes_and_replaces_bytes_that_are_not_utf8) {
    EXPECT_STREQ(csv("plain"), "plain");
    EXPECT_STREQ(csv("\xC3\xA9t\xC3\xA9"), "\xC3\xA9t\xC3\xA9");
    EXPECT_STREQ(csv("a\xFF"), "a" FFFD);
    EXPECT_STREQ(csv("q\"u,o\xFF\n"), "\"q\"\"u,o" FFFD "\n\"");
    EXPECT_STREQ(csv("\"\""), "\"\"\"\"\"\"");
    EXPECT_STREQ(csv("\xE2\x82\","), "\"" FFFD FFFD "\"\",\"");
}

int main(void) {
    RUN(json_escapes_and_keeps_utf8);
    RUN(json_replaces_bytes_that_are_not_utf8);
    RUN(csv_quotes_and_replaces_bytes_that_are_not_utf8);
    return test_report();
}
