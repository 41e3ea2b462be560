/*
 * proc.c - process memory figures from /proc, read without malloc (a run's
 * child may have the allocator under test as its malloc).
 */
#include "harness/proc.h"

#include <fcntl.h>
#include <stdio.h>
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

/* The file cache the kernel would reclaim in cgroup dir (inactive_file of
 * its memory.stat), which memory.current counts as used. */
static int64_t cgroup_reclaimable(const char *dir) {
    char path[4200];
    static char buf[16384];
    snprintf(path, sizeof path, "%s/memory.stat", dir);
    if (proc_read(path, buf, sizeof buf) <= 0)
        return 0;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, "inactive_file ", 14))
            return strtoll(line + 14, NULL, 10);
    return 0;
}

/* The headroom cgroup v2 leaves below dir and its ancestors (INT64_MAX when
 * none sets a limit), the reclaimable file cache counted as room, as the
 * kernel's "working set" does.  dir is changed in place. */
static int64_t cgroup_headroom(char *dir, size_t root_len) {
    int64_t room = INT64_MAX;
    for (;;) {
        char path[4200], buf[64];
        snprintf(path, sizeof path, "%s/memory.max", dir);
        if (proc_read(path, buf, sizeof buf) > 0 && buf[0] >= '0' && buf[0] <= '9') {
            int64_t max = strtoll(buf, NULL, 10), cur = 0;
            snprintf(path, sizeof path, "%s/memory.current", dir);
            if (proc_read(path, buf, sizeof buf) > 0)
                cur = strtoll(buf, NULL, 10);
            int64_t cache = cgroup_reclaimable(dir);
            cur = cur > cache ? cur - cache : 0;
            int64_t left = max > cur ? max - cur : 0;
            if (left < room)
                room = left;
        }
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < root_len)
            break;
        *slash = 0;
    }
    return room;
}

/* cgroup v1's memory controller at /sys/fs/cgroup/memory + path: the
 * hierarchical limit less the usage, the inactive file cache counted as
 * room (INT64_MAX when there is no limit or no such controller). */
static int64_t cgroup1_headroom(const char *path) {
    char dir[4200], f[4300], buf[64];
    static char st[16384];
    snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory%s", path);
    snprintf(f, sizeof f, "%s/memory.stat", dir);
    if (proc_read(f, st, sizeof st) <= 0)
        return INT64_MAX;
    int64_t limit = INT64_MAX, cache = 0, use = 0;
    for (char *line = st; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (!strncmp(line, "hierarchical_memory_limit ", 26))
            limit = strtoll(line + 26, NULL, 10);
        else if (!strncmp(line, "total_inactive_file ", 20))
            cache = strtoll(line + 20, NULL, 10);
    }
    snprintf(f, sizeof f, "%s/memory.usage_in_bytes", dir);
    if (proc_read(f, buf, sizeof buf) > 0)
        use = strtoll(buf, NULL, 10);
    if (limit <= 0 || limit >= ((int64_t)1 << 62)) /* no limit: the page-rounded INT64_MAX */
        return INT64_MAX;
    use = use > cache ? use - cache : 0;
    return limit > use ? limit - use : 0;
}

int64_t proc_mem_available(void) {
    static char buf[8192];
    if (proc_read("/proc/meminfo", buf, sizeof buf) < 0)
        return -1;
    const char *m = strstr(buf, "MemAvailable:");
    if (!m)
        return -1;
    int64_t avail = (int64_t)strtoll(m + 13, NULL, 10) * 1024;
    char cg[4096];
    if (proc_read("/proc/self/cgroup", cg, sizeof cg) > 0) {
        /* cgroup v2: the line "0::/path" */
        for (char *line = cg; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            char *v1 = strstr(line, ":memory:/"), *eol = strchr(line, '\n');
            if (v1 && (!eol || v1 < eol)) { /* cgroup v1: "N:memory:/path" */
                char p[4096];
                int len = (int)((eol ? eol : v1 + strlen(v1)) - (v1 + 8));
                snprintf(p, sizeof p, "%.*s", len, v1 + 8);
                int64_t room = cgroup1_headroom(p);
                if (room < avail)
                    avail = room;
                continue;
            }
            if (strncmp(line, "0::/", 4) != 0)
                continue;
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = 0;
            static const char root[] = "/sys/fs/cgroup";
            char dir[4096];
            int n = snprintf(dir, sizeof dir, "%s%s", root, line + 3);
            if (n > 0 && (size_t)n < sizeof dir) {
                size_t len = strlen(dir);
                if (len > sizeof root - 1 && dir[len - 1] == '/')
                    dir[len - 1] = 0;
                int64_t room = cgroup_headroom(dir, sizeof root - 1);
                if (room < avail)
                    avail = room;
            }
            break;
        }
    }
    return avail;
}
