package privacy

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/sealing"
)

// secretRow is the associated data a sealed secret is bound to.
const secretRow = "analytics_secret"

// ErrSealedSecret is Load's answer when the secret is sealed and no (or
// another) BATON_SECRET_KEY is given.
var ErrSealedSecret = errors.New("privacy: the analytics secret is sealed: set BATON_SECRET_KEY to the key it was sealed with")

// Load reads the installation's secret, drawn once by migration 00017, and
// opens it with sealer when it is sealed. It is one primary-key read;
// callers need it only when they build analytics.
func Load(ctx context.Context, db *gorm.DB, sealer *sealing.Sealer) (Noise, error) {
	var secret []byte
	var sealed bool
	if err := db.WithContext(ctx).Raw(`SELECT secret, sealed FROM analytics_secret WHERE id`).Row().Scan(&secret, &sealed); err != nil {
		return Noise{}, err
	}
	if sealed {
		if sealer == nil {
			return Noise{}, ErrSealedSecret
		}
		var err error
		if secret, err = sealer.Open(secret, secretRow); err != nil {
			return Noise{}, ErrSealedSecret
		}
	}
	if len(secret) < 16 {
		return Noise{}, errors.New("privacy: the analytics secret is missing or too short")
	}
	return New(secret), nil
}

// Seal seals the secret with sealer if it is still in plain text, and
// checks that a sealed one opens with it, so a wrong BATON_SECRET_KEY stops
// start-up instead of failing every analytics request. The secret itself,
// and so every member's reported answer, stays the same.
func Seal(ctx context.Context, db *gorm.DB, sealer *sealing.Sealer) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var secret []byte
		var sealed bool
		if err := tx.Raw(`SELECT secret, sealed FROM analytics_secret WHERE id FOR UPDATE`).Row().Scan(&secret, &sealed); err != nil {
			return err
		}
		if sealed {
			if _, err := sealer.Open(secret, secretRow); err != nil {
				return ErrSealedSecret
			}
			return nil
		}
		return tx.Exec(`UPDATE analytics_secret SET secret = ?, sealed = true WHERE id`, sealer.Seal(secret, secretRow)).Error
	})
}
