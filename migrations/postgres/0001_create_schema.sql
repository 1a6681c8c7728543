-- JobRunner schema for PostgreSQL, version 1: the translation of ../0001_create_schema.sql.
-- Instants are bigint Unix microseconds (UTC); spans are bigint microseconds, as on SQLite, so that
-- Swift's arithmetic and the --json output are the same on both stores. 0/1 flags are boolean.
-- This schema is public for reading (querying run history with psql); write through jobctl or the library.

CREATE TABLE queues (
    name        text PRIMARY KEY,
    concurrency integer NOT NULL DEFAULT 1000 CHECK (concurrency >= 1),  -- across all runners
    paused      boolean NOT NULL DEFAULT false,
    updated_at  bigint NOT NULL
);

CREATE TABLE jobs (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL UNIQUE,
    queue             text NOT NULL REFERENCES queues(name),
    kind              text NOT NULL CHECK (kind IN ('handler', 'command')),
    handler           text,
    command           jsonb CHECK (command IS NULL OR jsonb_typeof(command) = 'array'),  -- argv, kind = 'command'
    working_directory text,
    payload           json,            -- json, not jsonb: the payload's text round-trips exactly (key order, duplicates)
    schedule_kind     text NOT NULL CHECK (schedule_kind IN ('once', 'every', 'cron')),
    schedule          text NOT NULL,   -- readable form, e.g. 'every 100ms', 'cron 0 3 * * * (Europe/Berlin)'
    run_at            bigint,          -- once: the instant
    interval_us       bigint,          -- every: the interval
    fixed_delay       boolean NOT NULL DEFAULT false,
    cron              text,
    time_zone         text,
    anchor_at         bigint,          -- every, fixed rate: slots are anchor_at + k * interval_us
    initial_delay_us  bigint,          -- NULL: the first run is one interval (or the first cron slot) after adding
    timeout_us        bigint,
    max_retries       integer NOT NULL DEFAULT 0 CHECK (max_retries >= 0),
    backoff_us        bigint NOT NULL DEFAULT 1000000,
    jitter_us         bigint NOT NULL DEFAULT 0,
    misfire           text NOT NULL DEFAULT 'coalesce' CHECK (misfire IN ('coalesce', 'skip', 'catch-up')),
    state             text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'stopped', 'done')),
    state_reason      text,
    next_run_at       bigint,          -- when the next run may be claimed (occurrence + jitter, or a retry's backoff)
    occurrence_at     bigint,          -- the schedule slot the next run stands for
    attempt           integer NOT NULL DEFAULT 1,
    trigger_at        bigint,          -- a manual trigger waiting to run
    running_run_id    bigint,          -- the run in flight; a job never runs twice at once
    run_count         bigint NOT NULL DEFAULT 0,
    ok_count          bigint NOT NULL DEFAULT 0,
    failed_count      bigint NOT NULL DEFAULT 0,
    abandoned_streak  integer NOT NULL DEFAULT 0,
    last_outcome      text,
    last_started_at   bigint,
    last_finished_at  bigint,
    created_at        bigint NOT NULL,
    updated_at        bigint NOT NULL
) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01);  -- rows are updated at every run: keep them HOT

-- The due lookup: O(log n) per queue, whatever the number of jobs.
CREATE INDEX jobs_due ON jobs (queue, next_run_at)
    WHERE state = 'active' AND running_run_id IS NULL AND next_run_at IS NOT NULL;
CREATE INDEX jobs_triggered ON jobs (trigger_at) WHERE trigger_at IS NOT NULL;
CREATE INDEX jobs_running ON jobs (queue) WHERE running_run_id IS NOT NULL;
CREATE INDEX jobs_state ON jobs (state);

CREATE TABLE runners (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host               text NOT NULL,
    pid                integer NOT NULL,
    started_at         bigint NOT NULL,
    heartbeat_at       bigint NOT NULL,
    lease_us           bigint NOT NULL,
    state              text NOT NULL CHECK (state IN ('running', 'draining', 'stopped', 'dead')),
    queues             text[],         -- queue names, NULL for all
    concurrency        integer NOT NULL,
    stopped_at         bigint
);

CREATE INDEX runners_live ON runners (state) WHERE state IN ('running', 'draining');

-- Run ids come from the identity's sequence, which never gives an id twice (no max(id) + 1 race
-- between runners claiming at once); the id is JOB_RUN_ID and the fencing token of the run.
CREATE TABLE runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id        bigint REFERENCES jobs(id) ON DELETE SET NULL,
    job_name      text NOT NULL,
    attempt       integer NOT NULL,
    scheduled_for bigint NOT NULL,
    started_at    bigint NOT NULL,
    finished_at   bigint,
    runner_id     bigint,
    outcome       text NOT NULL
        CHECK (outcome IN ('running', 'ok', 'failed', 'timeout', 'interrupted', 'abandoned')),
    exit_code     integer,
    error         text,
    output        text,
    triggered     boolean NOT NULL DEFAULT false
);

CREATE INDEX runs_job ON runs (job_id, id);
CREATE INDEX runs_job_name ON runs (job_name, id);
CREATE INDEX runs_finished ON runs (finished_at);
CREATE INDEX runs_in_flight ON runs (runner_id) WHERE outcome = 'running';

-- Totals by outcome over all time: pruning history does not change them. Sharded by runner
-- (runner_id % 16) so that the finishes of many runners do not all queue on one row per outcome;
-- readers sum the shards.
CREATE TABLE run_totals (
    outcome text NOT NULL,
    shard   smallint NOT NULL,
    count   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (outcome, shard)
);

-- Requests to runners from other processes (a `jobctl drain`).
CREATE TABLE control (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('drain')),
    runner_id    bigint NOT NULL REFERENCES runners(id) ON DELETE CASCADE,
    grace_us     bigint,
    requested_at bigint NOT NULL,
    handled_at   bigint
);

CREATE INDEX control_pending ON control (runner_id) WHERE handled_at IS NULL;
