-- Which kernel boot and PID namespace a runner lives in (see HostIdentity): a runner whose pid is
-- gone is rescued at once only by a runner with the same key. The host name alone cannot say so:
-- two containers may share it, and a host that rebooted reuses pids. NULL for runners registered
-- before this migration: they are rescued when their lease expires.
ALTER TABLE runners ADD COLUMN host_key text;
