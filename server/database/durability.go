package database

import (
	"context"
	"fmt"
	"strings"
)

// Durability is what the server's settings say about keeping acknowledged
// writes: with any of these off, a crash can lose commits Baton reported.
type Durability struct {
	Fsync             string `json:"fsync"`
	SynchronousCommit string `json:"synchronous_commit"`
	FullPageWrites    string `json:"full_page_writes"`
}

// Safe reports whether every setting keeps acknowledged writes.
func (d Durability) Safe() bool {
	return d.Fsync == "on" && d.FullPageWrites == "on" && d.SynchronousCommit != "off" && d.SynchronousCommit != "local"
}

// Problems names the unsafe settings.
func (d Durability) Problems() string {
	var p []string
	if d.Fsync != "on" {
		p = append(p, "fsync="+d.Fsync)
	}
	if d.SynchronousCommit == "off" || d.SynchronousCommit == "local" {
		p = append(p, "synchronous_commit="+d.SynchronousCommit)
	}
	if d.FullPageWrites != "on" {
		p = append(p, "full_page_writes="+d.FullPageWrites)
	}
	return strings.Join(p, ", ")
}

// CheckDurability reads the durability settings of the server.
func (db *DB) CheckDurability(ctx context.Context) (Durability, error) {
	var d Durability
	err := db.SQL.QueryRowContext(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')`).
		Scan(&d.Fsync, &d.SynchronousCommit, &d.FullPageWrites)
	if err != nil {
		return d, fmt.Errorf("read durability settings: %w", err)
	}
	return d, nil
}
