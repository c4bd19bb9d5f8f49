// Package accounts is Baton's accounts area: argon2id passwords, HS256 access
// tokens signed with keys kept in PostgreSQL, rotating refresh tokens grouped
// in sessions, sign-in throttling, roles, and the one middleware that decides
// who a request is.
package accounts
