-- +goose Up
-- Attempts are started, answered and finished only by the coalesced
-- statements of quizzes/startbatch.go and quizzes/answerbatch.go, many
-- learners' rows at a time. They now queue their own xAPI events, set-based,
-- in the same statement and so the same commit: xapi_settings is read once
-- per statement instead of once per row by a PL/pgSQL trigger, whose calls
-- were about a tenth of PostgreSQL's work on the answer path (perf, make
-- bench). Lessons and practice runs keep their triggers (00025).
DROP TRIGGER xapi_attempt_started ON attempts;
DROP TRIGGER xapi_attempt_finished ON attempts;
DROP TRIGGER xapi_attempt_answered ON attempt_answers;

-- +goose Down
CREATE TRIGGER xapi_attempt_started AFTER INSERT ON attempts
    FOR EACH ROW EXECUTE FUNCTION xapi_capture();
CREATE TRIGGER xapi_attempt_finished AFTER UPDATE OF status ON attempts
    FOR EACH ROW WHEN (OLD.status = 'in_progress' AND NEW.status = 'finished') EXECUTE FUNCTION xapi_capture();
CREATE TRIGGER xapi_attempt_answered AFTER INSERT ON attempt_answers
    FOR EACH ROW EXECUTE FUNCTION xapi_capture();
