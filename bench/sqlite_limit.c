/*
 * The SQLite limit: the same SQL per run as JobRunner, with the same batching, and nothing else.
 *
 * It mirrors Sources/JobRunner/Storage/JobStore+Claim.swift statement for statement:
 *   claim  (one BEGIN IMMEDIATE transaction per batch of up to --workers runs):
 *     the runner's liveness (the fence), running counts per queue, the queues, the manual-trigger
 *     lookup, the due lookup (every job column read), then per run an INSERT into runs and an UPDATE
 *     of the job, the next-due lookup per queue and the next-trigger lookup;
 *   finish (one BEGIN IMMEDIATE transaction for the whole batch):
 *     per run the UPDATE of its history row, the run_totals upsert, the job read back (every column)
 *     and the UPDATE with counters and the next occurrence (fixed rate) or 'done' (one-shot).
 * Statements are prepared once, as the library's statement cache does.
 *
 * Build: cc -O2 -o bench/out/sqlite-limit bench/sqlite_limit.c -lsqlite3
 * Usage: sqlite-limit --db FILE [--workers N] [--synchronous normal|full]
 *                     [--seconds S [--warmup W]]     (without --seconds: until nothing is due)
 * Prints one JSON line: {"runs": R, "seconds": S, "runs_per_second": X, "transactions": T, "cpu_seconds": C}
 * (C: this process's CPU time over the same runs).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#define JOB_COLUMNS                                                                                         \
    "id, name, queue, kind, handler, command, working_directory, payload, schedule_kind, schedule, run_at, " \
    "interval_us, fixed_delay, cron, time_zone, anchor_at, initial_delay_us, timeout_us, max_retries, "     \
    "backoff_us, jitter_us, misfire, state, state_reason, next_run_at, occurrence_at, attempt, trigger_at, " \
    "running_run_id, run_count, ok_count, failed_count, last_outcome, last_started_at, last_finished_at, "   \
    "created_at, updated_at, abandoned_streak"

/* The handler names a jobctl runner registers (its built-ins), as the library encodes them. */
static const char *handlers_json = "[\"optimize\",\"prune-history\",\"tick\",\"wal-checkpoint\"]";

static sqlite3 *db;

/* CPU time of this process (user + system), in seconds. */
static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static void die(const char *what) {
    fprintf(stderr, "sqlite-limit: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) die(sql);
    return s;
}

static void step_done(sqlite3_stmt *s) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {}
    if (rc != SQLITE_DONE) die(sqlite3_sql(s));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static void bind_opt_int(sqlite3_stmt *s, int i, int has, int64_t v) {
    if (has) sqlite3_bind_int64(s, i, v); else sqlite3_bind_null(s, i);
}

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A job row as the library decodes it (every column is read). */
typedef struct {
    int64_t id, run_at, interval_us, anchor_at, next_run_at, occurrence_at, attempt, running_run_id;
    int has_interval, has_anchor, has_next, has_occurrence, has_running, periodic, fixed_delay;
    char name[256];
    char queue[256];
} Job;

static void decode_job(sqlite3_stmt *s, Job *j) {
    memset(j, 0, sizeof *j);
    for (int c = 0; c < 38; c++) {
        /* Touch every column the way the Swift decoder does (text is copied out there). */
        if (sqlite3_column_type(s, c) == SQLITE_TEXT) (void)sqlite3_column_bytes(s, c);
    }
    j->id = sqlite3_column_int64(s, 0);
    snprintf(j->name, sizeof j->name, "%s", (const char *)sqlite3_column_text(s, 1));
    snprintf(j->queue, sizeof j->queue, "%s", (const char *)sqlite3_column_text(s, 2));
    j->periodic = strcmp((const char *)sqlite3_column_text(s, 8), "once") != 0;
    j->run_at = sqlite3_column_int64(s, 10);
    j->has_interval = sqlite3_column_type(s, 11) != SQLITE_NULL;
    j->interval_us = sqlite3_column_int64(s, 11);
    j->fixed_delay = sqlite3_column_int64(s, 12) != 0;
    j->has_anchor = sqlite3_column_type(s, 15) != SQLITE_NULL;
    j->anchor_at = sqlite3_column_int64(s, 15);
    j->has_next = sqlite3_column_type(s, 24) != SQLITE_NULL;
    j->next_run_at = sqlite3_column_int64(s, 24);
    j->has_occurrence = sqlite3_column_type(s, 25) != SQLITE_NULL;
    j->occurrence_at = sqlite3_column_int64(s, 25);
    j->attempt = sqlite3_column_int64(s, 26);
    j->has_running = sqlite3_column_type(s, 28) != SQLITE_NULL;
    j->running_run_id = sqlite3_column_int64(s, 28);
}

/* Fixed-rate slots are anchor + k * interval: the first one strictly after t. */
static int64_t slot_after(int64_t t, int64_t anchor, int64_t interval) {
    if (t < anchor) return anchor;
    return anchor + ((t - anchor) / interval + 1) * interval;
}

/* The latest slot at or before t. */
static int64_t slot_at_or_before(int64_t t, int64_t anchor, int64_t interval) {
    return anchor + ((t - anchor) / interval) * interval;
}

typedef struct {
    int64_t run_id, job_id, occurrence;
} Claim;

static sqlite3_stmt *st_begin, *st_commit, *st_fence, *st_running, *st_queues, *st_triggered, *st_due, *st_insert_run,
    *st_mark_running, *st_next_due, *st_next_trigger, *st_finish_run, *st_totals, *st_job_by_id, *st_update_job;

static void prepare_all(void) {
    st_begin = prepare("BEGIN IMMEDIATE");
    st_commit = prepare("COMMIT");
    st_fence = prepare("SELECT count(*) FROM runners WHERE id = ? AND state IN ('running', 'draining')");
    st_running = prepare(
        "SELECT queue, count(*) FROM runs WHERE outcome = 'running' AND queue IS NOT NULL GROUP BY queue");
    st_queues = prepare("SELECT name, concurrency, paused FROM queues");
    st_triggered = prepare(
        "SELECT " JOB_COLUMNS " FROM jobs\n"
        "WHERE trigger_at IS NOT NULL AND trigger_at <= ? AND running_run_id IS NULL\n"
        "    AND (kind = 'command' OR handler IN (SELECT value FROM json_each(?)))\n"
        "ORDER BY trigger_at LIMIT ?");
    st_due = prepare(
        "SELECT " JOB_COLUMNS " FROM jobs\n"
        "WHERE queue = ? AND state = 'active' AND running_run_id IS NULL AND next_run_at IS NOT NULL\n"
        "    AND next_run_at <= ? AND (kind = 'command' OR handler IN (SELECT value FROM json_each(?)))\n"
        "ORDER BY next_run_at LIMIT ?");
    st_insert_run = prepare(
        "INSERT INTO runs (id, job_id, job_name, queue, attempt, scheduled_for, started_at, runner_id, outcome, "
        "triggered)\n"
        "VALUES (max((SELECT coalesce(max(id), 0) FROM runs), (SELECT id FROM run_id_floor)) + 1,\n"
        "    ?, ?, ?, ?, ?, ?, ?, 'running', ?)");
    st_mark_running = prepare("UPDATE jobs SET running_run_id = ?, last_started_at = ?, occurrence_at = ? WHERE id = ?");
    st_next_due = prepare(
        "SELECT next_run_at FROM jobs\n"
        "WHERE queue = ? AND state = 'active' AND running_run_id IS NULL AND next_run_at IS NOT NULL\n"
        "    AND (kind = 'command' OR handler IN (SELECT value FROM json_each(?)))\n"
        "ORDER BY next_run_at LIMIT 1");
    st_next_trigger = prepare("SELECT trigger_at FROM jobs WHERE trigger_at IS NOT NULL ORDER BY trigger_at LIMIT 1");
    st_finish_run = prepare(
        "UPDATE runs SET outcome = ?, finished_at = ?, exit_code = ?, error = ?, output_bytes = ?\n"
        "WHERE id = ? AND outcome = 'running' AND runner_id = ?");
    st_totals = prepare(
        "INSERT INTO run_totals (outcome, count) VALUES (?, 1) ON CONFLICT(outcome) DO UPDATE SET count = count + 1");
    st_job_by_id = prepare("SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?");
    st_update_job = prepare(
        "UPDATE jobs SET running_run_id = NULL, run_count = run_count + 1, ok_count = ok_count + ?,\n"
        "    failed_count = failed_count + ?, last_outcome = ?, last_finished_at = ?, state = ?, state_reason = ?,\n"
        "    occurrence_at = ?, next_run_at = ?, attempt = ?, abandoned_streak = ?,\n"
        "    trigger_at = CASE WHEN ? THEN coalesce(trigger_at, ?) ELSE trigger_at END\n"
        "WHERE id = ?");
}

#define MAX_QUEUES 64
typedef struct {
    char name[256];
    int64_t free;
} Queue;

static int64_t transactions;

/* One claim transaction; returns the number of runs claimed into `claims`. */
static int claim(int64_t runner_id, int64_t now, int slots, Claim *claims) {
    step_done(st_begin);
    transactions++;
    /* The fence: the runner must still be live (the library stops claiming otherwise). */
    sqlite3_bind_int64(st_fence, 1, runner_id);
    if (sqlite3_step(st_fence) != SQLITE_ROW || sqlite3_column_int64(st_fence, 0) != 1) die("fence");
    sqlite3_reset(st_fence);
    sqlite3_clear_bindings(st_fence);
    Queue queues[MAX_QUEUES];
    int nq = 0;
    char running_queue[MAX_QUEUES][256];
    int64_t running_count[MAX_QUEUES];
    int nr = 0;
    while (sqlite3_step(st_running) == SQLITE_ROW && nr < MAX_QUEUES) {
        snprintf(running_queue[nr], 256, "%s", (const char *)sqlite3_column_text(st_running, 0));
        running_count[nr++] = sqlite3_column_int64(st_running, 1);
    }
    sqlite3_reset(st_running);
    while (sqlite3_step(st_queues) == SQLITE_ROW && nq < MAX_QUEUES) {
        if (sqlite3_column_int64(st_queues, 2) != 0) continue;
        snprintf(queues[nq].name, 256, "%s", (const char *)sqlite3_column_text(st_queues, 0));
        int64_t running = 0;
        for (int i = 0; i < nr; i++)
            if (strcmp(running_queue[i], queues[nq].name) == 0) running = running_count[i];
        int64_t free = sqlite3_column_int64(st_queues, 1) - running;
        queues[nq++].free = free > 0 ? free : 0;
    }
    sqlite3_reset(st_queues);
    /* Sorted by name, as the library walks them. */
    for (int i = 1; i < nq; i++)
        for (int k = i; k > 0 && strcmp(queues[k - 1].name, queues[k].name) > 0; k--) {
            Queue t = queues[k]; queues[k] = queues[k - 1]; queues[k - 1] = t;
        }

    int n = 0;
    Job job;
    if (slots > 0) {
        sqlite3_bind_int64(st_triggered, 1, now);
        sqlite3_bind_text(st_triggered, 2, handlers_json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st_triggered, 3, slots);
        while (sqlite3_step(st_triggered) == SQLITE_ROW) decode_job(st_triggered, &job); /* none in this benchmark */
        sqlite3_reset(st_triggered);
        sqlite3_clear_bindings(st_triggered);
    }
    for (int q = 0; q < nq; q++) {
        if (slots <= 0 || queues[q].free <= 0) continue;
        int64_t limit = slots < queues[q].free ? slots : queues[q].free;
        sqlite3_bind_text(st_due, 1, queues[q].name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st_due, 2, now);
        sqlite3_bind_text(st_due, 3, handlers_json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st_due, 4, limit);
        Job due[limit > 0 ? limit : 1];
        int nd = 0;
        while (sqlite3_step(st_due) == SQLITE_ROW) decode_job(st_due, &due[nd++]);
        sqlite3_reset(st_due);
        sqlite3_clear_bindings(st_due);
        for (int i = 0; i < nd; i++) {
            Job *j = &due[i];
            /* Misfire resolution (coalesce) for fixed-rate jobs; one-shot jobs run their occurrence. */
            int64_t occurrence = j->has_occurrence ? j->occurrence_at : (j->has_next ? j->next_run_at : now);
            if (j->periodic && j->attempt == 1 && j->has_occurrence && !j->fixed_delay) {
                int64_t anchor = j->has_anchor ? j->anchor_at : j->occurrence_at;
                if (slot_after(j->occurrence_at, anchor, j->interval_us) <= now)
                    occurrence = slot_at_or_before(now, anchor, j->interval_us);
            }
            int64_t scheduled_for = (j->has_occurrence && occurrence == j->occurrence_at && j->has_next)
                ? j->next_run_at : occurrence;
            sqlite3_bind_int64(st_insert_run, 1, j->id);
            sqlite3_bind_text(st_insert_run, 2, j->name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st_insert_run, 3, queues[q].name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st_insert_run, 4, j->attempt);
            sqlite3_bind_int64(st_insert_run, 5, scheduled_for);
            sqlite3_bind_int64(st_insert_run, 6, now);
            sqlite3_bind_int64(st_insert_run, 7, runner_id);
            sqlite3_bind_int64(st_insert_run, 8, 0);
            step_done(st_insert_run);
            int64_t run_id = sqlite3_last_insert_rowid(db);
            sqlite3_bind_int64(st_mark_running, 1, run_id);
            sqlite3_bind_int64(st_mark_running, 2, now);
            sqlite3_bind_int64(st_mark_running, 3, occurrence);
            sqlite3_bind_int64(st_mark_running, 4, j->id);
            step_done(st_mark_running);
            claims[n].run_id = run_id;
            claims[n].job_id = j->id;
            claims[n].occurrence = occurrence;
            n++;
        }
        queues[q].free -= nd;
        slots -= nd;
    }
    for (int q = 0; q < nq; q++) {
        if (queues[q].free <= 0) continue;
        sqlite3_bind_text(st_next_due, 1, queues[q].name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st_next_due, 2, handlers_json, -1, SQLITE_STATIC);
        while (sqlite3_step(st_next_due) == SQLITE_ROW) (void)sqlite3_column_int64(st_next_due, 0);
        sqlite3_reset(st_next_due);
        sqlite3_clear_bindings(st_next_due);
    }
    while (sqlite3_step(st_next_trigger) == SQLITE_ROW) (void)sqlite3_column_int64(st_next_trigger, 0);
    sqlite3_reset(st_next_trigger);
    step_done(st_commit);
    return n;
}

/* One finish transaction for a batch of completed runs (outcome ok). */
static void finish(int64_t runner_id, const Claim *claims, int n) {
    step_done(st_begin);
    transactions++;
    for (int i = 0; i < n; i++) {
        int64_t finished_at = now_us();
        sqlite3_bind_text(st_finish_run, 1, "ok", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st_finish_run, 2, finished_at);
        sqlite3_bind_null(st_finish_run, 3);
        sqlite3_bind_null(st_finish_run, 4);
        sqlite3_bind_null(st_finish_run, 5);
        sqlite3_bind_int64(st_finish_run, 6, claims[i].run_id);
        sqlite3_bind_int64(st_finish_run, 7, runner_id);
        step_done(st_finish_run);
        if (sqlite3_changes(db) != 1) continue;
        sqlite3_bind_text(st_totals, 1, "ok", -1, SQLITE_STATIC);
        step_done(st_totals);
        Job job;
        int found = 0;
        sqlite3_bind_int64(st_job_by_id, 1, claims[i].job_id);
        if (sqlite3_step(st_job_by_id) == SQLITE_ROW) {
            decode_job(st_job_by_id, &job);
            found = 1;
        }
        sqlite3_reset(st_job_by_id);
        sqlite3_clear_bindings(st_job_by_id);
        if (!found || !job.has_running || job.running_run_id != claims[i].run_id) continue;
        /* After an ok run: the next fixed-rate slot, or done for a one-shot job. */
        int has_next = 0;
        int64_t next = 0;
        if (job.periodic && job.has_interval) {
            int64_t anchor = job.has_anchor ? job.anchor_at : claims[i].occurrence;
            next = job.fixed_delay ? finished_at + job.interval_us
                                   : slot_after(claims[i].occurrence, anchor, job.interval_us);
            has_next = 1;
        }
        sqlite3_bind_int64(st_update_job, 1, 1);
        sqlite3_bind_int64(st_update_job, 2, 0);
        sqlite3_bind_text(st_update_job, 3, "ok", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st_update_job, 4, finished_at);
        sqlite3_bind_text(st_update_job, 5, has_next ? "active" : "done", -1, SQLITE_STATIC);
        sqlite3_bind_null(st_update_job, 6);
        bind_opt_int(st_update_job, 7, has_next, next);
        bind_opt_int(st_update_job, 8, has_next, next);
        sqlite3_bind_int64(st_update_job, 9, 1);
        sqlite3_bind_int64(st_update_job, 10, 0);
        sqlite3_bind_int64(st_update_job, 11, 0); /* not a trigger to ask for again */
        sqlite3_bind_int64(st_update_job, 12, finished_at);
        sqlite3_bind_int64(st_update_job, 13, job.id);
        step_done(st_update_job);
    }
    step_done(st_commit);
}

int main(int argc, char **argv) {
    const char *path = NULL, *sync = "normal";
    int workers = 256;
    double seconds = 0, warmup = 0.2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) path = argv[++i];
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc) workers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--synchronous") && i + 1 < argc) sync = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: sqlite-limit --db FILE [--workers N] [--synchronous normal|full] [--seconds S [--warmup W]]\n");
            return 64;
        }
    }
    if (!path || workers < 1) {
        fprintf(stderr, "sqlite-limit: --db is required and --workers must be positive\n");
        return 64;
    }
    /* Opened as the library opens it. */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) die("open");
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) die("journal_mode");
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s", strcmp(sync, "full") == 0 ? "FULL" : "NORMAL");
    if (sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK) die("synchronous");
    if (sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK) die("foreign_keys");
    prepare_all();

    /* Registered like a runner. */
    sqlite3_stmt *reg = prepare(
        "INSERT INTO runners (host, pid, started_at, heartbeat_at, lease_us, state, queues, concurrency)\n"
        "VALUES (?, ?, ?, ?, ?, 'running', ?, ?)");
    int64_t t = now_us();
    sqlite3_bind_text(reg, 1, "sqlite-limit", -1, SQLITE_STATIC);
    sqlite3_bind_int64(reg, 2, getpid());
    sqlite3_bind_int64(reg, 3, t);
    sqlite3_bind_int64(reg, 4, t);
    sqlite3_bind_int64(reg, 5, 10000000);
    sqlite3_bind_null(reg, 6);
    sqlite3_bind_int64(reg, 7, workers);
    step_done(reg);
    int64_t runner_id = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(reg);

    Claim *claims = calloc((size_t)workers, sizeof *claims);
    int64_t start = now_us(), runs = 0, window_runs = 0;
    int64_t window_start = start + (int64_t)(warmup * 1e6), window_end = window_start + (int64_t)(seconds * 1e6);
    int64_t measured_start = 0, measured_end = 0;
    double cpu_start = cpu_seconds(), cpu_end = 0;
    for (;;) {
        int64_t now = now_us();
        if (seconds > 0 && now >= window_end) break;
        int n = claim(runner_id, now, workers, claims);
        if (n == 0 && seconds <= 0) break;
        finish(runner_id, claims, n);
        runs += n;
        int64_t done = now_us();
        if (seconds > 0 && done >= window_start) {
            if (measured_start == 0) {
                measured_start = done;
                cpu_start = cpu_seconds();
            } else {
                window_runs += n;
            }
            measured_end = done;
            cpu_end = cpu_seconds();
        }
        if (n == 0) usleep(100);
    }
    double elapsed;
    if (seconds > 0) {
        elapsed = (double)(measured_end - measured_start) / 1e6;
        runs = window_runs;
    } else {
        elapsed = (double)(now_us() - start) / 1e6;
        cpu_end = cpu_seconds();
    }
    printf("{\"runs\": %lld, \"seconds\": %.6f, \"runs_per_second\": %.1f, \"transactions\": %lld, "
           "\"cpu_seconds\": %.6f}\n",
           (long long)runs, elapsed, elapsed > 0 ? (double)runs / elapsed : 0.0, (long long)transactions,
           cpu_end - cpu_start);
    free(claims);
    sqlite3_close(db);
    return 0;
}
