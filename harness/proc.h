/*
 * proc.h - process memory figures from /proc (internal to the harness).
 */
#ifndef MMB_PROC_H
#define MMB_PROC_H
#include <stdint.h>

/* Resident set size from /proc/self/statm, in bytes; -1 on error. */
int64_t proc_rss_bytes(void);
/* A "Field:   N kB" line of /proc/self/status in bytes (VmHWM, VmRSS); -1 if absent. */
int64_t proc_status_bytes(const char *field);
/* Reset VmHWM to the current RSS (writes 5 to /proc/self/clear_refs); 0 on success. */
int proc_reset_peak_rss(void);
/* Memory this process may still use, in bytes: MemAvailable of
 * /proc/meminfo, less where a cgroup (v2) of this process allows less
 * (memory.max - memory.current, of it and of every cgroup above it); -1 when
 * /proc/meminfo cannot be read. */
int64_t proc_mem_available(void);
#endif
