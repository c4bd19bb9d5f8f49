-- +goose Up
-- Learning events for the LRS (server/xapi). Triggers write a small row per
-- event in the transaction that records the fact, so an acknowledged answer
-- always has its statement queued and a rolled-back one never does; the
-- answer path's Go code is unchanged. The statement itself is built later,
-- by the sender, from the row's source (the key columns say which).
--
-- xapi_settings is one row: whether the app has an LRS configured (set at
-- start-up) and the queue's backoff after a failed send. With xAPI off a
-- trigger costs one primary-key read of this row.
CREATE TABLE xapi_settings (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    enabled   boolean NOT NULL DEFAULT false,
    failures  integer NOT NULL DEFAULT 0,
    retry_at  timestamptz
);
INSERT INTO xapi_settings DEFAULT VALUES;

CREATE TABLE xapi_outbox (
    id           bigserial PRIMARY KEY,
    -- attempt_started, attempt_answered, attempt_finished, lesson_completed,
    -- practice_started, practice_answered, practice_finished
    kind         text NOT NULL,
    source_id    uuid NOT NULL,  -- the attempt, the practice run, or the learner (lesson_completed)
    position     integer,        -- the answer's position in its attempt or run
    lesson_slug  text,
    occurred_at  timestamptz NOT NULL,
    -- The sender's claim: a lease (a dead instance's runs out) and a count
    -- that identifies the claim, as in the account mail outbox.
    claims       integer NOT NULL DEFAULT 0,
    lease_until  timestamptz,
    -- The LRS refused a statement of this row as invalid (400): it stays,
    -- out of the queue, for an operator to look at; it is never dropped.
    rejected_at  timestamptz,
    last_error   text
);
CREATE INDEX xapi_outbox_queue ON xapi_outbox (id) WHERE rejected_at IS NULL;

-- +goose StatementBegin
CREATE FUNCTION xapi_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (SELECT enabled FROM xapi_settings WHERE id) THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'attempts' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO xapi_outbox (kind, source_id, occurred_at) VALUES ('attempt_started', NEW.id, NEW.started_at);
        ELSE
            INSERT INTO xapi_outbox (kind, source_id, occurred_at) VALUES ('attempt_finished', NEW.id, NEW.finished_at);
        END IF;
    ELSIF TG_TABLE_NAME = 'attempt_answers' THEN
        INSERT INTO xapi_outbox (kind, source_id, position, occurred_at)
        VALUES ('attempt_answered', NEW.attempt_id, NEW.position, NEW.answered_at);
    ELSIF TG_TABLE_NAME = 'lesson_progress' THEN
        INSERT INTO xapi_outbox (kind, source_id, lesson_slug, occurred_at)
        VALUES ('lesson_completed', NEW.user_id, NEW.lesson_slug, NEW.completed_at);
    ELSIF TG_TABLE_NAME = 'practice_runs' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO xapi_outbox (kind, source_id, occurred_at) VALUES ('practice_started', NEW.id, NEW.started_at);
        ELSE
            -- A practice run keeps its answers in a list on its row: the
            -- answer just recorded is the last one (answered counts the
            -- attempt's decisions before the run too).
            INSERT INTO xapi_outbox (kind, source_id, position, occurred_at)
            VALUES ('practice_answered', NEW.id, NEW.answered - 1 - NEW.from_position, now());
            IF NEW.status = 'finished' AND OLD.status = 'in_progress' THEN
                INSERT INTO xapi_outbox (kind, source_id, occurred_at)
                VALUES ('practice_finished', NEW.id, coalesce(NEW.finished_at, now()));
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- The WHEN clauses keep the function from being called at all for updates
-- that are no event (an answer's update of its attempt's totals, reading
-- progress below 100 %).
CREATE TRIGGER xapi_attempt_started AFTER INSERT ON attempts
    FOR EACH ROW EXECUTE FUNCTION xapi_capture();
CREATE TRIGGER xapi_attempt_finished AFTER UPDATE OF status ON attempts
    FOR EACH ROW WHEN (OLD.status = 'in_progress' AND NEW.status = 'finished') EXECUTE FUNCTION xapi_capture();
CREATE TRIGGER xapi_attempt_answered AFTER INSERT ON attempt_answers
    FOR EACH ROW EXECUTE FUNCTION xapi_capture();
CREATE TRIGGER xapi_lesson_completed_new AFTER INSERT ON lesson_progress
    FOR EACH ROW WHEN (NEW.completed_at IS NOT NULL) EXECUTE FUNCTION xapi_capture();
CREATE TRIGGER xapi_lesson_completed AFTER UPDATE OF completed_at ON lesson_progress
    FOR EACH ROW WHEN (OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL) EXECUTE FUNCTION xapi_capture();
CREATE TRIGGER xapi_practice_started AFTER INSERT ON practice_runs
    FOR EACH ROW EXECUTE FUNCTION xapi_capture();
CREATE TRIGGER xapi_practice_answered AFTER UPDATE OF answered ON practice_runs
    FOR EACH ROW WHEN (NEW.answered > OLD.answered) EXECUTE FUNCTION xapi_capture();

-- +goose Down
DROP TRIGGER xapi_practice_answered ON practice_runs;
DROP TRIGGER xapi_practice_started ON practice_runs;
DROP TRIGGER xapi_lesson_completed ON lesson_progress;
DROP TRIGGER xapi_lesson_completed_new ON lesson_progress;
DROP TRIGGER xapi_attempt_answered ON attempt_answers;
DROP TRIGGER xapi_attempt_finished ON attempts;
DROP TRIGGER xapi_attempt_started ON attempts;
DROP FUNCTION xapi_capture();
DROP TABLE xapi_outbox;
DROP TABLE xapi_settings;
