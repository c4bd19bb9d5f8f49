-- +goose Up
-- Running totals on the attempt, kept by the same statement that records an
-- answer, so answering reads one row by primary key instead of summing the
-- attempt's answers each time.
ALTER TABLE attempts
    ADD COLUMN answered           integer NOT NULL DEFAULT 0,
    ADD COLUMN points_vision      integer NOT NULL DEFAULT 0,
    ADD COLUMN points_alignment   integer NOT NULL DEFAULT 0,
    ADD COLUMN points_inspiration integer NOT NULL DEFAULT 0;

UPDATE attempts a SET answered = t.n, points_vision = t.v, points_alignment = t.al, points_inspiration = t.i
FROM (SELECT attempt_id, count(*) AS n, sum(vision) AS v, sum(alignment) AS al, sum(inspiration) AS i
      FROM attempt_answers GROUP BY attempt_id) t
WHERE t.attempt_id = a.id;

-- +goose Down
ALTER TABLE attempts DROP COLUMN answered, DROP COLUMN points_vision, DROP COLUMN points_alignment, DROP COLUMN points_inspiration;
