/* Progress display and interruption for the `sbp` command (tools/).
 *
 * A progress bar on stderr (samples done/total, rate, ETA), redrawn in place
 * at most about ten times a second and only when the stream is a terminal.
 * The same callback is how a SIGINT stops training cleanly: once the user
 * presses Ctrl-C, every callback returns non-zero and the library call ends
 * with SBP_E_CANCELLED. A second Ctrl-C kills the process as usual. */
#ifndef SBP_TOOL_PROGRESS_H
#define SBP_TOOL_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

typedef struct tool_progress {
    FILE *out;          /* where the bar goes (stderr) */
    int tty;            /* out is a terminal: draw the bar */
    int quiet;          /* draw nothing at all */
    char label[96];     /* "epoch 3/10 train" */
    double t_start;     /* when the current phase began (tool_now()) */
    double t_drawn;     /* when the bar was last drawn; < 0: never */
    size_t drawn_len;   /* characters of the bar currently on screen */
} tool_progress;

/* Monotonic clock in seconds. */
double tool_now(void);

/* Sets up a display on `out`; quiet = 1 turns it off entirely. */
void tool_progress_init(tool_progress *p, FILE *out, int quiet);
/* Starts a phase (resets the clock used for rate and ETA). */
void tool_progress_begin(tool_progress *p, const char *label);
/* The sbp_progress_fn: user is a tool_progress *. Returns 1 once SIGINT
 * was received, 0 otherwise. */
int tool_progress_callback(void *user, size_t done, size_t total);
/* Erases the bar, if one is on screen, so normal output can follow. */
void tool_progress_clear(tool_progress *p);

/* Installs the SIGINT handler (one-shot: a second SIGINT is fatal). */
void tool_interrupt_install(void);
/* Restores the default SIGINT action. */
void tool_interrupt_uninstall(void);
/* Whether SIGINT was received since tool_interrupt_install(). */
int tool_interrupted(void);

#endif
