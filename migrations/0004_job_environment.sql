-- Environment variables of a command job: a JSON object of strings with sorted keys, NULL for none.
-- They override the runner's inherited environment for the job's command; names starting with JOB_
-- are refused (JobRunner sets JOB_NAME, JOB_RUN_ID, … itself).
ALTER TABLE jobs ADD COLUMN environment TEXT;
