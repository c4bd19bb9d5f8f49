// Package xapi sends Baton's learning events to a learning record store as
// xAPI 1.0.3 statements (docs/xapi.md is the statement profile).
//
// Capture costs the answer path no Go code: PostgreSQL triggers (migration
// 00025) write a small row to xapi_outbox in the transaction of the fact,
// only while xAPI is enabled (Enable, at start-up). The Sender, run by a
// River job, claims rows with a lease, builds their statements from the
// source rows and the scenario catalog, and POSTs them in batches; rows go
// only once the LRS accepted their statements. Statement ids are derived
// from the source row (StatementID), so a retry never makes a duplicate.
package xapi
