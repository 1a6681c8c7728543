-- A command's output tail as the bytes it wrote, NULs and invalid UTF-8 included. Runs recorded
-- before this version keep their text in `output`; newer ones have it here (`output` is NULL).
ALTER TABLE runs ADD COLUMN output_bytes BLOB;

-- The queue a run was claimed from: its slot counts against the queue's limit until the run ends,
-- whatever happens to its job meanwhile (removed, moved to another queue). Runs in flight from before
-- this version take their job's queue. Slots are counted from the runs in flight, by queue, in one
-- covering scan of their index; the jobs' own in-flight index served the old count and goes.
ALTER TABLE runs ADD COLUMN queue TEXT;
UPDATE runs SET queue = (SELECT queue FROM jobs WHERE jobs.id = runs.job_id) WHERE outcome = 'running';
DROP INDEX runs_in_flight;
CREATE INDEX runs_in_flight ON runs(runner_id, queue) WHERE outcome = 'running';
DROP INDEX jobs_running;

-- The highest run id ever given, so that an id is never given twice, even after the newest runs
-- were pruned: a run id (JOB_RUN_ID) identifies one run for the life of the database.
CREATE TABLE run_id_floor (id INTEGER NOT NULL) STRICT;
INSERT INTO run_id_floor (id) SELECT coalesce(max(id), 0) FROM runs;
CREATE TRIGGER runs_keep_id_floor AFTER DELETE ON runs
    WHEN OLD.id > (SELECT id FROM run_id_floor)
BEGIN
    UPDATE run_id_floor SET id = OLD.id;
END;
