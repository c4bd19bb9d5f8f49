-- +goose Up
-- A manager's weekly digest is claimed here once per manager and ISO week
-- (e.g. 2026-W48) before its notification is written, in one transaction:
-- the primary key makes it once however many instances or runs race. A
-- week with nothing to say keeps its claim with no notification, so the
-- digest is not composed again every run of that week. covered_to is the
-- moment the digest was composed for: the next one reports what was
-- finished after it, so a late digest and the next one never both report
-- the same completion.
CREATE TABLE manager_digests (
    manager_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    iso_week        text NOT NULL CHECK (iso_week ~ '^[0-9]{4}-W[0-9]{2}$'),
    notification_id uuid REFERENCES notifications (id) ON DELETE SET NULL,
    covered_to      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (manager_id, iso_week)
);
CREATE INDEX manager_digests_created ON manager_digests (created_at);

-- +goose Down
DROP TABLE manager_digests;
