-- The process group of a command run, so that when its runner dies the runner that rescues the run
-- (on the same host) can kill what is left of the command before running the job again.
-- pgid_start is the group leader's start time (/proc/PID/stat field 22) to guard against pid reuse.
ALTER TABLE runs ADD COLUMN pgid integer;
ALTER TABLE runs ADD COLUMN pgid_start bigint;
