// Package accounts is Baton's accounts area: argon2id passwords, HS256 access
// tokens signed with keys kept in PostgreSQL, rotating refresh tokens grouped
// in sessions, sign-in throttling, roles, and the Principal a request acts
// for (the web layer's middleware decides who that is from the token).
package accounts
