// Package migrations holds Baton's schema as numbered SQL files, embedded in
// the binary and applied by server/database at start-up. A migration is never
// edited after it ships: change the schema with a new file.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
