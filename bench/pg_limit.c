/*
 * bench/pg_limit.c — the PostgreSQL reference of `jobctl bench --db postgres://…`: the SQL a JobRunner
 * runner sends per claim and per finish (Sources/JobRunnerPostgres/PostgresJobStore+Claim.swift),
 * statement for statement, with the same arguments and the same batch, sent from C through libpq with
 * nothing else in between: no handler, no worker tasks, no event loop. It claims up to --batch due
 * jobs, then records all of them in one finish transaction, until none is due. What JobRunner reaches
 * against it is the fraction the issue holds it to.
 *
 * Each of --clients processes registers a runner row of its own, as a runner does. Values are bound
 * parameters (PQexecParams: the extended protocol's unnamed statements, as postgres-nio sends them).
 * The jobs are what the benchmark added: one-shot `tick` handler jobs in queue `default`, so the
 * finish's "after run" values are a one-shot's (done, nothing next).
 *
 * The SQL is the store's since the claim moved into the server (migrations 6 and 8):
 *  - a claim is one statement outside a transaction, `jobrunner_claim(runner, now, queues, handlers,
 *    slots, misfire grace, lead)`, with the arguments a `jobctl bench --runner-child` passes: every
 *    queue (NULL), its registered handlers (bench-probe, prune-history, tick), the free slots (the
 *    batch), the default misfire grace (1 s) and PostgreSQL's default claim lead (100 ms);
 *  - a finish is one transaction of two statements (BEGIN, the runs recorded with the totals and the
 *    jobs read and locked, the jobs written, COMMIT).
 * --per-run sends the store's SQL from before claims and finishes were batched (commit afd08c3: a
 * client-side claim transaction with one insert per claimed run, four statements per finished run).
 *
 * Build: bench/build-pg-reference (cc -O2 … -lpq). Prints one JSON line: runs, seconds, runs/s.
 */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* JobRow.jobColumns (Sources/JobRunner/Storage/StoreRow.swift). */
#define JOB_COLUMNS \
    "id, name, queue, kind, handler, command, working_directory, payload, schedule_kind, schedule, run_at, " \
    "interval_us, fixed_delay, cron, time_zone, anchor_at, initial_delay_us, timeout_us, max_retries, backoff_us, " \
    "jitter_us, misfire, state, state_reason, next_run_at, occurrence_at, attempt, trigger_at, running_run_id, " \
    "run_count, ok_count, failed_count, last_outcome, last_started_at, last_finished_at, created_at, updated_at, " \
    "abandoned_streak, environment, on_failure"

/* The handlers a `jobctl bench --runner-child` registers (JobRegistry.names: sorted). */
#define RUNNER_HANDLERS "{bench-probe,prune-history,tick}"
/* JobRunnerConfiguration's default misfire grace, and PostgresJobStore's default claim lead (µs). */
#define MISFIRE_GRACE_US "1000000"
#define CLAIM_LEAD_US "100000"

static const char *conninfo;
static int batch = 256;
/* --per-run: the SQL of the store before its claims and finishes were batched (one statement per run). */
static int per_run = 0;

/* A growing string, for array literals. */
typedef struct {
    char *s;
    size_t n, cap;
} buf_t;

static void put(buf_t *b, const char *text) {
    size_t len = strlen(text);
    if (b->n + len + 1 > b->cap) {
        b->cap = (b->n + len + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, text, len + 1);
    b->n += len;
}

/* Appends `value` to an array literal being built in `b` ("{" first, "}" at the end), quoted. */
static void element(buf_t *b, const char *value) {
    put(b, b->n > 1 ? ",\"" : "\"");
    for (const char *p = value; *p; p++) {
        char one[3] = {0};
        if (*p == '"' || *p == '\\') { one[0] = '\\'; one[1] = *p; } else one[0] = *p;
        put(b, one);
    }
    put(b, "\"");
}

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(PGconn *c, const char *what) {
    fprintf(stderr, "pg_limit: %s: %s\n", what, c ? PQerrorMessage(c) : "");
    exit(1);
}

/* Runs one statement with text parameters; dies unless it succeeded. The caller PQclear()s. */
static PGresult *q(PGconn *c, const char *sql, int n, const char *const *values) {
    PGresult *r = PQexecParams(c, sql, n, NULL, values, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        fprintf(stderr, "pg_limit: %s\n%s\n", PQresultErrorMessage(r), sql);
        exit(1);
    }
    return r;
}

static void q0(PGconn *c, const char *sql, int n, const char *const *values) { PQclear(q(c, sql, n, values)); }

typedef struct {
    char id[24], name[128], queue[64], attempt[16], occurrence[24];
} job_t;

typedef struct {
    char run_id[24], job_id[24], job_name[128], queue[64], attempt[16], scheduled_for[24], started_at[24];
} claim_t;

/* One claim, as PostgresJobStore.claim: one call of the server's claim function, outside a
 * transaction (the function's statement commits alone). Its rows: one per run claimed (the run's id,
 * occurrence, scheduled time, whether triggered, and the job's columns), then one last row (the runner
 * alive, the next due time, whether some occurrence needs the client's misfire arithmetic). Returns
 * the number of runs claimed into `out`. */
static int claim_function(PGconn *c, const char *runner, claim_t *out) {
    char now[24], slots[16];
    snprintf(now, sizeof now, "%lld", (long long)now_us());
    snprintf(slots, sizeof slots, "%d", batch);
    const char *p[] = {runner, now, NULL, RUNNER_HANDLERS, slots, MISFIRE_GRACE_US, CLAIM_LEAD_US};
    PGresult *r = q(c,
        "SELECT c.end_alive, c.end_next_due, c.end_resolve, c.claim_run_id, c.claim_occurrence,\n"
        "    c.claim_scheduled_for, c.claim_triggered, " JOB_COLUMNS "\n"
        "FROM jobrunner_claim($1, $2, $3::text[], $4::text[],\n"
        "    $5, $6, $7) AS c\n"
        "CROSS JOIN LATERAL (SELECT (c.claim_job).*) AS j",
        7, p);
    int rows = PQntuples(r), n = 0, ended = 0;
    for (int i = 0; i < rows; i++) {
        if (PQgetisnull(r, i, 3)) {
            /* The last row. The jobs are one-shots due now: nothing needs the client's claim. */
            if (strcmp(PQgetvalue(r, i, 0), "t") != 0) die(c, "runner not running");
            if (strcmp(PQgetvalue(r, i, 2), "t") == 0) die(c, "the reference does not resolve misfires");
            ended = 1;
            continue;
        }
        if (n >= batch) die(c, "more claims than slots");
        if (strcmp(PQgetvalue(r, i, 6), "t") == 0) die(c, "the reference does not handle triggers");
        claim_t *k = &out[n++];
        snprintf(k->run_id, sizeof k->run_id, "%s", PQgetvalue(r, i, 3));
        snprintf(k->scheduled_for, sizeof k->scheduled_for, "%s", PQgetvalue(r, i, 5));
        snprintf(k->job_id, sizeof k->job_id, "%s", PQgetvalue(r, i, 7 + 0));
        snprintf(k->job_name, sizeof k->job_name, "%s", PQgetvalue(r, i, 7 + 1));
        snprintf(k->queue, sizeof k->queue, "%s", PQgetvalue(r, i, 7 + 2));
        snprintf(k->attempt, sizeof k->attempt, "%s", PQgetvalue(r, i, 7 + 26));
        /* Claim.startedAt: max(now, scheduled for). */
        snprintf(k->started_at, sizeof k->started_at, "%s",
                 atoll(k->scheduled_for) > atoll(now) ? k->scheduled_for : now);
    }
    PQclear(r);
    if (!ended) die(c, "the claim function returned no last row");
    return n;
}

/* One claim transaction as the store sent it before afd08c3 (--per-run), with one eligible queue
 * (`default`, not paused, limit 1000). Returns the number of runs claimed into `out`. */
static int claim_per_run(PGconn *c, const char *runner, claim_t *out) {
    char now[24], slots[16];
    const char *handlers = "{tick}";
    q0(c, "BEGIN", 0, NULL);
    int free_places = 0, limit = 0;
    char queue[64] = "";
    {
        const char *p[] = {runner};
        PGresult *r = q(c, "SELECT state FROM runners WHERE id = $1 FOR SHARE", 1, p);
        if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "running") != 0) die(c, "runner not running");
        PQclear(r);
    }
    snprintf(now, sizeof now, "%lld", (long long)now_us());
    {
        const char *p[] = {NULL};
        PGresult *r = q(c,
            "SELECT name, concurrency FROM queues\n"
            "WHERE NOT paused AND ($1::text[] IS NULL OR name = ANY($1))\n"
            "ORDER BY name COLLATE \"C\"",
            1, p);
        if (PQntuples(r) != 1) die(c, "expected one queue");
        snprintf(queue, sizeof queue, "%s", PQgetvalue(r, 0, 0));
        limit = atoi(PQgetvalue(r, 0, 1));
        PQclear(r);
    }
    char queues[80];
    snprintf(queues, sizeof queues, "{%s}", queue);
    free_places = limit;
    {
        const char *p[] = {"1246908757", queue};
        q0(c, "SELECT pg_advisory_xact_lock($1, hashtext($2))", 2, p);
    }
    {
        const char *p[] = {queues};
        PGresult *r = q(c,
            "SELECT queue, count(*) FROM runs\n"
            "WHERE outcome = 'running' AND queue = ANY($1) GROUP BY queue",
            1, p);
        for (int i = 0; i < PQntuples(r); i++) free_places -= atoi(PQgetvalue(r, i, 1));
        PQclear(r);
    }
    if (free_places < 0) free_places = 0;
    int want = batch < free_places ? batch : free_places;
    snprintf(slots, sizeof slots, "%d", batch);
    {
        const char *p[] = {now, queues, handlers, slots};
        PGresult *r = q(c,
            "SELECT " JOB_COLUMNS " FROM jobs\n"
            "WHERE trigger_at IS NOT NULL AND trigger_at <= $1 AND running_run_id IS NULL\n"
            "    AND queue = ANY($2) AND (kind = 'command' OR handler = ANY($3))\n"
            "ORDER BY trigger_at LIMIT $4 FOR NO KEY UPDATE SKIP LOCKED",
            4, p);
        if (PQntuples(r) != 0) die(c, "the reference does not handle triggers");
        PQclear(r);
    }
    int n = 0;
    if (want > 0) {
        char lim[16];
        snprintf(lim, sizeof lim, "%d", want);
        const char *p[] = {queue, now, handlers, lim};
        PGresult *r = q(c,
            "SELECT " JOB_COLUMNS " FROM jobs\n"
            "WHERE queue = $1 AND state = 'active' AND running_run_id IS NULL\n"
            "    AND next_run_at IS NOT NULL AND next_run_at <= $2\n"
            "    AND (kind = 'command' OR handler = ANY($3))\n"
            "ORDER BY next_run_at LIMIT $4 FOR NO KEY UPDATE SKIP LOCKED",
            4, p);
        int rows = PQntuples(r);
        job_t *jobs = calloc(rows ? rows : 1, sizeof *jobs);
        for (int i = 0; i < rows; i++) {
            snprintf(jobs[i].id, sizeof jobs[i].id, "%s", PQgetvalue(r, i, 0));
            snprintf(jobs[i].name, sizeof jobs[i].name, "%s", PQgetvalue(r, i, 1));
            snprintf(jobs[i].queue, sizeof jobs[i].queue, "%s", PQgetvalue(r, i, 2));
            snprintf(jobs[i].attempt, sizeof jobs[i].attempt, "%s", PQgetvalue(r, i, 26));
            /* A one-shot due now: its occurrence is its next_run_at (JobTransition.resolve → .run). */
            snprintf(jobs[i].occurrence, sizeof jobs[i].occurrence, "%s", PQgetvalue(r, i, 24));
        }
        PQclear(r);
        if (rows > free_places) rows = free_places; /* what does not fit stays unclaimed */
        for (int i = 0; i < rows; i++) {
            const char *p2[] = {jobs[i].id, jobs[i].name, jobs[i].queue, jobs[i].attempt, jobs[i].occurrence, now,
                                runner, "false", jobs[i].occurrence};
            PGresult *w = q(c,
                "WITH r AS (\n"
                "    INSERT INTO runs (job_id, job_name, queue, attempt, scheduled_for, started_at, runner_id,\n"
                "        outcome, triggered)\n"
                "    VALUES ($1, $2, $3, $4, $5,\n"
                "        $6, $7, 'running', $8)\n"
                "    RETURNING id\n"
                ")\n"
                "UPDATE jobs SET running_run_id = r.id, last_started_at = $6,\n"
                "    trigger_at = CASE WHEN $8 THEN NULL ELSE trigger_at END,\n"
                "    occurrence_at = CASE WHEN $8 THEN occurrence_at ELSE $9 END\n"
                "FROM r WHERE jobs.id = $1\n"
                "RETURNING r.id",
                9, p2);
            if (PQntuples(w) != 1) die(c, "claim insert returned no row");
            claim_t *k = &out[n++];
            snprintf(k->run_id, sizeof k->run_id, "%s", PQgetvalue(w, 0, 0));
            snprintf(k->job_id, sizeof k->job_id, "%s", jobs[i].id);
            snprintf(k->job_name, sizeof k->job_name, "%s", jobs[i].name);
            snprintf(k->queue, sizeof k->queue, "%s", jobs[i].queue);
            snprintf(k->attempt, sizeof k->attempt, "%s", jobs[i].attempt);
            snprintf(k->scheduled_for, sizeof k->scheduled_for, "%s", jobs[i].occurrence);
            snprintf(k->started_at, sizeof k->started_at, "%s", now);
            PQclear(w);
        }
        free(jobs);
    }
    if (free_places - n > 0) {
        {
            const char *p[] = {queue, handlers};
            q0(c,
                "SELECT next_run_at FROM jobs\n"
                "WHERE queue = $1 AND state = 'active' AND running_run_id IS NULL\n"
                "    AND next_run_at IS NOT NULL AND (kind = 'command' OR handler = ANY($2))\n"
                "ORDER BY next_run_at LIMIT 1",
                2, p);
        }
        {
            const char *p[] = {queues, handlers};
            q0(c,
                "SELECT trigger_at FROM jobs\n"
                "WHERE trigger_at IS NOT NULL AND running_run_id IS NULL AND queue = ANY($1)\n"
                "    AND (kind = 'command' OR handler = ANY($2))\n"
                "ORDER BY trigger_at LIMIT 1",
                2, p);
        }
    }
    q0(c, "COMMIT", 0, NULL);
    return n;
}

static int claim(PGconn *c, const char *runner, claim_t *out) {
    return per_run ? claim_per_run(c, runner, out) : claim_function(c, runner, out);
}

/* Finished runs are recorded in run id order (the claim's order already). */
static int cmp_run(const void *a, const void *b) {
    long long x = atoll(((const claim_t *)a)->run_id), y = atoll(((const claim_t *)b)->run_id);
    return x < y ? -1 : x > y;
}

/* PostgresJobStore.finish for `ok` runs of one-shot jobs: one transaction of two statements
 * (recordRuns: the runs fenced and recorded, the totals, the jobs read and locked in id order;
 * updateJobs: the jobs written), four round trips with BEGIN and COMMIT, whatever the batch. */
static void finish_batched(PGconn *c, const char *runner, claim_t *runs, int n) {
    char finished[24];
    qsort(runs, n, sizeof *runs, cmp_run);
    buf_t ids = {0}, runners = {0}, outcomes = {0}, fin = {0}, exits = {0}, has_exit = {0}, errors = {0},
          has_error = {0}, outputs = {0}, has_output = {0}, job_ids = {0}, zeros = {0}, ones = {0}, states = {0},
          falses = {0}, scheduled = {0};
    buf_t *all[] = {&ids, &runners, &outcomes, &fin, &exits, &has_exit, &errors, &has_error, &outputs,
                    &has_output, &job_ids, &zeros, &ones, &states, &falses, &scheduled};
    int count = (int)(sizeof all / sizeof *all);
    for (int k = 0; k < count; k++) put(all[k], "{");
    for (int i = 0; i < n; i++) {
        snprintf(finished, sizeof finished, "%lld", (long long)now_us());
        element(&ids, runs[i].run_id);
        element(&runners, runner);
        element(&outcomes, "ok");
        element(&fin, finished);
        element(&exits, "0");
        element(&has_exit, "false");
        element(&errors, "");
        element(&has_error, "false");
        element(&outputs, "");
        element(&has_output, "false");
        element(&job_ids, runs[i].job_id);
        element(&zeros, "0");
        element(&ones, "1");
        element(&states, "done");
        element(&falses, "false");
        element(&scheduled, runs[i].scheduled_for);
    }
    for (int k = 0; k < count; k++) put(all[k], "}");
    q0(c, "BEGIN", 0, NULL);
    {
        const char *p[] = {ids.s, runners.s, outcomes.s, fin.s, exits.s, has_exit.s, errors.s, has_error.s,
                           outputs.s, has_output.s};
        PGresult *r = q(c,
            "WITH recorded AS (\n"
            "    UPDATE runs SET outcome = c.outcome, finished_at = c.finished_at,\n"
            "        exit_code = CASE WHEN c.has_exit THEN c.exit_code END,\n"
            "        error = CASE WHEN c.has_error THEN c.error END,\n"
            "        output_bytes = CASE WHEN c.has_output THEN c.output END\n"
            "    FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[],\n"
            "        $5::int[], $6::boolean[], $7::text[], $8::boolean[],\n"
            "        $9::bytea[], $10::boolean[])\n"
            "        AS c(id, runner_id, outcome, finished_at, exit_code, has_exit, error, has_error, output,\n"
            "            has_output)\n"
            "    WHERE runs.id = c.id AND runs.outcome = 'running' AND runs.runner_id = c.runner_id\n"
            "    RETURNING runs.id AS recorded_run_id, runs.job_id AS recorded_job_id,\n"
            "        runs.runner_id AS recorded_runner_id, runs.outcome AS recorded_outcome\n"
            "),\n"
            "totals AS (\n"
            "    INSERT INTO run_totals (outcome, shard, count)\n"
            "    SELECT recorded_outcome, (recorded_runner_id % 16)::smallint, count(*) FROM recorded\n"
            "    GROUP BY 1, 2 ORDER BY 1, 2\n"
            "    ON CONFLICT (outcome, shard) DO UPDATE SET count = run_totals.count + excluded.count\n"
            ")\n"
            "SELECT recorded_run_id, " JOB_COLUMNS "\n"
            "FROM recorded JOIN jobs ON jobs.id = recorded_job_id\n"
            "ORDER BY jobs.id FOR NO KEY UPDATE OF jobs",
            10, p);
        if (PQntuples(r) != n) die(c, "finish fenced");
        /* updateJobs writes only jobs still in flight with the run just recorded. */
        for (int i = 0; i < n; i++)
            if (strcmp(PQgetvalue(r, i, 1 + 28), PQgetvalue(r, i, 0)) != 0) die(c, "job not ours");
        PQclear(r);
    }
    {
        /* JobTransition.afterRun of a one-shot that ran ok: done, nothing next. */
        const char *p[] = {job_ids.s, ones.s, zeros.s, outcomes.s, fin.s, states.s, errors.s, falses.s, zeros.s,
                           falses.s, zeros.s, falses.s, ones.s, zeros.s, falses.s, scheduled.s};
        q0(c,
            "UPDATE jobs SET running_run_id = NULL, run_count = run_count + 1, ok_count = ok_count + u.ok,\n"
            "    failed_count = failed_count + u.failed, last_outcome = u.outcome,\n"
            "    last_finished_at = u.finished_at, state = u.state,\n"
            "    state_reason = CASE WHEN u.has_reason THEN u.reason END,\n"
            "    occurrence_at = CASE WHEN u.has_occurrence THEN u.occurrence END,\n"
            "    next_run_at = CASE WHEN u.has_next THEN u.next END,\n"
            "    attempt = u.attempt, abandoned_streak = u.streak,\n"
            "    trigger_at = CASE WHEN u.retrigger THEN coalesce(jobs.trigger_at, u.scheduled_for)\n"
            "        ELSE jobs.trigger_at END\n"
            "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[],\n"
            "    $5::bigint[], $6::text[], $7::text[], $8::boolean[],\n"
            "    $9::bigint[], $10::boolean[], $11::bigint[],\n"
            "    $12::boolean[], $13::int[], $14::int[], $15::boolean[],\n"
            "    $16::bigint[])\n"
            "    AS u(id, ok, failed, outcome, finished_at, state, reason, has_reason, occurrence, has_occurrence,\n"
            "        next, has_next, attempt, streak, retrigger, scheduled_for)\n"
            "WHERE jobs.id = u.id",
            16, p);
    }
    q0(c, "COMMIT", 0, NULL);
    for (int k = 0; k < count; k++) free(all[k]->s);
}

static void finish(PGconn *c, const char *runner, claim_t *runs, int n) {
    char finished[24], shard[8];
    if (!per_run) {
        finish_batched(c, runner, runs, n);
        return;
    }
    snprintf(shard, sizeof shard, "%lld", atoll(runner) % 16);
    q0(c, "BEGIN", 0, NULL);
    for (int i = 0; i < n; i++) {
        snprintf(finished, sizeof finished, "%lld", (long long)now_us());
        {
            const char *p[] = {"ok", finished, NULL, NULL, NULL, runs[i].run_id, runner};
            PGresult *r = q(c,
                "UPDATE runs SET outcome = $1, finished_at = $2, exit_code = $3,\n"
                "    error = $4, output_bytes = $5\n"
                "WHERE id = $6 AND outcome = 'running' AND runner_id = $7\n"
                "RETURNING 1",
                7, p);
            if (PQntuples(r) != 1) die(c, "finish fenced");
            PQclear(r);
        }
        {
            const char *p[] = {"ok", shard};
            q0(c,
                "INSERT INTO run_totals (outcome, shard, count) VALUES ($1, $2, 1)\n"
                "ON CONFLICT (outcome, shard) DO UPDATE SET count = run_totals.count + 1",
                2, p);
        }
        {
            const char *p[] = {runs[i].job_id};
            PGresult *r = q(c, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1 FOR NO KEY UPDATE", 1, p);
            if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 28), runs[i].run_id) != 0) die(c, "job not ours");
            PQclear(r);
        }
        {
            /* JobTransition.afterRun of a one-shot that ran ok: done, nothing next. */
            const char *p[] = {"1", "0", "ok", finished, "done", NULL, NULL, NULL, "1", "0", "false",
                               runs[i].scheduled_for, runs[i].job_id};
            q0(c,
                "UPDATE jobs SET running_run_id = NULL, run_count = run_count + 1, ok_count = ok_count + $1,\n"
                "    failed_count = failed_count + $2, last_outcome = $3,\n"
                "    last_finished_at = $4, state = $5,\n"
                "    state_reason = $6, occurrence_at = $7,\n"
                "    next_run_at = $8, attempt = $9,\n"
                "    abandoned_streak = $10,\n"
                "    trigger_at = CASE WHEN $11 THEN coalesce(trigger_at, $12)\n"
                "        ELSE trigger_at END\n"
                "WHERE id = $13",
                13, p);
        }
    }
    q0(c, "COMMIT", 0, NULL);
}

static long client(void) {
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) die(c, "connect");
    char runner[24], now[24], pid[16], concurrency[16];
    snprintf(now, sizeof now, "%lld", (long long)now_us());
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(concurrency, sizeof concurrency, "%d", batch);
    {
        const char *p[] = {"pg-limit", pid, now, now, concurrency};
        PGresult *r = q(c,
            "INSERT INTO runners (host, pid, started_at, heartbeat_at, lease_us, state, queues, concurrency)\n"
            "VALUES ($1, $2, $3, $4, 10000000, 'running', NULL, $5) RETURNING id",
            5, p);
        snprintf(runner, sizeof runner, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    claim_t *runs = calloc(batch, sizeof *runs);
    long total = 0;
    for (;;) {
        int n = claim(c, runner, runs);
        if (n == 0) break;
        finish(c, runner, runs, n);
        total += n;
    }
    {
        const char *p[] = {runner};
        q0(c, "UPDATE runners SET state = 'stopped' WHERE id = $1", 1, p);
    }
    PQfinish(c);
    return total;
}

int main(int argc, char **argv) {
    int clients = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) conninfo = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--clients") && i + 1 < argc) clients = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--per-run")) per_run = 1;
        else {
            fprintf(stderr, "usage: pg_limit --db CONNINFO_OR_URL [--batch N] [--clients N] [--per-run]\n");
            return 2;
        }
    }
    if (!conninfo || batch < 1 || clients < 1) {
        fprintf(stderr, "usage: pg_limit --db CONNINFO_OR_URL [--batch N] [--clients N] [--per-run]\n");
        return 2;
    }
    int64_t start = now_us();
    int fds[64][2];
    if (clients > 64) clients = 64;
    for (int i = 0; i < clients; i++) {
        if (pipe(fds[i]) != 0) return 1;
        pid_t p = fork();
        if (p == 0) {
            long n = client();
            if (write(fds[i][1], &n, sizeof n) != sizeof n) _exit(1);
            _exit(0);
        }
        close(fds[i][1]);
    }
    long total = 0;
    int failed = 0;
    for (int i = 0; i < clients; i++) {
        long n = 0;
        if (read(fds[i][0], &n, sizeof n) == sizeof n) total += n; else failed = 1;
        close(fds[i][0]);
    }
    while (wait(NULL) > 0) {}
    double seconds = (now_us() - start) / 1e6;
    printf("{\"runs\": %ld, \"seconds\": %.6f, \"runs_per_second\": %.1f, \"clients\": %d, \"batch\": %d, "
           "\"per_run\": %s}\n",
           total, seconds, total / seconds, clients, batch, per_run ? "true" : "false");
    return failed;
}
