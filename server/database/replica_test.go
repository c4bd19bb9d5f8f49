package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
)

// A replica that is down when Baton starts does not stop it, and reads that
// may lag then go to the primary without an error. (A real replica, lagging
// and stopping, is TestReadReplica in server/app.)
func TestReadsWithAnUnreachableReplica(t *testing.T) {
	ctx := context.Background()
	primary := testdb.New(t)
	replica, err := database.OpenReplica(ctx, "postgres://baton:x@localhost/baton?host=/nonexistent&sslmode=disable", time.Second)
	if err != nil {
		t.Fatalf("a replica that does not answer stopped start-up: %v", err)
	}
	defer replica.Close()
	reads := database.NewReads(primary, replica, database.DefaultMaxLag)
	defer reads.Close()
	if st, configured := reads.Replica(); !configured || st.OK {
		t.Fatalf("replica state = %+v (configured %v), want configured and not ok", st, configured)
	}
	var one int
	if err := reads.Gorm(ctx, func(db *gorm.DB) error { return db.Raw("SELECT 1").Scan(&one).Error }); err != nil || one != 1 {
		t.Fatalf("gorm read: %d, %v", one, err)
	}
	if err := reads.Pool(ctx, func(p *pgxpool.Pool) error { return p.QueryRow(ctx, "SELECT 2").Scan(&one) }); err != nil || one != 2 {
		t.Fatalf("pool read: %d, %v", one, err)
	}
	if n := reads.ReplicaReads(); n != 0 {
		t.Fatalf("the replica answered %d reads", n)
	}
}

// Without a replica every read goes to the primary and nothing is reported.
func TestReadsWithoutAReplica(t *testing.T) {
	ctx := context.Background()
	reads := database.NewReads(testdb.New(t), nil, database.DefaultMaxLag)
	defer reads.Close()
	if _, configured := reads.Replica(); configured {
		t.Fatal("a replica is reported without one")
	}
	reads.Wrote("someone")
	var one int
	if err := reads.Gorm(reads.ForUser(ctx, "someone"), func(db *gorm.DB) error { return db.Raw("SELECT 1").Scan(&one).Error }); err != nil || one != 1 {
		t.Fatalf("read: %d, %v", one, err)
	}
}
