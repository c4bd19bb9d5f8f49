package accounts

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/web/bind"
)

// Config is what the accounts area needs from the server's configuration.
type Config struct {
	AccessTTL     time.Duration
	AdminEmails   []string
	SecureCookies bool
}

// Service is the accounts area: sign-up, sign-in, token refresh, sign-out,
// the caller's profile and role changes.
type Service struct {
	db     *gorm.DB
	cfg    Config
	keys   *KeyRing
	hasher *Hasher
	log    *slog.Logger
}

// RefreshCookie is the name of the HttpOnly refresh-token cookie.
const RefreshCookie = "baton_refresh"

// NewService loads (or creates) the signing keys.
func NewService(ctx context.Context, db *gorm.DB, cfg Config, log *slog.Logger) (*Service, error) {
	keys, err := NewKeyRing(ctx, db, cfg.AccessTTL)
	if err != nil {
		return nil, err
	}
	return &Service{db: db, cfg: cfg, keys: keys, hasher: NewHasher(), log: log}, nil
}

// Keys is the key ring, for the authentication middleware and tests.
func (s *Service) Keys() *KeyRing { return s.keys }

// Hasher is the bounded password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

type registerRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type roleRequest struct {
	Role *string `json:"role"`
}

type tokenResponse struct {
	User        UserView `json:"user"`
	AccessToken string   `json:"access_token"`
	TokenType   string   `json:"token_type"`
	ExpiresIn   int      `json:"expires_in"`
}

// Register creates a learner account (admin when the email is listed in
// BATON_ADMIN_EMAILS) and signs it in.
func (s *Service) Register(c echo.Context) error {
	var req registerRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	u, err := s.CreateUser(c.Request().Context(), req.Email, req.Password, req.Name, "")
	if err != nil {
		return err
	}
	return s.signIn(c, http.StatusCreated, u)
}

// CreateUser validates and stores a new account. An empty role means the
// default for that email.
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
		if slices.Contains(s.cfg.AdminEmails, email) {
			role = RoleAdmin
		}
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	u := User{Email: email, Name: name, Role: role, PasswordHash: hash}
	if err := s.db.WithContext(ctx).Create(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return User{}, problem.New(problem.Conflict, "An account with this email already exists.")
		}
		return User{}, err
	}
	return u, nil
}

// Login checks a password under the sign-in limits. Unknown email and wrong
// password cost the same time and get the same answer.
func (s *Service) Login(c echo.Context) error {
	var req loginRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	email := NormalizeEmail(req.Email)
	if err := problem.Fields("email", problem.Required(email), "password", problem.Required(req.Password)); err != nil {
		return err
	}
	ctx := c.Request().Context()
	keys := keysFor(email, c.RealIP())
	if wait, err := blockedFor(ctx, s.db, keys); err != nil {
		return err
	} else if wait > 0 {
		return &problem.Error{Code: problem.TooMany, Detail: "Too many failed sign-ins. Wait before trying again.", RetryAfter: wait}
	}
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return err
	}
	password := req.Password
	if len(password) > 4*MaxPasswordLen {
		password = password[:4*MaxPasswordLen] // never hash a megabyte
	}
	if ok, err := s.checkPassword(ctx, keys, password, u.PasswordHash); err != nil {
		return err
	} else if !ok {
		return problem.New(problem.Unauthorized, "Wrong email or password.")
	}
	return s.signIn(c, http.StatusOK, u)
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
		return false, &problem.Error{Code: problem.TooMany, Detail: "Too many failed sign-ins. Wait before trying again.", RetryAfter: wait}
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

// signIn opens a session, sets its refresh cookie and answers with an access
// token.
func (s *Service) signIn(c echo.Context, status int, u User) error {
	ctx := c.Request().Context()
	var sessionID, refresh string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		sessionID, refresh, err = startSession(tx, u.ID)
		return err
	})
	if err != nil {
		return err
	}
	s.setRefreshCookie(c, refresh, refreshTTL)
	return s.answerWithToken(c, status, u, sessionID)
}

func (s *Service) answerWithToken(c echo.Context, status int, u User, sessionID string) error {
	token, exp, err := s.keys.Issue(c.Request().Context(), u.ID, u.Role, sessionID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, tokenResponse{
		User: u.View(), AccessToken: token, TokenType: "Bearer",
		ExpiresIn: int(time.Until(exp).Round(time.Second).Seconds()),
	})
}

// Refresh rotates the refresh cookie and issues a new access token with the
// user's current role.
func (s *Service) Refresh(c echo.Context) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	cookie, err := c.Cookie(RefreshCookie)
	if err != nil || cookie.Value == "" {
		return problem.New(problem.Unauthorized, "No refresh token; sign in again.")
	}
	ctx := c.Request().Context()
	userID, sessionID, next, err := rotate(ctx, s.db, cookie.Value)
	if errors.Is(err, ErrRefreshRejected) {
		s.setRefreshCookie(c, "", -1)
		return problem.New(problem.Unauthorized, "The session has ended; sign in again.")
	} else if err != nil {
		return err
	}
	var u User
	if err := s.db.WithContext(ctx).Where("id = ?", userID).Take(&u).Error; err != nil {
		return err
	}
	s.setRefreshCookie(c, next, refreshTTL)
	return s.answerWithToken(c, http.StatusOK, u, sessionID)
}

// Logout revokes the caller's session: its refresh tokens stop working.
func (s *Service) Logout(c echo.Context) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	p := PrincipalOf(c)
	ctx := c.Request().Context()
	if err := revoke(ctx, s.db, p.UserID, p.Session, "logout"); err != nil {
		return err
	}
	// The browser's cookie may belong to a later session than the access
	// token (after a refresh race); end that one too if it is the caller's.
	if cookie, err := c.Cookie(RefreshCookie); err == nil && cookie.Value != "" {
		if err := revokeByToken(ctx, s.db, p.UserID, cookie.Value); err != nil {
			return err
		}
	}
	s.setRefreshCookie(c, "", -1)
	return c.NoContent(http.StatusNoContent)
}

// User loads the caller's own account.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, problem.New(problem.Unauthorized, "The account no longer exists.")
	}
	return u, err
}

// SetRole changes a user's role (admins only; the route table enforces it).
// It refuses to demote the last admin, which would leave nobody able to
// manage roles.
func (s *Service) SetRole(c echo.Context) error {
	var req roleRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if req.Role == nil || !validRole(*req.Role) {
		return problem.Fields("role", "must be one of learner, manager, admin")
	}
	id := c.Param("id")
	if !IsUUID(id) {
		return problem.New(problem.NotFound, "No such user.")
	}
	var u User
	err := s.db.WithContext(c.Request().Context()).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.roles'))").Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", id).Take(&u).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return problem.New(problem.NotFound, "No such user.")
			}
			return err
		}
		if u.Role == RoleAdmin && *req.Role != RoleAdmin {
			var admins int64
			if err := tx.Model(&User{}).Where("role = ?", RoleAdmin).Count(&admins).Error; err != nil {
				return err
			}
			if admins <= 1 {
				return problem.New(problem.Conflict, "This is the last admin; make someone else admin first.")
			}
		}
		from := u.Role
		u.Role = *req.Role
		if err := tx.Model(&u).Updates(map[string]any{"role": u.Role, "updated_at": time.Now()}).Error; err != nil {
			return err
		}
		return audit.Record(tx, PrincipalOf(c).UserID, "user.role", "user:"+u.ID, map[string]any{"from": from, "to": u.Role, "email": u.Email})
	})
	if err != nil {
		return err
	}
	s.log.Info("role changed", "user", u.ID, "role", u.Role, "by", PrincipalOf(c).UserID)
	return c.JSON(http.StatusOK, u.View())
}

// ListUsers lists accounts for admins, optionally filtered by ?q= on name or
// email, newest first.
func (s *Service) ListUsers(c echo.Context) error {
	q := s.db.WithContext(c.Request().Context()).Order("created_at DESC").Limit(500)
	if term := strings.TrimSpace(strings.ReplaceAll(c.QueryParam("q"), "\x00", "")); term != "" {
		like := "%" + escapeLike(strings.ToLower(term)) + "%"
		q = q.Where("email LIKE ? OR lower(name) LIKE ?", like, like)
	}
	var users []User
	if err := q.Find(&users).Error; err != nil {
		return err
	}
	out := make([]UserView, len(users))
	for i, u := range users {
		out[i] = u.View()
	}
	return c.JSON(http.StatusOK, out)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *Service) setRefreshCookie(c echo.Context, value string, ttl time.Duration) {
	cookie := &http.Cookie{ // #nosec G124 -- HttpOnly and SameSite=Strict always; Secure over TLS or when BATON_SECURE_COOKIES=1 (plain-HTTP localhost otherwise)
		Name:     RefreshCookie,
		Value:    value,
		Path:     "/api/auth",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		Secure:   s.cfg.SecureCookies || c.Request().TLS != nil,
	}
	if ttl < 0 {
		cookie.MaxAge = -1
	} else {
		cookie.MaxAge = int(ttl.Seconds())
	}
	c.SetCookie(cookie)
}

// sameOrigin rejects a browser request sent from another site to the
// cookie-authenticated endpoints. Clients that send no Origin (not browsers)
// pass; SameSite=Strict already keeps the cookie off cross-site requests.
func sameOrigin(c echo.Context) error {
	req := c.Request()
	if site := req.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		return problem.New(problem.Forbidden, "Cross-site requests are not allowed here.")
	}
	origin := req.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, req.Host) {
		return problem.New(problem.Forbidden, "Cross-site requests are not allowed here.")
	}
	return nil
}

// RotateKey makes a new signing key current. Tokens signed with the old key
// stay valid until they expire; every instance picks the new key up within
// a minute (at once when it sees a token carrying the new kid).
func (s *Service) RotateKey(c echo.Context) error {
	ctx := c.Request().Context()
	kid, err := Rotate(ctx, s.db)
	if err != nil {
		return err
	}
	if err := s.keys.load(ctx); err != nil {
		return err
	}
	s.log.Info("signing key rotated", "kid", kid, "by", PrincipalOf(c).UserID)
	return c.JSON(http.StatusCreated, map[string]string{"kid": kid})
}
