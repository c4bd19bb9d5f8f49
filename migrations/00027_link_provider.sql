-- +goose Up
-- A pending link names the provider it connects (single sign-on, or an LMS
-- through LTI), so the page that confirms it can say which.
ALTER TABLE oidc_links ADD COLUMN provider text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oidc_links DROP COLUMN provider;
