/* The event-camera tasks of the `sbp` command (tools/events_task.c):
 * --task nmnist and --task dvsgesture, their --events frame settings, data
 * directories, loading and `sbp data info`. */
#ifndef SBP_TOOL_EVENTS_TASK_H
#define SBP_TOOL_EVENTS_TASK_H

#include "netcfg.h"
#include "tool.h"

/* N-MNIST held out for testing when DIR has no separate test/ folder: a
 * seeded split with this seed (fixed: every network seed and variant sees
 * the same split) and this share of the recordings (rounded). */
#define NMNIST_SPLIT_SEED 0
#define NMNIST_TEST_PERCENT 20

/* 1 when name is an event task ("nmnist", "dvsgesture"). */
int events_task_name(const char *name);

/* After --task: for an event task sets c->task, c->events (the tool's
 * defaults: 10 frames, equal time, ON/OFF channels, binary values;
 * downsample 1 for N-MNIST, 4 for DvsGesture, then --events) and
 * c->inputs / c->outputs. --events with another task is a usage error.
 * Returns 0 or EXIT_USAGE. */
int events_task_parse(const args *a, run_cfg *c);

/* 1 for TASK_NMNIST and TASK_DVSGESTURE. */
int is_events_task(int task);

/* "N-MNIST" or "DvsGesture". */
const char *events_task_title(int task);

/* "10 frames of 2 x 34 x 34, equal time, binary" (static buffer). */
const char *events_frames_text(const run_cfg *c);

/* The data directory: --data, else (N-MNIST only) the shared recordings
 * beside the source tree (../shared/data/nmnist). Returns 0 or EXIT_FAIL
 * after the message. */
int resolve_events_dir(const args *a, int task, data_dir *dd);

/* Loads the training and test parts (see docs/cli.md, "Event tasks") and
 * says on stderr what was used. Returns 0 or an exit status. */
int load_events_task(const run_cfg *c, const data_dir *dd, sbp_dataset **train,
                     sbp_dataset **test);

/* `sbp data info --task nmnist|dvsgesture`. Returns an exit status. */
int events_data_info(const args *a);

/* With the spike engine: the events encoder and spike.steps = frames
 * (unless --set gives them; a spike.steps other than the frames is a usage
 * error). Returns 0 or an exit status. */
int events_task_net(const run_cfg *c, sbp_net *net);

/* summary.md of `sbp experiment`: the paper's row for the task (DvsGesture:
 * the SNN or ANN figures of model.md section 8; N-MNIST: none) and a note
 * on how comparable they are. */
void events_paper_rows(FILE *f, int task, int snn);
void events_paper_note(FILE *f, int task);

#endif
