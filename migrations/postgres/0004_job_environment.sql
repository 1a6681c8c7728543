-- Environment variables of a command job: a JSON object of strings, NULL for none. They override
-- the runner's inherited environment for the job's command; names starting with JOB_ are refused
-- (JobRunner sets JOB_NAME, JOB_RUN_ID, … itself). jsonb: keys come back sorted, as SQLite stores them.
ALTER TABLE jobs ADD COLUMN environment jsonb
    CHECK (environment IS NULL OR jsonb_typeof(environment) = 'object');
