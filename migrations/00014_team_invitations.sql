-- +goose Up
-- Joining a team is the learner's choice: a manager invites an email
-- address, and the person becomes a member only by accepting. Invitations
-- are kept by normalised email, so someone who registers after being invited
-- still finds it. A row is pending while answered_at is null and expires_at
-- is ahead; answered rows stay (accepted, declined, withdrawn or expired):
-- they are what the per-manager rate limit counts and what an audit reads.
CREATE TABLE team_invitations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email       text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    invited_by  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    answered_at timestamptz,
    answer      text CHECK (answer IN ('accepted', 'declined', 'withdrawn', 'expired')),
    CHECK ((answered_at IS NULL) = (answer IS NULL))
);
-- One pending invitation per team and address: inviting again returns it.
CREATE UNIQUE INDEX team_invitations_pending ON team_invitations (team_id, email) WHERE answered_at IS NULL;
CREATE INDEX team_invitations_email ON team_invitations (email) WHERE answered_at IS NULL;
CREATE INDEX team_invitations_invited_by ON team_invitations (invited_by, created_at);

-- The in-app notice (and queued email) of an invitation goes with it: a
-- withdrawn invitation's notice is deleted, an answered one's marked read.
ALTER TABLE notifications ADD COLUMN invitation_id uuid REFERENCES team_invitations (id) ON DELETE CASCADE;
CREATE INDEX notifications_invitation ON notifications (invitation_id) WHERE invitation_id IS NOT NULL;

-- +goose Down
ALTER TABLE notifications DROP COLUMN invitation_id;
DROP TABLE team_invitations;
