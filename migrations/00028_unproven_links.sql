-- +goose Up
-- An account an LMS created (LTI) starts with an unproven address: whoever
-- launched may have typed someone else's address into their LMS profile.
-- The first proof of the mailbox (a verification or reset link, a mailed
-- account link, single sign-on, SCIM) makes the account its owner's, so the
-- LMS links made before that proof go with it: the launcher keeps no way in.
-- A trigger, so that no path that verifies an address can forget it.
-- +goose StatementBegin
CREATE FUNCTION drop_unproven_lti_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM oidc_identities WHERE user_id = NEW.id AND issuer LIKE 'lti:%' AND created_at < now();
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_drop_unproven_lti_links AFTER UPDATE OF email_verified_at ON users
    FOR EACH ROW WHEN (OLD.email_verified_at IS NULL AND NEW.email_verified_at IS NOT NULL)
    EXECUTE FUNCTION drop_unproven_lti_links();

-- +goose Down
DROP TRIGGER users_drop_unproven_lti_links ON users;
DROP FUNCTION drop_unproven_lti_links();
