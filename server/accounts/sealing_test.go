package accounts

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/baton-course/baton/server/sealing"

	"github.com/baton-course/baton/server/testdb"
)

// L6: with BATON_SECRET_KEY the signing secrets at rest are ciphertext; a
// database copy alone (no key, or another key) cannot load them, and plain
// secrets from before the key was set are sealed at the next start.
func TestSigningSecretsSealedAtRest(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	plain, err := NewKeyRing(ctx, db.Gorm, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := func() (secret []byte, sealed bool) {
		t.Helper()
		if err := db.Gorm.Raw(`SELECT secret, sealed FROM signing_keys WHERE kid = ?`, plain.current).Row().Scan(&secret, &sealed); err != nil {
			t.Fatal(err)
		}
		return secret, sealed
	}
	if secret, sealed := stored(); sealed || !bytes.Equal(secret, plain.keys[plain.current].secret) {
		t.Fatal("without a secret key the secret should be stored as it is")
	}
	tok, _, err := plain.Issue(ctx, "00000000-0000-0000-0000-000000000001", RoleLearner, "00000000-0000-0000-0000-000000000002")
	if err != nil {
		t.Fatal(err)
	}

	sealer, err := sealing.New("a-secret-key-of-at-least-32-characters!")
	if err != nil {
		t.Fatal(err)
	}
	sealedRing, err := NewKeyRing(ctx, db.Gorm, time.Minute, sealer)
	if err != nil {
		t.Fatal(err)
	}
	secret, sealed := stored()
	if !sealed || bytes.Contains(secret, plain.keys[plain.current].secret) {
		t.Fatal("the secret was not sealed at start")
	}
	if _, err := sealedRing.Verify(ctx, tok); err != nil {
		t.Fatalf("a token signed before sealing no longer verifies: %v", err)
	}
	if _, err := NewKeyRing(ctx, db.Gorm, time.Minute, nil); !errors.Is(err, ErrSealedKeys) {
		t.Fatalf("start without the key: %v, want ErrSealedKeys", err)
	}
	other, _ := sealing.New("another-secret-key-of-32-characters-or-more")
	if _, err := NewKeyRing(ctx, db.Gorm, time.Minute, other); !errors.Is(err, ErrSealedKeys) {
		t.Fatalf("start with another key: %v, want ErrSealedKeys", err)
	}
	// A sealed value moved to another row does not open there.
	if _, err := sealer.Open(secret, "another-kid"); err == nil {
		t.Fatal("a sealed secret opened under another kid")
	}
	// A rotation with the key seals the new secret too.
	kid, err := sealedRing.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	db.Gorm.Raw(`SELECT count(*) FROM signing_keys WHERE kid = ? AND sealed`, kid).Scan(&n)
	if n != 1 {
		t.Fatal("the rotated key was stored unsealed")
	}
	if _, err := sealing.New("short"); !errors.Is(err, sealing.ErrShortKey) {
		t.Fatal("a short secret key was accepted")
	}
}
