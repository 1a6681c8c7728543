-- JobRunner schema, version 1.
-- Instants are INTEGER Unix microseconds (UTC); spans are INTEGER microseconds.
-- This schema is public for reading (querying run history with sqlite3); write through jobctl or the library.

CREATE TABLE queues (
    name        TEXT PRIMARY KEY,
    concurrency INTEGER NOT NULL DEFAULT 1000 CHECK (concurrency >= 1),  -- across all runners; runners' own slots usually decide
    paused      INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    queue             TEXT NOT NULL REFERENCES queues(name),
    kind              TEXT NOT NULL CHECK (kind IN ('handler', 'command')),
    handler           TEXT,
    command           TEXT,            -- JSON array of argv strings, for kind = 'command'
    working_directory TEXT,
    payload           TEXT,            -- JSON text, or NULL
    schedule_kind     TEXT NOT NULL CHECK (schedule_kind IN ('once', 'every', 'cron')),
    schedule          TEXT NOT NULL,   -- readable form, e.g. 'every 100ms', 'cron 0 3 * * * (Europe/Berlin)'
    run_at            INTEGER,         -- once: the instant
    interval_us       INTEGER,         -- every: the interval
    fixed_delay       INTEGER NOT NULL DEFAULT 0 CHECK (fixed_delay IN (0, 1)),
    cron              TEXT,
    time_zone         TEXT,
    anchor_at         INTEGER,         -- every, fixed rate: slots are anchor_at + k * interval_us
    initial_delay_us  INTEGER,         -- NULL: the first run is one interval (or the first cron slot) after adding
    timeout_us        INTEGER,
    max_retries       INTEGER NOT NULL DEFAULT 0 CHECK (max_retries >= 0),
    backoff_us        INTEGER NOT NULL DEFAULT 1000000,
    jitter_us         INTEGER NOT NULL DEFAULT 0,
    misfire           TEXT NOT NULL DEFAULT 'coalesce' CHECK (misfire IN ('coalesce', 'skip', 'catch-up')),
    state             TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'stopped', 'done')),
    state_reason      TEXT,
    next_run_at       INTEGER,         -- when the next run may be claimed (occurrence + jitter, or a retry's backoff)
    occurrence_at     INTEGER,         -- the schedule slot the next run stands for
    attempt           INTEGER NOT NULL DEFAULT 1,
    trigger_at        INTEGER,         -- a manual trigger waiting to run
    running_run_id    INTEGER,         -- the run in flight; a job never runs twice at once
    run_count         INTEGER NOT NULL DEFAULT 0,
    ok_count          INTEGER NOT NULL DEFAULT 0,
    failed_count      INTEGER NOT NULL DEFAULT 0,
    abandoned_streak  INTEGER NOT NULL DEFAULT 0,
    last_outcome      TEXT,
    last_started_at   INTEGER,
    last_finished_at  INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;

-- The due lookup: O(log n) per queue, whatever the number of jobs.
CREATE INDEX jobs_due ON jobs(queue, next_run_at)
    WHERE state = 'active' AND running_run_id IS NULL AND next_run_at IS NOT NULL;
CREATE INDEX jobs_triggered ON jobs(trigger_at) WHERE trigger_at IS NOT NULL;
CREATE INDEX jobs_running ON jobs(queue) WHERE running_run_id IS NOT NULL;
CREATE INDEX jobs_state ON jobs(state);

CREATE TABLE runners (
    id                 INTEGER PRIMARY KEY,
    host               TEXT NOT NULL,
    pid                INTEGER NOT NULL,
    started_at         INTEGER NOT NULL,
    heartbeat_at       INTEGER NOT NULL,
    lease_us           INTEGER NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('running', 'draining', 'stopped', 'dead')),
    queues             TEXT,           -- JSON array of queue names, NULL for all
    concurrency        INTEGER NOT NULL,
    stopped_at         INTEGER
) STRICT;

CREATE INDEX runners_live ON runners(state) WHERE state IN ('running', 'draining');

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    job_id        INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    job_name      TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    scheduled_for INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    runner_id     INTEGER,
    outcome       TEXT NOT NULL
        CHECK (outcome IN ('running', 'ok', 'failed', 'timeout', 'interrupted', 'abandoned')),
    exit_code     INTEGER,
    error         TEXT,
    output        TEXT,
    triggered     INTEGER NOT NULL DEFAULT 0 CHECK (triggered IN (0, 1))
) STRICT;

CREATE INDEX runs_job ON runs(job_id, id);
CREATE INDEX runs_job_name ON runs(job_name, id);
CREATE INDEX runs_finished ON runs(finished_at);
CREATE INDEX runs_in_flight ON runs(runner_id) WHERE outcome = 'running';

-- Totals by outcome over all time: pruning history does not change them.
CREATE TABLE run_totals (
    outcome TEXT PRIMARY KEY,
    count   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Requests to runners from other processes (a `jobctl drain`).
CREATE TABLE control (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('drain')),
    runner_id    INTEGER NOT NULL REFERENCES runners(id) ON DELETE CASCADE,
    grace_us     INTEGER,
    requested_at INTEGER NOT NULL,
    handled_at   INTEGER
) STRICT;

CREATE INDEX control_pending ON control(runner_id) WHERE handled_at IS NULL;
