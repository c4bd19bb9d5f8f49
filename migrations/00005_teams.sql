-- +goose Up
-- A team is managed by the manager who created it; its members are the
-- learners who joined by invite code or were added. The manager is not a
-- member of their own team.
CREATE TABLE teams (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    manager_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invite_code text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX teams_manager ON teams (manager_id);

CREATE TABLE team_members (
    team_id   uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

-- A module assigned to a whole team: current members get an assignment each,
-- and so do members who join while it is open (not cancelled, not yet due).
CREATE TABLE team_assignments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id      uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    module_slug  text NOT NULL REFERENCES modules (slug),
    due_at       timestamptz NOT NULL,
    assigned_by  uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz
);

-- One learner's assignment. Its status is never stored: it is derived from
-- the learner's progress whenever it is read.
CREATE TABLE assignments (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    module_slug        text NOT NULL REFERENCES modules (slug),
    due_at             timestamptz NOT NULL,
    team_id            uuid REFERENCES teams (id) ON DELETE SET NULL,
    team_assignment_id uuid REFERENCES team_assignments (id) ON DELETE SET NULL,
    assigned_by        uuid NOT NULL REFERENCES users (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    cancelled_at       timestamptz
);
-- A learner has at most one active assignment per module: assigning it again
-- moves the due date.
CREATE UNIQUE INDEX assignments_active ON assignments (user_id, module_slug) WHERE cancelled_at IS NULL;
CREATE INDEX assignments_due ON assignments (due_at) WHERE cancelled_at IS NULL;

-- In-app notifications (reminders). The unique key makes producing a
-- reminder idempotent, so it is created once however often the job runs.
-- email_status is an outbox: pending mails are sent and marked by the job.
CREATE TABLE notifications (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text NOT NULL,
    assignment_id uuid REFERENCES assignments (id) ON DELETE CASCADE,
    title         text NOT NULL,
    body          text NOT NULL,
    link          text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    read_at       timestamptz,
    email_status  text NOT NULL DEFAULT 'none' CHECK (email_status IN ('none', 'pending', 'sent', 'failed')),
    email_attempts integer NOT NULL DEFAULT 0,
    UNIQUE (assignment_id, kind)
);
CREATE INDEX notifications_user ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_outbox ON notifications (created_at) WHERE email_status = 'pending';

-- Who did what to teams, assignments and roles, and when. Append-only.
CREATE TABLE audit_events (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
    action   text NOT NULL,
    subject  text NOT NULL,
    details  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events (at DESC);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE notifications;
DROP TABLE assignments;
DROP TABLE team_assignments;
DROP TABLE team_members;
DROP TABLE teams;
