-- +goose Up
-- Which variants a learner has met of each scenario, kept on their standing
-- row by the statement that starts an attempt: choosing the next variant
-- then reads one row, however many attempts the learner has made.
-- An attempt stored before variants counts under '' (the engine counts it
-- as the first variant).
ALTER TABLE scenario_standings
    ADD COLUMN variants_seen jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN last_variant  text;

UPDATE scenario_standings s SET variants_seen = v.seen, last_variant = v.last
FROM (
    SELECT user_id, quiz_slug, jsonb_object_agg(variant, n) AS seen,
           (array_agg(last ORDER BY last_number DESC))[1] AS last
    FROM (
        SELECT user_id, quiz_slug, variant, count(*) AS n, max(number) AS last_number,
               variant AS last
        FROM attempts GROUP BY user_id, quiz_slug, variant
    ) per_variant
    GROUP BY user_id, quiz_slug
) v
WHERE v.user_id = s.user_id AND v.quiz_slug = s.quiz_slug;

-- +goose Down
ALTER TABLE scenario_standings DROP COLUMN last_variant, DROP COLUMN variants_seen;
