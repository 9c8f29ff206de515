/* Progress bar and clean interruption for the `sbp` command. */
#include "progress.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24
#define REDRAW_SECONDS 0.1

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

void tool_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    /* One-shot: if training does not stop promptly, a second Ctrl-C kills
     * the process the usual way. */
    sa.sa_flags = (int)SA_RESETHAND;
    interrupted = 0;
    sigaction(SIGINT, &sa, NULL);
}

void tool_interrupt_uninstall(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

int tool_interrupted(void)
{
    return interrupted != 0;
}

double tool_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tool_progress_init(tool_progress *p, FILE *out, int quiet)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->quiet = quiet;
    p->tty = !quiet && isatty(fileno(out));
    p->t_start = tool_now();
    p->t_drawn = -1.0;
}

void tool_progress_begin(tool_progress *p, const char *label)
{
    snprintf(p->label, sizeof p->label, "%s", label);
    p->t_start = tool_now();
    p->t_drawn = -1.0;
}

static void format_duration(char *buf, size_t size, double seconds)
{
    if (!(seconds >= 0.0) || seconds > 359999.0) {
        snprintf(buf, size, "--:--");
        return;
    }
    unsigned long s = (unsigned long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, size, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, size, "%lu:%02lu", s / 60, s % 60);
}

static void draw(tool_progress *p, size_t done, size_t total, double now)
{
    char bar[BAR_WIDTH + 1];
    size_t fill = total ? (size_t)((double)BAR_WIDTH * (double)done / (double)total) : 0;
    if (fill > BAR_WIDTH) fill = BAR_WIDTH;
    memset(bar, '#', fill);
    memset(bar + fill, '.', BAR_WIDTH - fill);
    bar[BAR_WIDTH] = '\0';

    double elapsed = now - p->t_start;
    double rate = elapsed > 1e-6 ? (double)done / elapsed : 0.0;
    char eta[32];
    if (rate > 0.0 && total >= done)
        format_duration(eta, sizeof eta, (double)(total - done) / rate);
    else
        snprintf(eta, sizeof eta, "--:--");

    char line[256];
    int len = snprintf(line, sizeof line, "%s [%s] %zu/%zu  %.0f samples/s  ETA %s", p->label,
                       bar, done, total, rate, eta);
    if (len < 0) return;
    size_t n = (size_t)len < sizeof line ? (size_t)len : sizeof line - 1;
    fputc('\r', p->out);
    fputs(line, p->out);
    /* Overwrite what a longer previous line left behind. */
    for (size_t i = n; i < p->drawn_len; i++) fputc(' ', p->out);
    fflush(p->out);
    p->drawn_len = n > p->drawn_len ? n : p->drawn_len;
    p->t_drawn = now;
}

int tool_progress_callback(void *user, size_t done, size_t total)
{
    tool_progress *p = user;
    if (p && p->tty) {
        double now = tool_now();
        if (p->t_drawn < 0.0 || now - p->t_drawn >= REDRAW_SECONDS || done >= total)
            draw(p, done, total, now);
    }
    return tool_interrupted();
}

void tool_progress_clear(tool_progress *p)
{
    if (!p->tty || p->drawn_len == 0) return;
    fputc('\r', p->out);
    for (size_t i = 0; i < p->drawn_len; i++) fputc(' ', p->out);
    fputc('\r', p->out);
    fflush(p->out);
    p->drawn_len = 0;
}
