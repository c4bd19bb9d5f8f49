-- +goose Up
-- The reminder email outbox hands out leases instead of holding row locks
-- while mail is sent: a sender claims rows by setting email_lease_until (and
-- raising email_attempts) in one statement that commits at once, sends with
-- no transaction open, then marks each row. A lease that runs out, because
-- its instance died mid-send, makes the row claimable again. email_attempts
-- identifies a claim, so a sender whose lease was taken over cannot mark the
-- row. email_sent_at stays null for mails sent before this migration.
ALTER TABLE notifications
    ADD COLUMN email_lease_until timestamptz,
    ADD COLUMN email_sent_at     timestamptz;

-- +goose Down
ALTER TABLE notifications
    DROP COLUMN email_sent_at,
    DROP COLUMN email_lease_until;
