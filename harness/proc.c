/*
 * proc.c - process memory figures from /proc, read without malloc (a run's
 * child may have the allocator under test as its malloc).
 */
#include "harness/proc.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long proc_page_size(void) {
    static long ps;
    if (!ps)
        ps = sysconf(_SC_PAGESIZE);
    return ps;
}

/* Read a small /proc file into buf (NUL-terminated); its length, or -1. */
static ssize_t proc_read(const char *path, char *buf, size_t len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    return n;
}

int64_t proc_rss_bytes(void) {
    char buf[256];
    if (proc_read("/proc/self/statm", buf, sizeof buf) < 0)
        return -1;
    char *p = strchr(buf, ' ');
    if (!p)
        return -1;
    return (int64_t)strtoll(p + 1, NULL, 10) * proc_page_size();
}

int64_t proc_status_bytes(const char *field) {
    static char buf[8192];
    if (proc_read("/proc/self/status", buf, sizeof buf) < 0)
        return -1;
    size_t fl = strlen(field);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (!strncmp(line, field, fl) && line[fl] == ':')
            return (int64_t)strtoll(line + fl + 1, NULL, 10) * 1024;
    }
    return -1;
}

int proc_reset_peak_rss(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, "5", 1);
    close(fd);
    return n == 1 ? 0 : -1;
}
