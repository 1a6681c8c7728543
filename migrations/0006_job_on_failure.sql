-- A job's own failure alert command (`jobctl add --on-failure`): an argv as a JSON array of strings,
-- like `command`, NULL for none. Started, without a shell, when a run of the job ends failed, timeout
-- or abandoned, beside the runner's own `--on-failure` command (both fire).
ALTER TABLE jobs ADD COLUMN on_failure TEXT;
