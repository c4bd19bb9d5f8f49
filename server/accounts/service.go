package accounts

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/baton-course/baton/server/database"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/problem"
)

// Config is what the accounts area needs from the server's configuration.
type Config struct {
	AccessTTL   time.Duration
	AdminEmails []string
	HashCost    HashCost // zero: DefaultHashCost
	// PublicURL is where people reach Baton (BATON_PUBLIC_URL): the links
	// in account mail start with it.
	PublicURL string
}

// Service is the accounts area: sign-up, sign-in, token refresh, sign-out,
// the caller's profile and role changes.
type Service struct {
	db     *gorm.DB
	cfg    Config
	keys   *KeyRing
	hasher *Hasher
	log    *slog.Logger
	mail   mailWaker
}

// NewService loads (or creates) the signing keys.
func NewService(ctx context.Context, db *gorm.DB, cfg Config, log *slog.Logger) (*Service, error) {
	keys, err := NewKeyRing(ctx, db, cfg.AccessTTL)
	if err != nil {
		return nil, err
	}
	return &Service{db: db, cfg: cfg, keys: keys, hasher: NewHasher(cfg.HashCost), log: log}, nil
}

// Keys is the key ring, for the authentication middleware and tests.
func (s *Service) Keys() *KeyRing { return s.keys }

// Hasher is the bounded password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

// SignedIn is what a sign-in, sign-up or refresh hands the client: the
// account, a short-lived access token and the refresh token of the session.
type SignedIn struct {
	User          User
	AccessToken   string
	AccessExpires time.Time
	Refresh       string        // the opaque refresh token, for the HttpOnly cookie
	RefreshTTL    time.Duration // how long Refresh is good for
}

// Register creates a learner account, emails it a verification link (an
// address in BATON_ADMIN_EMAILS becomes admin once verified) and signs it in.
func (s *Service) Register(ctx context.Context, email, password, name string) (SignedIn, error) {
	u, err := s.CreateUser(ctx, email, password, name, "")
	if err != nil {
		return SignedIn{}, err
	}
	s.sendFirstVerification(ctx, u)
	return s.signIn(ctx, u)
}

// ErrEmailTaken is CreateUser's answer for an email that has an account.
var ErrEmailTaken = &problem.Error{Code: problem.Conflict, Detail: "An account with this email already exists."}

// CreateUser validates and stores a new account. An empty role means a
// learner: an address in BATON_ADMIN_EMAILS is promoted only when it is
// verified (VerifyEmail), so registering someone else's address gains nothing.
func (s *Service) CreateUser(ctx context.Context, email, password, name, role string) (User, error) {
	email, name = NormalizeEmail(email), CleanName(name)
	if err := problem.Fields(
		"email", EmailProblem(email),
		"name", NameProblem(name),
		"password", PasswordProblem(password, email, name),
	); err != nil {
		return User{}, err
	}
	if role == "" {
		role = RoleLearner
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.db.WithContext(ctx).Raw(`INSERT INTO users (email, name, role, password_hash) VALUES (?, ?, ?, ?)
		RETURNING `+userColumns, email, name, role, hash).Scan(&u).Error
	if err != nil {
		if database.IsUniqueViolation(err) {
			return User{}, ErrEmailTaken
		}
		return User{}, err
	}
	return u, nil
}

// userColumns are the users table's columns in User's order.
const userColumns = `id, email, name, role, password_hash, created_at, updated_at, email_verified_at`

// userWhere loads the user matching cond, reporting whether there is one.
func userWhere(ctx context.Context, db *gorm.DB, cond string, args ...any) (User, bool, error) {
	var u User
	res := db.WithContext(ctx).Raw(`SELECT `+userColumns+` FROM users WHERE `+cond, args...).Scan(&u)
	return u, res.RowsAffected == 1, res.Error
}

// Login checks a password under the sign-in limits, which count per account
// and address (ip is the client's). Unknown email and wrong password cost
// the same time and get the same answer.
func (s *Service) Login(ctx context.Context, email, password, ip string) (SignedIn, error) {
	email = NormalizeEmail(email)
	if err := problem.Fields("email", problem.Required(email), "password", problem.Required(password)); err != nil {
		return SignedIn{}, err
	}
	keys := keysFor(email, ip)
	if wait, err := blockedFor(ctx, s.db, keys); err != nil {
		return SignedIn{}, err
	} else if wait > 0 {
		return SignedIn{}, tooManySignIns(wait)
	}
	u, _, err := userWhere(ctx, s.db, "email = ?", email)
	if err != nil {
		return SignedIn{}, err
	}
	if len(password) > 4*MaxPasswordLen {
		password = password[:4*MaxPasswordLen] // never hash a megabyte
	}
	if ok, err := s.checkPassword(ctx, keys, password, u.PasswordHash); err != nil {
		return SignedIn{}, err
	} else if !ok {
		return SignedIn{}, problem.New(problem.Unauthorized, "Wrong email or password.")
	}
	return s.signIn(ctx, u)
}

func tooManySignIns(wait time.Duration) error {
	return &problem.Error{Code: problem.TooMany, Detail: "Too many failed sign-ins. Wait before trying again.", RetryAfter: wait}
}

// checkPassword verifies a password under the sign-in limits. The limits are
// checked again and the outcome recorded while the hashing slot is held, so
// a burst of guesses queued behind the slots cannot all slip past a block
// that the first failures set.
func (s *Service) checkPassword(ctx context.Context, keys throttleKeys, password, hash string) (bool, error) {
	release, err := s.hasher.Hold(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	if wait, err := blockedFor(ctx, s.db, keys); err != nil {
		return false, err
	} else if wait > 0 {
		return false, tooManySignIns(wait)
	}
	ok, err := s.hasher.VerifyHeld(password, hash)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, recordFailure(ctx, s.db, keys)
	}
	return true, recordSuccess(ctx, s.db, keys)
}

// signIn opens a session and issues its first tokens.
func (s *Service) signIn(ctx context.Context, u User) (SignedIn, error) {
	var sessionID, refresh string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		sessionID, refresh, err = startSession(tx, u.ID)
		return err
	})
	if err != nil {
		return SignedIn{}, err
	}
	return s.issue(ctx, u, sessionID, refresh)
}

func (s *Service) issue(ctx context.Context, u User, sessionID, refresh string) (SignedIn, error) {
	token, exp, err := s.keys.Issue(ctx, u.ID, u.Role, sessionID)
	if err != nil {
		return SignedIn{}, err
	}
	return SignedIn{User: u, AccessToken: token, AccessExpires: exp, Refresh: refresh, RefreshTTL: refreshTTL}, nil
}

// ErrSessionEnded is Refresh's answer for a refresh token that is unknown,
// expired, reused or revoked: the client must sign in again.
var ErrSessionEnded = &problem.Error{Code: problem.Unauthorized, Detail: "The session has ended; sign in again."}

// Refresh rotates a refresh token and issues a new access token with the
// user's current role.
func (s *Service) Refresh(ctx context.Context, refresh string) (SignedIn, error) {
	userID, sessionID, next, err := rotate(ctx, s.db, refresh)
	if errors.Is(err, ErrRefreshRejected) {
		return SignedIn{}, ErrSessionEnded
	} else if err != nil {
		return SignedIn{}, err
	}
	u, found, err := userWhere(ctx, s.db, "id = ?", userID)
	if err != nil {
		return SignedIn{}, err
	} else if !found {
		return SignedIn{}, ErrSessionEnded // the account went away after the rotation
	}
	return s.issue(ctx, u, sessionID, next)
}

// Logout revokes the caller's session, and the session of refresh (the
// browser's cookie may belong to a later session than the access token,
// after a refresh race) when it is the caller's too.
func (s *Service) Logout(ctx context.Context, p Principal, refresh string) error {
	if err := revoke(ctx, s.db, p.UserID, p.Session, "logout"); err != nil {
		return err
	}
	if refresh != "" {
		return revokeByToken(ctx, s.db, p.UserID, refresh)
	}
	return nil
}

// User loads the caller's own account.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	u, found, err := userWhere(ctx, s.db, "id = ?", id)
	if err == nil && !found {
		return u, problem.New(problem.Unauthorized, "The account no longer exists.")
	}
	return u, err
}

// SetRole changes a user's role (admins only; the route table enforces it).
// It refuses to demote the last admin, which would leave nobody able to
// manage roles.
func (s *Service) SetRole(ctx context.Context, by Principal, id, role string) (User, error) {
	if !validRole(role) {
		return User{}, problem.Fields("role", "must be one of learner, manager, admin")
	}
	if !IsUUID(id) {
		return User{}, problem.New(problem.NotFound, "No such user.")
	}
	var u User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.roles'))").Error; err != nil {
			return err
		}
		var found bool
		var err error
		if u, found, err = userWhere(ctx, tx, "id = ?", id); err != nil {
			return err
		} else if !found {
			return problem.New(problem.NotFound, "No such user.")
		}
		if u.Role == RoleAdmin && role != RoleAdmin {
			var admins int64
			if err := tx.Raw(`SELECT count(*) FROM users WHERE role = ?`, RoleAdmin).Scan(&admins).Error; err != nil {
				return err
			}
			if admins <= 1 {
				return problem.New(problem.Conflict, "This is the last admin; make someone else admin first.")
			}
		}
		from := u.Role
		u.Role = role
		if err := tx.Exec(`UPDATE users SET role = ?, updated_at = now() WHERE id = ?`, u.Role, u.ID).Error; err != nil {
			return err
		}
		return audit.Append(ctx, database.GormExec(tx), audit.Entry{ActorID: by.UserID, Action: "user.role", Subject: "user:" + u.ID,
			Details: map[string]any{"from": from, "to": u.Role, "email": u.Email}})
	})
	if err != nil {
		return User{}, err
	}
	s.log.Info("role changed", "user", u.ID, "role", u.Role, "by", by.UserID)
	return u, nil
}

// ListUsers lists accounts for admins, newest first, at most 500, filtered
// by term on name or email when it is not empty.
func (s *Service) ListUsers(ctx context.Context, term string) ([]User, error) {
	like := "%"
	if term = strings.TrimSpace(strings.ReplaceAll(term, "\x00", "")); term != "" {
		like = "%" + escapeLike(strings.ToLower(term)) + "%"
	}
	users := []User{}
	err := s.db.WithContext(ctx).Raw(`SELECT `+userColumns+` FROM users WHERE email LIKE ? OR lower(name) LIKE ?
		ORDER BY created_at DESC LIMIT 500`, like, like).Scan(&users).Error
	return users, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// RotateKey makes a new signing key current. Tokens signed with the old key
// stay valid until they expire; every instance picks the new key up within
// a minute (at once when it sees a token carrying the new kid).
func (s *Service) RotateKey(ctx context.Context, by Principal) (string, error) {
	kid, err := Rotate(ctx, s.db)
	if err != nil {
		return "", err
	}
	if err := s.keys.load(ctx); err != nil {
		return "", err
	}
	s.log.Info("signing key rotated", "kid", kid, "by", by.UserID)
	return kid, nil
}
