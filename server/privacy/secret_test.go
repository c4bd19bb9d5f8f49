package privacy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/baton-course/baton/server/privacy"
	"github.com/baton-course/baton/server/sealing"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// With BATON_SECRET_KEY the analytics secret at rest is ciphertext: a copy
// of the database alone (no key, or another key) cannot load it. Sealing
// keeps the secret itself, so no member's reported answer changes (a change
// would hand a manager a second sample to average).
func TestAnalyticsSecretSealedAtRest(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	stored := func() (secret []byte, sealed bool) {
		t.Helper()
		if err := db.Gorm.Raw(`SELECT secret, sealed FROM analytics_secret`).Row().Scan(&secret, &sealed); err != nil {
			t.Fatal(err)
		}
		return secret, sealed
	}
	reports := func(n privacy.Noise) string {
		var out bytes.Buffer
		for i := range 50 {
			fmt.Fprint(&out, n.Report(fmt.Sprint("member-", i), privacy.Question{"scenario", "v1", "step"}, i%3, 3))
		}
		return out.String()
	}
	plain, err := privacy.Load(ctx, db.Gorm, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := stored()

	key, _ := sealing.New("a-secret-key-of-at-least-32-characters!")
	if err := privacy.Seal(ctx, db.Gorm, key); err != nil {
		t.Fatal(err)
	}
	if secret, sealed := stored(); !sealed || bytes.Contains(secret, before) {
		t.Fatal("the secret was not sealed")
	}
	if _, err := privacy.Load(ctx, db.Gorm, nil); !errors.Is(err, privacy.ErrSealedSecret) {
		t.Fatalf("loaded without the key: %v", err)
	}
	other, _ := sealing.New("another-secret-key-of-32-characters-or-more")
	if _, err := privacy.Load(ctx, db.Gorm, other); !errors.Is(err, privacy.ErrSealedSecret) {
		t.Fatalf("loaded with another key: %v", err)
	}
	if err := privacy.Seal(ctx, db.Gorm, other); !errors.Is(err, privacy.ErrSealedSecret) {
		t.Fatalf("start-up with another key: %v, want ErrSealedSecret", err)
	}
	opened, err := privacy.Load(ctx, db.Gorm, key)
	if err != nil {
		t.Fatal(err)
	}
	if reports(opened) != reports(plain) {
		t.Fatal("sealing changed the members' reported answers")
	}
	// Sealing again with the right key is a no-op.
	if err := privacy.Seal(ctx, db.Gorm, key); err != nil {
		t.Fatal(err)
	}
}
