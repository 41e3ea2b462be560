/*
 * runner.c - start a run's child process, collect what it reports, and turn
 * whatever happened to it (success, a failure it reported, a crash, an abort,
 * an out-of-memory kill, a hang) into a stored outcome.
 */
#define _GNU_SOURCE
#include "harness/runner.h"
#include "allocators/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILD_FD 3

/* SIGINT or SIGTERM received while a run's process lived (0: none). */
static volatile sig_atomic_t runner_stop_sig;

static void runner_on_signal(int sig) { runner_stop_sig = sig; }
/* set by SIGCONT: this process was stopped (Ctrl-Z, SIGSTOP) and goes on */
static volatile sig_atomic_t runner_continued;
static void runner_on_cont(int sig) {
    (void)sig;
    runner_continued = 1;
}

/* The --timeout deadline leaves out the time this process spent stopped:
 * after a SIGCONT it moves on by the time since *seen, the last moment this
 * process was seen running (an overestimate of the stop by at most one wait,
 * so waits are cut to RUNNER_WAIT_NS, or one read of the report).  Called
 * after every wait and before every look at the deadline, it returns the
 * time now and keeps it in *seen: a stop while reading the report counts
 * too (it was taken for time the run used, and the run killed as timed
 * out).  A sweep paused with Ctrl-Z and resumed with fg does not kill the
 * run it paused as timed out (the run records that it was stopped,
 * child.c). */
#define RUNNER_WAIT_NS 1000000000ull
static uint64_t runner_seen(uint64_t *deadline, uint64_t *seen) {
    uint64_t now = hx_now_ns();
    if (runner_continued) {
        runner_continued = 0;
        if (*deadline)
            *deadline += now - *seen;
    }
    *seen = now;
    return now;
}

/* MMBENCH_FAULT=runner-stop (tests only): the sweep's process stops itself
 * (SIGSTOP) once, after its first read of a run's report, outside any wait */
static int runner_fault_stop(void) {
    const char *f = getenv("MMBENCH_FAULT");
    return f && !strcmp(f, "runner-stop");
}

static struct timespec ns_to_timespec(uint64_t ns) {
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
    return ts;
}

typedef struct growbuf {
    char *p;
    size_t n, cap;
} growbuf_t;

static int gb_reserve(growbuf_t *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->n + extra + 1)
        cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q)
        return -1;
    b->p = q;
    b->cap = cap;
    return 0;
}

#define PUSH(arr, n, item)                                                     \
    do {                                                                       \
        if (((n) & ((n) - 1)) == 0) {                                          \
            size_t cap_ = (n) ? (n) * 2 : 16;                                  \
            void *q_ = realloc((arr), cap_ * sizeof *(arr));                   \
            if (!q_)                                                           \
                break;                                                         \
            (arr) = q_;                                                        \
        }                                                                      \
        (arr)[(n)++] = (item);                                                 \
    } while (0)

static double parse_num(const char *s) {
    if (!strncmp(s, "nan", 3))
        return NAN;
    return strtod(s, NULL);
}

static void copy_str(char *dst, size_t len, const char *src) {
    snprintf(dst, len, "%s", src);
}

/* Parse the child's report; returns 1 when the "D" (done) line was seen.
 * *had_hash is set when the "H" (stream hash) line was. */
static int parse_report(char *text, hx_run_t *r, int *had_error, int *had_hash) {
    int done = 0;
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        char tag = line[0];
        const char *rest = line[1] == ' ' ? line + 2 : line + 1;
        switch (tag) {
        case 'A': {
            /* the name refines the one typed ("buffer" -> "buffer:glibc") */
            size_t n = strlen(r->allocator);
            if (!strncmp(rest, r->allocator, n) && rest[n] == ':' && rest[n + 1])
                copy_str(r->allocator, sizeof r->allocator, rest);
            break;
        }
        case 'V':
            copy_str(r->allocator_version, sizeof r->allocator_version, rest);
            break;
        case 'H':
            r->stream_hash = strtoull(rest, NULL, 16);
            *had_hash = 1;
            break;
        case 'M': {
            const char *sp = strchr(rest, ' ');
            if (!sp)
                break;
            for (int k = 0; k < HX_METRIC_COUNT; k++)
                if (strlen(hx_metric_info[k].key) == (size_t)(sp - rest) &&
                    !strncmp(hx_metric_info[k].key, rest, (size_t)(sp - rest)))
                    r->m[k] = parse_num(sp + 1);
            break;
        }
        case 'S': {
            hx_sample_t s;
            const char *p = rest;
            for (int k = 0; k < HX_SAMPLE_COUNT; k++) {
                while (*p == ' ')
                    p++;
                s.v[k] = parse_num(p);
                while (*p && *p != ' ')
                    p++;
            }
            PUSH(r->samples, r->nsamples, s);
            break;
        }
        case 'B': {
            hx_block_t b;
            char *e;
            b.offset = strtoull(rest, &e, 10);
            b.size = strtoull(e, &e, 10);
            b.used = strtod(e, NULL);
            PUSH(r->blocks, r->nblocks, b);
            break;
        }
        case 'C': {
            hx_comp_t c;
            memset(&c, 0, sizeof c);
            const char *t1 = strchr(rest, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
            if (!t2)
                break;
            snprintf(c.category, sizeof c.category, "%.*s", (int)(t1 - rest), rest);
            snprintf(c.label, sizeof c.label, "%.*s", (int)(t2 - t1 - 1), t1 + 1);
            c.bytes = strtod(t2 + 1, NULL);
            PUSH(r->comp, r->ncomp, c);
            break;
        }
        case 'I': {
            hx_kv_t kv;
            memset(&kv, 0, sizeof kv);
            const char *t1 = strchr(rest, '\t');
            if (!t1)
                break;
            snprintf(kv.key, sizeof kv.key, "%.*s", (int)(t1 - rest), rest);
            kv.value = parse_num(t1 + 1);
            int dup = 0;
            for (size_t k = 0; k < r->ninfo; k++)
                if (!strcmp(r->info[k].key, kv.key)) {
                    r->info[k].value = kv.value;
                    dup = 1;
                }
            if (!dup)
                PUSH(r->info, r->ninfo, kv);
            break;
        }
        case 'E':
            copy_str(r->failure, sizeof r->failure, rest);
            *had_error = 1;
            break;
        case 'D':
            done = 1;
            break;
        default:
            break;
        }
    }
    return done;
}

static void drop_results(hx_run_t *r) {
    free(r->samples);
    free(r->blocks);
    free(r->comp);
    r->samples = NULL;
    r->blocks = NULL;
    r->comp = NULL;
    r->nsamples = r->nblocks = r->ncomp = 0;
    for (int k = 0; k < HX_METRIC_COUNT; k++)
        r->m[k] = NAN;
}

int hx_runner_run(const hx_run_spec_t *spec, hx_run_t *out) {
    int fds[2];
    snprintf(out->status, sizeof out->status, "failed");
    out->signal = 0;
    out->exit_code = -1;
    if (spec->stream_hash) /* also for a run that fails before its child starts */
        out->stream_hash = spec->stream_hash;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(out->failure, sizeof out->failure, "cannot create a pipe to the run's process: %s",
                 strerror(errno));
        return 0;
    }
    /* argv: mmbench __child --fd=3 --alloc=A --samples=N [--verify] wl args */
    int argc = 0;
    char **argv = calloc((size_t)spec->nwl_args + 10, sizeof *argv);
    char fdarg[32], allocarg[160], samplearg[48];
    snprintf(fdarg, sizeof fdarg, "--fd=%d", CHILD_FD);
    snprintf(allocarg, sizeof allocarg, "--alloc=%s", spec->alloc);
    snprintf(samplearg, sizeof samplearg, "--samples=%u", spec->samples);
    argv[argc++] = "mmbench";
    argv[argc++] = "__child";
    argv[argc++] = fdarg;
    argv[argc++] = allocarg;
    argv[argc++] = samplearg;
    if (spec->verify)
        argv[argc++] = "--verify";
    if (spec->debug_heap)
        argv[argc++] = "--debug-heap";
    for (int i = 0; i < spec->nwl_args; i++)
        argv[argc++] = spec->wl_args[i];
    argv[argc] = NULL;
    const char *preload = alloc_preload_for(spec->alloc);

    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        snprintf(out->failure, sizeof out->failure, "cannot find the mmbench binary (/proc/self/exe)");
        free(argv);
        close(fds[0]);
        close(fds[1]);
        return 0;
    }
    self[sl] = 0;

    /* While the run's process lives, SIGINT and SIGTERM (Ctrl-C, kill, a
     * job scheduler), whether sent to the process group or to this process
     * alone, end it at once; they are raised again afterwards for the
     * caller's own handlers.  Outside ppoll they are blocked, so none slips
     * in between a check and a wait.  A signal the caller ignores stays
     * ignored. */
    static const int stop_sigs[2] = {SIGINT, SIGTERM};
    struct sigaction sa, old_sa[2];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = runner_on_signal;
    sigemptyset(&sa.sa_mask);
    runner_stop_sig = 0;
    sigset_t stop_set, old_mask, wait_mask;
    sigemptyset(&stop_set);
    for (int k = 0; k < 2; k++) {
        sigaction(stop_sigs[k], NULL, &old_sa[k]);
        if (old_sa[k].sa_handler != SIG_IGN) {
            sigaction(stop_sigs[k], &sa, NULL);
            sigaddset(&stop_set, stop_sigs[k]);
        }
    }
    struct sigaction cont_sa, old_cont_sa;
    memset(&cont_sa, 0, sizeof cont_sa);
    cont_sa.sa_handler = runner_on_cont;
    sigemptyset(&cont_sa.sa_mask);
    cont_sa.sa_flags = SA_RESTART;
    runner_continued = 0;
    sigaction(SIGCONT, &cont_sa, &old_cont_sa);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out->failure, sizeof out->failure, "cannot fork the run's process: %s", strerror(errno));
        for (int k = 0; k < 2; k++)
            sigaction(stop_sigs[k], &old_sa[k], NULL);
        sigaction(SIGCONT, &old_cont_sa, NULL);
        free(argv);
        close(fds[0]);
        close(fds[1]);
        return 0;
    }
    if (pid == 0) {
        /* Never outlive the sweep (killed, crashed): a run left behind
         * would go on loading the machine the next sweep measures on. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        if (dup2(fds[1], CHILD_FD) < 0)
            _exit(127);
        if (preload)
            setenv("LD_PRELOAD", preload, 1);
        else
            unsetenv("LD_PRELOAD");
        execv(self, argv);
        char msg[512];
        int n = snprintf(msg, sizeof msg, "E cannot start %s: %s\n", self, strerror(errno));
        if (n > 0 && write(CHILD_FD, msg, (size_t)n) < 0)
            _exit(127);
        _exit(127);
    }
    free(argv);
    close(fds[1]);
    sigprocmask(SIG_BLOCK, &stop_set, &old_mask);
    wait_mask = old_mask;
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);

    growbuf_t buf = {0};
    uint64_t seen = hx_now_ns();
    uint64_t deadline = spec->timeout_s > 0 ? seen + (uint64_t)(spec->timeout_s * 1e9) : 0;
    int timed_out = 0, killed = 0, fault_stop = runner_fault_stop();
    for (;;) {
        if (runner_stop_sig) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        struct timespec ts, *tsp = NULL;
        uint64_t now = runner_seen(&deadline, &seen);
        if (deadline) {
            if (now >= deadline) {
                timed_out = 1;
                kill(pid, SIGKILL);
                killed = 1;
                break;
            }
            ts = ns_to_timespec(deadline - now < RUNNER_WAIT_NS ? deadline - now : RUNNER_WAIT_NS);
            tsp = &ts;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int pr = ppoll(&pfd, 1, tsp, &wait_mask);
        runner_seen(&deadline, &seen);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pr == 0)
            continue;
        if (gb_reserve(&buf, 65536) != 0) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        ssize_t n = read(fds[0], buf.p + buf.n, buf.cap - buf.n - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        buf.n += (size_t)n;
        if (fault_stop) {
            fault_stop = 0;
            raise(SIGSTOP);
        }
    }
    close(fds[0]);
    /* The pipe is closed; the process normally ends with it, but one that
     * closed it early and lives on is held to the same deadline and
     * signals. */
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, killed ? 0 : WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (w < 0)
            continue;
        uint64_t now = runner_seen(&deadline, &seen);
        if (runner_stop_sig || (deadline && now >= deadline)) {
            timed_out = !runner_stop_sig;
            kill(pid, SIGKILL);
            killed = 1;
            continue;
        }
        struct timespec nap = ns_to_timespec(1000000);
        ppoll(NULL, 0, &nap, &wait_mask);
    }
    /* A SIGTERM or SIGINT sent to the process group reaches the run and
     * this process at once; when it came while this process was outside
     * ppoll (reading the report) and the run died of it, it is still
     * pending here, blocked.  It stops the sweep all the same: the run is
     * not stored as one killed by signal 15. */
    if (!runner_stop_sig) {
        sigset_t pending;
        sigpending(&pending);
        for (int k = 0; k < 2; k++)
            if (sigismember(&stop_set, stop_sigs[k]) && sigismember(&pending, stop_sigs[k]))
                runner_stop_sig = stop_sigs[k];
    }
    for (int k = 0; k < 2; k++)
        sigaction(stop_sigs[k], &old_sa[k], NULL);
    sigaction(SIGCONT, &old_cont_sa, NULL);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    int stop_sig = runner_stop_sig;
    if (stop_sig) {
        raise(stop_sig); /* for the caller's handler, now restored */
        free(buf.p);
        drop_results(out);
        return 1;
    }
    if (buf.p)
        buf.p[buf.n] = 0;

    int had_error = 0, had_hash = 0;
    int done = buf.p ? parse_report(buf.p, out, &had_error, &had_hash) : 0;
    free(buf.p);
    /* The parent generated the stream when it checked the sweep, so it
     * knows the hash: a run that died before reporting one is recorded under
     * it (not 0, a stream of its own in the summary), and a run whose
     * stream came out different (its trace file changed, say) failed. */
    uint64_t child_hash = out->stream_hash;
    int other_stream = spec->stream_hash && had_hash && child_hash != spec->stream_hash;
    if (spec->stream_hash)
        out->stream_hash = spec->stream_hash;

    if (WIFSIGNALED(status)) {
        out->signal = WTERMSIG(status);
        out->exit_code = -1;
    } else if (WIFEXITED(status)) {
        out->exit_code = WEXITSTATUS(status);
    }
    if (timed_out) {
        snprintf(out->failure, sizeof out->failure, "timed out after %g s and was killed", spec->timeout_s);
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGINT) {
            drop_results(out);
            return 1;
        }
        if (!had_error)
            snprintf(out->failure, sizeof out->failure, "the run's process was killed by signal %d (%s)%s",
                     sig, strsignal(sig), sig == SIGKILL ? ", e.g. by the out-of-memory killer" : "");
    } else if (!had_error && (out->exit_code != 0 || !done)) {
        snprintf(out->failure, sizeof out->failure,
                 "the run's process exited with status %d before reporting its results", out->exit_code);
    }
    if (other_stream)
        snprintf(out->failure, sizeof out->failure,
                 "the run's process generated another request stream (hash %016llx) than the sweep did "
                 "(%016llx), so its figures are not of this stream; did a trace file change during the sweep?",
                 (unsigned long long)child_hash, (unsigned long long)spec->stream_hash);
    if (!other_stream && !timed_out && !had_error && done && WIFEXITED(status) && out->exit_code == 0) {
        snprintf(out->status, sizeof out->status, "ok");
        out->failure[0] = 0;
    } else {
        drop_results(out);
    }
    return 0;
}
