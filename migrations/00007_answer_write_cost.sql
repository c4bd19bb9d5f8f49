-- +goose Up
-- The answer write is the hottest statement in the product; these changes
-- make it cheaper for PostgreSQL without weakening what is kept.
--
-- An answer reaches its learner through its attempt, whose own foreign key
-- already cascades from users, so the answer's direct key to users only added
-- a row lock on the learner per answer.
ALTER TABLE attempt_answers DROP CONSTRAINT attempt_answers_user_id_fkey;
-- No query reads answers by scenario and step (team analytics reach them
-- through the members' attempts), so that index only cost every answer.
DROP INDEX attempt_answers_quiz;
-- Every read of attempts by learner (and scenario) is served by the lead
-- columns of the unique key (user_id, quiz_slug, number); this index
-- repeated them and cost every start and finish an extra entry.
DROP INDEX attempts_user;
-- Room on each page lets the per-answer UPDATE of an attempt stay on its page
-- (a HOT update) instead of touching every index of attempts. It applies to
-- pages written from now on; existing ones fill up as they are.
ALTER TABLE attempts SET (fillfactor = 70);

-- +goose Down
CREATE INDEX attempt_answers_quiz ON attempt_answers (quiz_slug, step_id);
CREATE INDEX attempts_user ON attempts (user_id, quiz_slug, started_at);
ALTER TABLE attempts RESET (fillfactor);
ALTER TABLE attempt_answers ADD CONSTRAINT attempt_answers_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
