-- The claim takes runs a little ahead of their due time (p_lead, microseconds): jobs due up to
-- p_now + p_lead are claimed, each run's start is its due time (the runner waits for it), and the
-- misfire rules and triggers still go by p_now. A claim through the network costs milliseconds (the
-- function itself 1.4 ms a call under three runners, a third of it waiting for the queue's advisory
-- lock through the previous claim's WAL flush): with the runs claimed ahead, that time is no longer
-- the runs' lateness. Otherwise the function is migration 6's, whose comments say why each step is
-- as it is; the six-argument form stays, claiming nothing ahead, for runners of the version before.
DROP FUNCTION jobrunner_claim(bigint, bigint, text[], text[], integer, bigint);

CREATE FUNCTION jobrunner_claim(
    p_runner bigint, p_now bigint, p_queues text[], p_handlers text[], p_slots integer, p_grace bigint,
    p_lead bigint
) RETURNS TABLE (
    claim_run_id bigint, claim_occurrence bigint, claim_scheduled_for bigint, claim_triggered boolean,
    claim_job jobs, end_alive boolean, end_next_due bigint, end_resolve boolean
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_state text;
    v_queues text[];
    v_limits integer[];
    v_free integer[];
    v_open text[];
    v_queue text;
    v_index integer;
    v_i integer;
    v_any boolean := false;
    v_resolve boolean := false;
    v_next bigint;
    v_slots integer := p_slots;
    v_job jobs;
    v_following bigint;
    v_anchor bigint;
    v_trivial boolean;
    -- The candidates, locked, in claim order: job id, its queue's index, occurrence, scheduled for, triggered.
    k_jobs bigint[] := '{}';
    k_queues integer[] := '{}';
    k_occurrences bigint[] := '{}';
    k_scheduled bigint[] := '{}';
    k_triggered boolean[] := '{}';
    -- The claims, the candidates that fit.
    c_jobs bigint[] := '{}';
    c_occurrences bigint[] := '{}';
    c_scheduled bigint[] := '{}';
    c_triggered boolean[] := '{}';
BEGIN
    -- 0. Unlocked: the runner's state, the queues it may claim from, and whether anything is claimable.
    SELECT state INTO v_state FROM runners WHERE id = p_runner;
    IF v_state IS NULL OR v_state NOT IN ('running', 'draining') THEN
        RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::bigint, NULL::boolean, NULL::jobs, false, NULL::bigint, false;
        RETURN;
    END IF;
    SELECT coalesce(array_agg(name ORDER BY name COLLATE "C"), '{}'),
           coalesce(array_agg(concurrency ORDER BY name COLLATE "C"), '{}')
      INTO v_queues, v_limits
      FROM queues WHERE NOT paused AND (p_queues IS NULL OR name = ANY(p_queues));
    IF p_slots > 0 AND cardinality(v_queues) > 0 THEN
        v_any := EXISTS (
            SELECT 1 FROM jobs WHERE trigger_at IS NOT NULL AND trigger_at <= p_now AND running_run_id IS NULL
                AND queue = ANY(v_queues) AND (kind = 'command' OR handler = ANY(p_handlers)));
        IF NOT v_any THEN
            FOREACH v_queue IN ARRAY v_queues LOOP
                -- The queue's name is a value, so the lookup is an index scan of jobs_due.
                v_any := EXISTS (
                    SELECT 1 FROM jobs WHERE queue = v_queue AND state = 'active' AND running_run_id IS NULL
                        AND next_run_at IS NOT NULL AND next_run_at <= p_now + p_lead
                        AND (kind = 'command' OR handler = ANY(p_handlers)));
                EXIT WHEN v_any;
            END LOOP;
        END IF;
    END IF;

    IF v_any THEN
        -- 1. The fence.
        SELECT state INTO v_state FROM runners WHERE id = p_runner FOR SHARE;
        IF v_state IS NULL OR v_state NOT IN ('running', 'draining') THEN
            PERFORM set_config('synchronous_commit', 'off', true);
            RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::bigint, NULL::boolean, NULL::jobs, false, NULL::bigint, false;
            RETURN;
        END IF;
        v_free := v_limits;

        -- 2. The candidates, locked: triggered first (an operator is waiting for them), then each queue's due jobs.
        FOR v_job IN
            SELECT * FROM jobs
             WHERE trigger_at IS NOT NULL AND trigger_at <= p_now AND running_run_id IS NULL
               AND queue = ANY(v_queues) AND (kind = 'command' OR handler = ANY(p_handlers))
             ORDER BY trigger_at LIMIT p_slots FOR NO KEY UPDATE SKIP LOCKED
        LOOP
            k_jobs := k_jobs || v_job.id;
            k_queues := k_queues || array_position(v_queues, v_job.queue);
            k_occurrences := k_occurrences || coalesce(v_job.occurrence_at, v_job.trigger_at);
            k_scheduled := k_scheduled || v_job.trigger_at;
            k_triggered := k_triggered || true;
        END LOOP;
        FOR v_index IN 1 .. cardinality(v_queues) LOOP
            v_queue := v_queues[v_index];
            FOR v_job IN
                SELECT * FROM jobs
                 WHERE queue = v_queue AND state = 'active' AND running_run_id IS NULL
                   AND next_run_at IS NOT NULL AND next_run_at <= p_now + p_lead
                   AND (kind = 'command' OR handler = ANY(p_handlers)) AND NOT (id = ANY(k_jobs))
                 ORDER BY next_run_at LIMIT p_slots FOR NO KEY UPDATE SKIP LOCKED
            LOOP
                -- JobTransition.resolve where it needs no schedule arithmetic: the occurrence runs as is
                -- unless a later slot has passed too, or the policy skips a late one.
                IF v_job.occurrence_at IS NULL OR v_job.attempt <> 1 OR v_job.schedule_kind = 'once' THEN
                    v_trivial := true;
                ELSIF v_job.misfire = 'skip' AND p_now - v_job.occurrence_at > p_grace THEN
                    v_trivial := false;
                ELSIF v_job.schedule_kind = 'every' AND v_job.fixed_delay THEN
                    v_trivial := true;
                ELSIF v_job.schedule_kind = 'every' THEN
                    v_anchor := coalesce(v_job.anchor_at, v_job.occurrence_at);
                    IF v_job.occurrence_at < v_anchor THEN
                        v_following := v_anchor;
                    ELSE
                        v_following := v_anchor
                            + ((v_job.occurrence_at - v_anchor) / v_job.interval_us + 1) * v_job.interval_us;
                    END IF;
                    v_trivial := v_following > p_now;
                ELSE
                    -- cron: its slots are whole seconds, so none has passed while now is in the occurrence's
                    -- second, or before it (claimed ahead).
                    v_trivial := v_job.occurrence_at >= p_now OR p_now / 1000000 = v_job.occurrence_at / 1000000;
                END IF;
                IF v_trivial THEN
                    k_jobs := k_jobs || v_job.id;
                    k_queues := k_queues || v_index;
                    k_occurrences := k_occurrences || coalesce(v_job.occurrence_at, v_job.next_run_at);
                    k_scheduled := k_scheduled || v_job.next_run_at;
                    k_triggered := k_triggered || false;
                ELSE
                    v_resolve := true;
                END IF;
            END LOOP;
        END LOOP;

        -- 3. The free places of the queues with candidates, each counted under its advisory lock, in name order.
        FOR v_index IN SELECT DISTINCT q FROM unnest(k_queues) AS q ORDER BY q LOOP
            PERFORM pg_advisory_xact_lock(1246908757, hashtext(v_queues[v_index]));
            v_free[v_index] := greatest(0, v_limits[v_index] - (
                SELECT count(*) FROM runs WHERE outcome = 'running' AND queue = v_queues[v_index]));
        END LOOP;

        -- 4. What fits; the candidates left over stay unclaimed (their row locks end with the transaction).
        FOR v_i IN 1 .. cardinality(k_jobs) LOOP
            v_index := k_queues[v_i];
            CONTINUE WHEN v_slots <= 0 OR v_free[v_index] <= 0;
            c_jobs := c_jobs || k_jobs[v_i];
            c_occurrences := c_occurrences || k_occurrences[v_i];
            c_scheduled := c_scheduled || k_scheduled[v_i];
            c_triggered := c_triggered || k_triggered[v_i];
            v_free[v_index] := v_free[v_index] - 1;
            v_slots := v_slots - 1;
        END LOOP;
    END IF;

    IF cardinality(c_jobs) > 0 THEN
        RETURN QUERY
        WITH c AS (
            SELECT * FROM unnest(c_jobs, c_occurrences, c_scheduled, c_triggered)
                WITH ORDINALITY AS c(job_id, occurrence, scheduled_for, triggered, ord)
        ),
        r AS (
            INSERT INTO runs (job_id, job_name, queue, attempt, scheduled_for, started_at, runner_id, outcome, triggered)
            SELECT c.job_id, j.name, j.queue, CASE WHEN c.triggered THEN 1 ELSE j.attempt END, c.scheduled_for,
                   greatest(p_now, c.scheduled_for),
                   p_runner, 'running', c.triggered
              FROM c JOIN jobs j ON j.id = c.job_id ORDER BY c.ord
            RETURNING id, job_id
        ),
        u AS (
            UPDATE jobs SET running_run_id = r.id, last_started_at = greatest(p_now, c.scheduled_for),
                trigger_at = CASE WHEN c.triggered THEN NULL ELSE jobs.trigger_at END,
                occurrence_at = CASE WHEN c.triggered THEN jobs.occurrence_at ELSE c.occurrence END
              FROM r JOIN c ON c.job_id = r.job_id
             WHERE jobs.id = r.job_id
            RETURNING r.id AS run_id, c.ord, c.occurrence, c.scheduled_for, c.triggered, jobs AS job
        )
        SELECT u.run_id, u.occurrence, u.scheduled_for, u.triggered, u.job, NULL::boolean, NULL::bigint, NULL::boolean
          FROM u ORDER BY u.ord;
    ELSIF v_any THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;

    -- 5. The next due time among queues with room (a queue whose places were not counted has room).
    SELECT coalesce(array_agg(v_queues[i] ORDER BY i), '{}') INTO v_open
      FROM generate_subscripts(v_queues, 1) AS i
     WHERE v_free IS NULL OR v_free[i] > 0;
    v_next := NULL;
    FOREACH v_queue IN ARRAY v_open LOOP
        v_next := least(v_next, (
            SELECT next_run_at FROM jobs WHERE queue = v_queue AND state = 'active' AND running_run_id IS NULL
                AND next_run_at IS NOT NULL AND (kind = 'command' OR handler = ANY(p_handlers))
             ORDER BY next_run_at LIMIT 1));
    END LOOP;
    -- Triggers are set to the operator's now: one ahead of this runner's clock is ahead by a clock
    -- difference. The bound keeps the lookup a range scan of jobs_triggered whatever the statistics
    -- (without it a plan made before the first ANALYZE scanned and sorted every job: 0.2 ms a call,
    -- against 0.004 ms); a trigger further ahead is found by the claim of the next heartbeat.
    IF cardinality(v_open) > 0 THEN
        v_next := least(v_next, (
            SELECT trigger_at FROM jobs WHERE trigger_at IS NOT NULL AND trigger_at <= p_now + 60000000
                AND running_run_id IS NULL
                AND queue = ANY(v_open) AND (kind = 'command' OR handler = ANY(p_handlers))
             ORDER BY trigger_at LIMIT 1));
    END IF;
    RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::bigint, NULL::boolean, NULL::jobs, true, v_next, v_resolve;
END;
$$;

CREATE FUNCTION jobrunner_claim(
    p_runner bigint, p_now bigint, p_queues text[], p_handlers text[], p_slots integer, p_grace bigint
) RETURNS TABLE (
    claim_run_id bigint, claim_occurrence bigint, claim_scheduled_for bigint, claim_triggered boolean,
    claim_job jobs, end_alive boolean, end_next_due bigint, end_resolve boolean
) LANGUAGE sql VOLATILE AS $$
    SELECT * FROM jobrunner_claim(p_runner, p_now, p_queues, p_handlers, p_slots, p_grace, 0::bigint)
$$;
