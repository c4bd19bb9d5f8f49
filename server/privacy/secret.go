package privacy

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// Load reads the installation's secret, drawn once by migration 00017. It
// is one primary-key read; callers need it only when they build analytics.
func Load(ctx context.Context, db *gorm.DB) (Noise, error) {
	var secret []byte
	if err := db.WithContext(ctx).Raw(`SELECT secret FROM analytics_secret WHERE id`).Row().Scan(&secret); err != nil {
		return Noise{}, err
	}
	if len(secret) < 16 {
		return Noise{}, errors.New("privacy: the analytics secret is missing or too short")
	}
	return New(secret), nil
}
