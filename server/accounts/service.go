package accounts

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/baton-course/baton/server/sealing"

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
	// SecretKey (BATON_SECRET_KEY) seals the signing secrets at rest; empty:
	// they are stored in plain text.
	SecretKey string
	// PublicURL is where people reach Baton (BATON_PUBLIC_URL): the links
	// in account mail start with it.
	PublicURL string
	// SingleSignOn: a company provider is configured, so the domains that
	// must use it refuse passwords (without one, nobody is locked out).
	SingleSignOn bool
	// ProvisionedOnly: the company's identity provider provisions accounts
	// (SCIM is on), so a single sign-on creates none: whoever the company
	// has not provisioned, or has deleted, stays out.
	ProvisionedOnly bool
}

// Service is the accounts area: sign-up, sign-in, token refresh, sign-out,
// the caller's profile and role changes.
type Service struct {
	db     *gorm.DB
	cfg    Config
	keys   *KeyRing
	live   *liveSessions
	hasher *Hasher
	log    *slog.Logger
	mail   mailWaker
}

// NewService loads (or creates) the signing keys, sealing them when a
// secret key is configured.
func NewService(ctx context.Context, db *gorm.DB, cfg Config, log *slog.Logger) (*Service, error) {
	var sealer *sealing.Sealer
	if cfg.SecretKey != "" {
		var err error
		if sealer, err = sealing.New(cfg.SecretKey); err != nil {
			return nil, err
		}
	}
	keys, err := NewKeyRing(ctx, db, cfg.AccessTTL, sealer)
	if err != nil {
		return nil, err
	}
	return &Service{db: db, cfg: cfg, keys: keys, live: newLiveSessions(db), hasher: NewHasher(cfg.HashCost), log: log}, nil
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
	Device        string        // the device token, for its HttpOnly cookie (DeviceTTL); "" for none
}

// Register creates a learner account, emails it a verification link (an
// address in BATON_ADMIN_EMAILS becomes admin once verified) and signs it in.
func (s *Service) Register(ctx context.Context, email, password, name string) (SignedIn, error) {
	if err := s.refuseWhereSSORequired(ctx, NormalizeEmail(email)); err != nil {
		return SignedIn{}, err
	}
	u, err := s.CreateUser(ctx, email, password, name, "")
	if err != nil {
		return SignedIn{}, err
	}
	s.sendFirstVerification(ctx, u)
	device := newRefreshToken() // the browser that signed up is the owner's device
	in, err := s.signIn(ctx, u, func(tx *gorm.DB) error { return keepDevice(tx, u.ID, device, false) })
	if err != nil {
		return SignedIn{}, err
	}
	in.Device = device
	return in, nil
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
const userColumns = `id, email, name, role, password_hash, created_at, updated_at, email_verified_at, deactivated_at`

// userWhere loads the user matching cond, reporting whether there is one.
func userWhere(ctx context.Context, db *gorm.DB, cond string, args ...any) (User, bool, error) {
	var u User
	res := db.WithContext(ctx).Raw(`SELECT `+userColumns+` FROM users WHERE `+cond, args...).Scan(&u)
	return u, res.RowsAffected == 1, res.Error
}

// Login checks a password under the sign-in limits. device is the client's
// device token ("" for none): one this account was given at an earlier
// sign-in is judged only by its own failures, so nobody else's failures can
// lock the owner out of a device they used before (device.go); without
// one, failures count per account and per address (ip is the client's).
// Unknown email and wrong password cost the same time and get the same
// answer. Each sign-in, failure and newly blocked limit is a security event
// in the audit log.
func (s *Service) Login(ctx context.Context, email, password, ip, device string) (SignedIn, error) {
	email = NormalizeEmail(email)
	if err := s.refuseWhereSSORequired(ctx, email); err != nil {
		return SignedIn{}, err
	}
	pw, err := s.checkSignInPassword(ctx, email, password, ip, device)
	if err != nil {
		return SignedIn{}, err
	}
	return s.passwordSignIn(ctx, pw)
}

// passwordChecked is a password that matched its account under the
// sign-in limits: what passwordSignIn needs to open the session.
type passwordChecked struct {
	user    User
	attempt signInAttempt
	verdict verdict
	device  string // the device token presented ("" for none)
}

// checkSignInPassword checks email's password under the sign-in limits
// (Login's doc comment says how), recording and auditing a failure.
func (s *Service) checkSignInPassword(ctx context.Context, email, password, ip, device string) (passwordChecked, error) {
	if err := problem.Fields("email", problem.Required(email), "password", problem.Required(password)); err != nil {
		return passwordChecked{}, err
	}
	a := signInAttempt{keys: keysFor(email, ip), device: deviceHash(device)}
	if v, err := judgeSignIn(ctx, s.db, a.keys, a.device); err != nil {
		return passwordChecked{}, err
	} else if err := v.refusal(); err != nil {
		return passwordChecked{}, err // refused before queueing for a hashing slot
	}
	u, found, err := userWhere(ctx, s.db, "email = ?", email)
	if err != nil {
		return passwordChecked{}, err
	}
	if len(password) > 4*MaxPasswordLen {
		password = password[:4*MaxPasswordLen] // never hash a megabyte
	}
	v, ok, locks, err := s.checkPassword(ctx, a, password, u.PasswordHash)
	if err != nil {
		return passwordChecked{}, err
	}
	if !ok {
		if err := s.auditFailure(ctx, a, v, u, found, locks); err != nil {
			return passwordChecked{}, err
		}
		return passwordChecked{}, problem.New(problem.Unauthorized, "Wrong email or password.")
	}
	return passwordChecked{user: u, attempt: a, verdict: v, device: device}, nil
}

// passwordSignIn opens the session of a checked password, hands the device
// a device token and records the sign-in; also runs in its transaction.
func (s *Service) passwordSignIn(ctx context.Context, pw passwordChecked, also ...func(tx *gorm.DB) error) (SignedIn, error) {
	u, a, v := pw.user, pw.attempt, pw.verdict
	token := pw.device
	if !v.trusted {
		token = newRefreshToken() // a fresh device token for a device not trusted yet
	}
	in, err := s.signIn(ctx, u, append([]func(tx *gorm.DB) error{func(tx *gorm.DB) error {
		if !v.trusted {
			if err := recordSuccess(tx, a.keys); err != nil {
				return err
			}
		}
		if err := keepDevice(tx, u.ID, token, v.trusted); err != nil {
			return err
		}
		return audit.Append(ctx, database.GormExec(tx), audit.Entry{ActorID: u.ID, Action: "auth.sign_in", Subject: "user:" + u.ID,
			Details: map[string]any{"email": a.keys.email, "ip": a.keys.ip, "device": v.trusted}})
	}}, also...)...)
	if err != nil {
		return SignedIn{}, err
	}
	in.Device = token
	return in, nil
}

// signInAttempt is what the limits know of one sign-in.
type signInAttempt struct {
	keys   throttleKeys
	device []byte // the device token's hash; nil for none
}

// checkPassword verifies a password under the sign-in limits. The limits are
// judged again and the outcome recorded while the hashing slot is held, so
// a burst of guesses queued behind the slots cannot all slip past a block
// (or a device token's limit) that the first failures set.
func (s *Service) checkPassword(ctx context.Context, a signInAttempt, password, hash string) (verdict, bool, []lock, error) {
	release, err := s.hasher.Hold(ctx, a.keys.email+" "+a.keys.ip)
	if err != nil {
		return verdict{}, false, nil, err
	}
	defer release()
	v, err := judgeSignIn(ctx, s.db, a.keys, a.device)
	if err != nil {
		return v, false, nil, err
	} else if err := v.refusal(); err != nil {
		return v, false, nil, err
	}
	ok, err := s.hasher.VerifyHeld(password, hash)
	if err != nil || ok {
		return v, ok, nil, err
	}
	var locks []lock
	if v.trusted {
		locks, err = recordDeviceFailure(ctx, s.db, a.device)
	} else {
		locks, err = recordFailure(ctx, s.db, a.keys)
	}
	return v, false, locks, err
}

// auditFailure records a failed sign-in, and each limit it tripped, with the
// account (the user, or the email tried when there is none) and address.
func (s *Service) auditFailure(ctx context.Context, a signInAttempt, v verdict, u User, found bool, locks []lock) error {
	subject := "email:" + a.keys.email
	if found {
		subject = "user:" + u.ID
	}
	x := database.GormExec(s.db.WithContext(ctx))
	if err := audit.Append(ctx, x, audit.Entry{Action: "auth.sign_in_failed", Subject: subject,
		Details: map[string]any{"email": a.keys.email, "ip": a.keys.ip, "device": v.trusted}}); err != nil {
		return err
	}
	for _, l := range locks {
		e := audit.Entry{Action: "auth.lock", Subject: subject,
			Details: map[string]any{"limit": l.limit, "email": a.keys.email, "ip": a.keys.ip}}
		if l.block > 0 {
			e.Details["seconds"] = int(l.block.Seconds())
		}
		if l.limit == addressLimit.name() {
			e.Subject = "address:" + a.keys.ip
		}
		if err := audit.Append(ctx, x, e); err != nil {
			return err
		}
	}
	return nil
}

// signIn opens a session and issues its first tokens; also runs in the
// session's transaction (a sign-in's bookkeeping and security event).
// The token carries the role as the session's insert read it, after gen
// was taken: a change after that read raises gen, so the cache never keeps
// an older role.
func (s *Service) signIn(ctx context.Context, u User, also ...func(tx *gorm.DB) error) (SignedIn, error) {
	gen := s.live.generation()
	var st startedSession
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if st, err = startSession(tx, u.ID); err != nil {
			return err
		}
		for _, f := range also {
			if err := f(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return SignedIn{}, err
	}
	u.Role = st.Role
	return s.issue(ctx, u, st.ID, st.Refresh, gen, st.ExpiresAt)
}

func (s *Service) issue(ctx context.Context, u User, sessionID, refresh string, gen uint64, sessionExpires time.Time) (SignedIn, error) {
	token, exp, err := s.keys.Issue(ctx, u.ID, u.Role, sessionID)
	if err != nil {
		return SignedIn{}, err
	}
	// The first request with the token then costs no lookup here.
	s.live.remember(sessionID, u.ID, u.Role, sessionExpires, gen)
	return SignedIn{User: u, AccessToken: token, AccessExpires: exp, Refresh: refresh, RefreshTTL: refreshTTL}, nil
}

// ErrSessionEnded is Refresh's answer for a refresh token that is unknown,
// expired, reused or revoked: the client must sign in again.
var ErrSessionEnded = &problem.Error{Code: problem.Unauthorized, Detail: "The session has ended; sign in again."}

// Refresh rotates a refresh token and issues a new access token with the
// user's current role.
func (s *Service) Refresh(ctx context.Context, refresh string) (SignedIn, error) {
	gen := s.live.generation()
	sess, next, err := rotate(ctx, s.db, refresh)
	if errors.Is(err, ErrRefreshRejected) {
		return SignedIn{}, ErrSessionEnded
	} else if err != nil {
		return SignedIn{}, err
	}
	u, found, err := userWhere(ctx, s.db, "id = ?", sess.UserID)
	if err != nil {
		return SignedIn{}, err
	} else if !found || u.DeactivatedAt != nil {
		// The account went away (or was turned off) after the rotation.
		return SignedIn{}, ErrSessionEnded
	}
	return s.issue(ctx, u, sess.ID, next, gen, sess.ExpiresAt)
}

// Logout revokes the caller's session, and the session of refresh (the
// browser's cookie may belong to a later session than the access token,
// after a refresh race) when it is the caller's too.
func (s *Service) Logout(ctx context.Context, p Principal, refresh string) error {
	if err := revoke(ctx, s.db, p.UserID, p.Session, "logout"); err != nil {
		return err
	}
	s.live.forgetSession(p.Session) // this instance at once; the others on the notification
	if refresh != "" {
		return revokeByToken(ctx, s.db, p.UserID, refresh)
	}
	return nil
}

// SessionsEnded tells this instance at once that a user's sessions (or, with
// sessionID, one of them) were revoked in a transaction that has committed;
// other instances learn it from the database's notification. Callers that
// revoke sessions call it so that the very next request here is refused.
func (s *Service) SessionsEnded(userID, sessionID string) {
	if sessionID != "" {
		s.live.forgetSession(sessionID)
		return
	}
	s.live.forgetUser(userID)
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
		// Under the lock, so two admins demoting each other at once cannot
		// both succeed: the second is no longer an admin.
		var actorRole string
		if err := tx.Raw(`SELECT role FROM users WHERE id = ?`, by.UserID).Scan(&actorRole).Error; err != nil {
			return err
		} else if actorRole != RoleAdmin {
			return problem.New(problem.Forbidden, "Only an admin may change roles.")
		}
		var found bool
		var err error
		if u, found, err = userWhere(ctx, tx, "id = ?", id); err != nil {
			return err
		} else if !found {
			return problem.New(problem.NotFound, "No such user.")
		}
		if u.Role == RoleAdmin && role != RoleAdmin {
			// A deactivated admin (SCIM) cannot act, so counts for nothing.
			if err := refuseLastAdmin(tx, u.ID, "This is the last admin; make someone else admin first."); err != nil {
				return err
			}
		}
		return changeRole(ctx, tx, by.UserID, &u, role)
	})
	if err != nil {
		return User{}, err
	}
	s.live.forgetUser(u.ID) // this instance at once; the others on the notification
	s.log.Info("role changed", "user", u.ID, "role", u.Role, "by", by.UserID)
	return u, nil
}

// changeRole sets u's role inside tx, which holds the roles lock; actorID
// is who changed it ("" for the company's identity provider). Every role
// change goes through here, so its rules are one.
func changeRole(ctx context.Context, tx *gorm.DB, actorID string, u *User, role string) error {
	from := u.Role
	u.Role = role
	if err := tx.Exec(`UPDATE users SET role = ?, updated_at = now() WHERE id = ?`, u.Role, u.ID).Error; err != nil {
		return err
	}
	// A new privilege level gets a new session (OWASP session
	// management): the person signs in again everywhere.
	if from != role {
		if err := tx.Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'role changed'
			WHERE user_id = ? AND revoked_at IS NULL`, u.ID).Error; err != nil {
			return err
		}
	}
	return audit.Append(ctx, database.GormExec(tx), audit.Entry{ActorID: actorID, Action: "user.role", Subject: "user:" + u.ID,
		Details: map[string]any{"from": from, "to": u.Role, "email": u.Email}})
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
// stay valid until they expire (one access-token lifetime); every instance
// picks the new key up when PostgreSQL announces the change.
func (s *Service) RotateKey(ctx context.Context, by Principal) (string, error) {
	kid, err := s.keys.Rotate(ctx)
	if err != nil {
		return "", err
	}
	s.log.Info("signing key rotated", "kid", kid, "by", by.UserID)
	return kid, nil
}

// ErrNotSignedIn is Authenticate's answer for a token that does not verify
// or whose session is over.
var ErrNotSignedIn = &problem.Error{Code: problem.Unauthorized, Detail: "The access token is invalid or expired."}

// Authenticate verifies an access token and judges it by the present: its
// session must be live (not signed out, revoked, expired or its user
// deleted) and the principal carries the user's current role, whatever the
// token says. On a warm instance this costs two map lookups.
func (s *Service) Authenticate(ctx context.Context, raw string) (Principal, error) {
	claims, err := s.keys.Verify(ctx, raw)
	if err != nil {
		return Principal{}, &problem.Error{Code: problem.Unauthorized, Detail: ErrNotSignedIn.Detail, Cause: err}
	}
	return s.judge(ctx, claims.Subject, claims.Session, false)
}

// Reconfirm judges an authenticated principal again straight from the
// database, ignoring the cache. Routes that use a privilege (manager and
// admin routes) call it, so a demotion or revocation binds their very next
// request on every instance, not a notification's delay later: the window
// in which a demoted admin could re-promote themselves is closed. It costs
// one indexed query, on routes that are rare next to a learner's.
func (s *Service) Reconfirm(ctx context.Context, p Principal) (Principal, error) {
	return s.judge(ctx, p.UserID, p.Session, true)
}

func (s *Service) judge(ctx context.Context, userID, sessionID string, fresh bool) (Principal, error) {
	live, ok, err := s.live.lookup(ctx, sessionID, fresh)
	if err != nil {
		return Principal{}, err
	}
	if !ok || live.UserID != userID {
		return Principal{}, &problem.Error{Code: problem.Unauthorized, Detail: "The session has ended; sign in again.",
			Cause: errors.New("session not live")}
	}
	return Principal{UserID: userID, Role: live.Role, Session: sessionID}, nil
}

// Watch keeps this instance's caches (live sessions, signing keys) true to
// the database by listening to the changes the database announces, until
// ctx ends. It returns once listening (or after wait, with the caches off
// until the listener is up: every request then reads the database).
func (s *Service) Watch(ctx context.Context, db *database.DB, wait time.Duration) {
	ready := db.Listen(ctx, notifyChannel, database.Listener{
		Notify: func(payload string) {
			if payload == keysPayload {
				if err := s.keys.load(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("reload signing keys", "error", err)
				}
				return
			}
			s.live.notified(payload)
		},
		Up: func() {
			s.live.setListening(true)
			_ = s.keys.load(ctx) // a rotation may have happened while deaf
		},
		Down: func() { s.live.setListening(false) },
	}, s.log)
	select {
	case <-ready:
	case <-time.After(wait):
		s.log.Warn("revocation listener not up yet; every request checks its session in the database until it is")
	}
}
