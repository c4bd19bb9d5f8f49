-- +goose Up
-- A manager's nudge about one assignment: the note they wrote and when.
-- The latest row of an assignment decides whether another nudge may go
-- out yet (at most one a day); the learner reads the note as a notification.
CREATE TABLE assignment_nudges (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    assignment_id uuid NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    nudged_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    note          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assignment_nudges_latest ON assignment_nudges (assignment_id, created_at DESC);

-- +goose Down
DROP TABLE assignment_nudges;
