package accounts

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/problem"
)

// Principal is who a request acts for, taken from a verified access token.
type Principal struct {
	UserID  string
	Role    string
	Session string
}

// IsManager reports whether the principal may do what managers do.
func (p Principal) IsManager() bool { return p.Role == RoleManager || p.Role == RoleAdmin }

// IsAdmin reports whether the principal is an admin.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

const principalKey = "baton.principal"

// PrincipalOf returns the request's principal; routes behind Authenticate
// always have one.
func PrincipalOf(c echo.Context) Principal {
	p, _ := c.Get(principalKey).(Principal)
	return p
}

// WithPrincipal sets the principal (Authenticate does this; tests may too).
func WithPrincipal(c echo.Context, p Principal) { c.Set(principalKey, p) }

// Authenticate is the one place that decides who a request is: it requires
// a valid bearer access token and answers 401 otherwise.
func (k *KeyRing) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, raw, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="baton"`)
			return problem.New(problem.Unauthorized, "Sign in: this needs a bearer access token.")
		}
		claims, err := k.Verify(c.Request().Context(), strings.TrimSpace(raw))
		if err != nil {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="baton", error="invalid_token"`)
			return &problem.Error{Code: problem.Unauthorized, Detail: "The access token is invalid or expired.", Cause: err}
		}
		WithPrincipal(c, Principal{UserID: claims.Subject, Role: claims.Role, Session: claims.Session})
		return next(c)
	}
}

// RequireRole lets through principals holding one of roles (admin always).
func RequireRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := PrincipalOf(c)
			if p.Role == RoleAdmin {
				return next(c)
			}
			for _, r := range roles {
				if p.Role == r {
					return next(c)
				}
			}
			return problem.New(problem.Forbidden, "Your role (%s) may not do this.", p.Role)
		}
	}
}

// IsUUID reports whether s can be an id (8-4-4-4-12 hex digits); anything
// else is simply not found, never a database error. It runs on every request
// with an id in its path, hence no regular expression.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
