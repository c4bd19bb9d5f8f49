package auth

import (
	"regexp"
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

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s can be an id; anything else is simply not found,
// never a database error.
func IsUUID(s string) bool { return uuidPattern.MatchString(s) }
