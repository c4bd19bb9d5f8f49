-- +goose Up
-- SCIM provisioning (docs/api.md "SCIM"). A company's identity provider can
-- turn an account off without deleting it: deactivated_at set means no
-- sign-in, no refresh, no session (they are revoked when it is set).
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;

-- An account the identity provider manages (created or adopted through
-- SCIM), with what SCIM says of it that the users row does not hold. The
-- manager is kept even while the account is deactivated, so reactivating it
-- brings the provisioned membership back.
CREATE TABLE scim_users (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    external_id text CHECK (char_length(external_id) <= 256),
    given_name  text CHECK (char_length(given_name) <= 100),
    family_name text CHECK (char_length(family_name) <= 100),
    manager_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scim_users_manager ON scim_users (manager_id) WHERE manager_id IS NOT NULL;
CREATE INDEX scim_users_external_id ON scim_users (external_id) WHERE external_id IS NOT NULL;

-- A manager's provisioned team is built from the reports SCIM names; a
-- manager has at most one. Its provisioned memberships are the company's
-- consent; a membership someone chose (invite code, invitation) has
-- provisioned false and SCIM never touches it.
ALTER TABLE teams ADD COLUMN provisioned boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX teams_provisioned_manager ON teams (manager_id) WHERE provisioned;
ALTER TABLE team_members ADD COLUMN provisioned boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE team_members DROP COLUMN provisioned;
DROP INDEX teams_provisioned_manager;
ALTER TABLE teams DROP COLUMN provisioned;
DROP TABLE scim_users;
ALTER TABLE users DROP COLUMN deactivated_at;
