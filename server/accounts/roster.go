package accounts

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// ErrNeedsProof is ProvisionIdentity's answer for an address that belongs
// to an account with a password, or to any account when the provider's
// addresses need proof (Identity.ProveToLink): only its owner may link it
// (at their own sign-in through the provider), never a roster.
var ErrNeedsProof = errors.New("the address belongs to a password account its owner has not linked")

// ProvisionIdentity finds or makes the account of a person a provider lists
// without them signing in (an LTI course roster): by the provider account
// linked before; else a new passwordless account, or a passwordless one
// with the verified address, linked now. A password account is never
// linked here (ErrNeedsProof), nor is an unverified address used.
func (s *Service) ProvisionIdentity(ctx context.Context, id Identity) (User, error) {
	id.Email = NormalizeEmail(id.Email)
	for range 2 { // a second pass after losing a race to create the same account
		u, found, err := s.userByIdentity(ctx, id)
		if err != nil || found {
			return u, err
		}
		if !id.EmailVerified {
			return User{}, ErrEmailUnverified
		}
		u, found, err = s.UserByEmail(ctx, id.Email)
		switch {
		case err != nil:
			return User{}, err
		case !found:
			u, err = s.createFromIdentity(ctx, id)
			if errors.Is(err, ErrEmailTaken) {
				continue
			}
			return u, err
		case u.HasPassword() || id.ProveToLink:
			return User{}, ErrNeedsProof
		default:
			err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				return linkIdentity(ctx, u, id, "roster")(tx)
			})
			return u, err
		}
	}
	return User{}, ErrEmailTaken
}
