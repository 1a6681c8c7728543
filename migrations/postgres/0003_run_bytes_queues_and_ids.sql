-- A command's output tail as the bytes it wrote, NULs and invalid UTF-8 included (text cannot hold
-- them on PostgreSQL either). Newer runs have it here and `output` is NULL.
ALTER TABLE runs ADD COLUMN output_bytes bytea;

-- The queue a run was claimed from: its slot counts against the queue's limit until the run ends,
-- whatever happens to its job meanwhile (removed, moved to another queue). Runs in flight from before
-- this version take their job's queue. Slots are counted from the runs in flight, by queue, from
-- their partial index; the jobs' own in-flight index served the old count and goes.
ALTER TABLE runs ADD COLUMN queue text;
UPDATE runs SET queue = (SELECT queue FROM jobs WHERE jobs.id = runs.job_id) WHERE outcome = 'running';
DROP INDEX runs_in_flight;
CREATE INDEX runs_in_flight ON runs (runner_id, queue) WHERE outcome = 'running';
DROP INDEX jobs_running;

-- The highest run id ever given, kept when the newest runs are pruned, as on SQLite: a run id
-- (JOB_RUN_ID) identifies one run for the life of the database. The identity's sequence already
-- never goes back; the floor keeps the same readable record, and the claim may check against it.
-- One row, always.
CREATE TABLE run_id_floor (id bigint NOT NULL);
INSERT INTO run_id_floor (id) SELECT coalesce(max(id), 0) FROM runs;

-- SQLite's `AFTER DELETE ... WHEN OLD.id > floor` as one statement-level trigger: a batched prune
-- raises the floor once, to the highest id it deleted, and only upwards.
CREATE FUNCTION runs_keep_id_floor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE run_id_floor SET id = deleted.max_id
      FROM (SELECT max(id) AS max_id FROM runs_deleted) AS deleted
     WHERE deleted.max_id > run_id_floor.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER runs_keep_id_floor AFTER DELETE ON runs
    REFERENCING OLD TABLE AS runs_deleted
    FOR EACH STATEMENT EXECUTE FUNCTION runs_keep_id_floor();
