-- +goose Up
-- Revocation that bites on every instance. Each instance caches, per
-- session, whether it is live and the user's current role; these triggers
-- announce every change that could make such an entry wrong on the
-- 'baton_auth' channel, so the caches drop it when the change commits.
-- They are triggers, not application code, so no write path can forget.
--   s:<session id>  the session was revoked or deleted
--   u:<user id>:<role>  the user's role is now <role>; empty: the user is gone
--   k               the signing keys changed (a rotation)

-- +goose StatementBegin
CREATE FUNCTION baton_notify_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('baton_auth', 's:' || OLD.id);
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION baton_notify_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('baton_auth', 'u:' || OLD.id || ':');
    ELSE
        PERFORM pg_notify('baton_auth', 'u:' || NEW.id || ':' || NEW.role);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION baton_notify_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('baton_auth', 'k');
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER sessions_revoked AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at) EXECUTE FUNCTION baton_notify_session();
CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION baton_notify_session();
CREATE TRIGGER users_role_changed AFTER UPDATE OF role ON users
    FOR EACH ROW WHEN (NEW.role IS DISTINCT FROM OLD.role) EXECUTE FUNCTION baton_notify_user();
CREATE TRIGGER users_deleted AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION baton_notify_user();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION baton_notify_keys();

-- Signing secrets sealed with BATON_SECRET_KEY (AES-256-GCM) when it is set.
ALTER TABLE signing_keys ADD COLUMN sealed boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE signing_keys DROP COLUMN sealed;
DROP TRIGGER signing_keys_changed ON signing_keys;
DROP TRIGGER users_deleted ON users;
DROP TRIGGER users_role_changed ON users;
DROP TRIGGER sessions_deleted ON sessions;
DROP TRIGGER sessions_revoked ON sessions;
DROP FUNCTION baton_notify_keys();
DROP FUNCTION baton_notify_user();
DROP FUNCTION baton_notify_session();
