package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/web/bind"
)

// refreshCookie is the name of the HttpOnly refresh-token cookie.
const refreshCookie = "baton_refresh"

// sessionHintCookie rides along with the refresh cookie, with its lifetime,
// readable by the app: it holds no secret, only "a refresh cookie may be
// here", so that a first visit does not probe the refresh route for a 401.
const sessionHintCookie = "baton_session"

// deviceCookie holds the device token a sign-in hands out (accounts'
// device.go); only sign-ins read it, so only they are sent it.
const (
	deviceCookie     = "baton_device"
	deviceCookiePath = "/api/auth/login"
)

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
	User        accounts.UserView `json:"user"`
	AccessToken string            `json:"access_token"`
	TokenType   string            `json:"token_type"`
	ExpiresIn   int               `json:"expires_in"`
}

func (s *Server) register(c echo.Context) error {
	var req registerRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if err := s.Accounts.AllowSignUp(c.Request().Context(), c.RealIP()); err != nil {
		return err
	}
	in, err := s.Accounts.Register(c.Request().Context(), req.Email, req.Password, req.Name)
	if err != nil {
		return ssoRefusal(err)
	}
	return s.signedIn(c, http.StatusCreated, in)
}

func (s *Server) login(c echo.Context) error {
	var req loginRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	var device string
	if cookie, err := c.Cookie(deviceCookie); err == nil {
		device = cookie.Value
	}
	in, err := s.Accounts.Login(c.Request().Context(), req.Email, req.Password, c.RealIP(), device)
	if err != nil {
		return ssoRefusal(err)
	}
	return s.signedIn(c, http.StatusOK, in)
}

func (s *Server) refresh(c echo.Context) error {
	cookie, err := c.Cookie(refreshCookie)
	if err != nil || cookie.Value == "" {
		s.setRefreshCookie(c, "", -1) // a stale hint goes too
		return problem.New(problem.Unauthorized, "No refresh token; sign in again.")
	}
	in, err := s.Accounts.Refresh(c.Request().Context(), cookie.Value)
	if errors.Is(err, accounts.ErrSessionEnded) {
		s.setRefreshCookie(c, "", -1)
	}
	if err != nil {
		return err
	}
	return s.signedIn(c, http.StatusOK, in)
}

func (s *Server) logout(c echo.Context) error {
	var refresh string
	if cookie, err := c.Cookie(refreshCookie); err == nil {
		refresh = cookie.Value
	}
	if err := s.Accounts.Logout(c.Request().Context(), principalOf(c), refresh); err != nil {
		return err
	}
	s.setRefreshCookie(c, "", -1)
	return c.NoContent(http.StatusNoContent)
}

// signedIn sets the session's refresh cookie (and the device cookie, when
// the sign-in hands one out) and answers with the access token.
func (s *Server) signedIn(c echo.Context, status int, in accounts.SignedIn) error {
	s.setSessionCookies(c, in)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, tokenResponse{
		User: in.User.View(), AccessToken: in.AccessToken, TokenType: "Bearer",
		ExpiresIn: int(time.Until(in.AccessExpires).Round(time.Second).Seconds()),
	})
}

// setSessionCookies hands the browser a sign-in's refresh cookie (with the
// session hint) and device cookie, if it has one.
func (s *Server) setSessionCookies(c echo.Context, in accounts.SignedIn) {
	s.setRefreshCookie(c, in.Refresh, in.RefreshTTL)
	if in.Device != "" {
		s.setCookie(c, deviceCookie, deviceCookiePath, in.Device, accounts.DeviceTTL())
	}
}

func (s *Server) setRefreshCookie(c echo.Context, value string, ttl time.Duration) {
	s.setCookie(c, refreshCookie, "/api/auth", value, ttl)
	hint := &http.Cookie{ // #nosec G124 -- readable by script on purpose: its value is "1", no secret; SameSite=Strict, Secure as the refresh cookie
		Name:     sessionHintCookie,
		Value:    "1",
		Path:     "/",
		SameSite: http.SameSiteStrictMode,
		Secure:   s.SecureCookies || c.Request().TLS != nil,
		MaxAge:   int(ttl.Seconds()),
	}
	if ttl < 0 {
		hint.Value, hint.MaxAge = "", -1
	}
	c.SetCookie(hint)
}

// setCookie sets (ttl < 0: deletes) one of the auth cookies.
func (s *Server) setCookie(c echo.Context, name, path, value string, ttl time.Duration) {
	cookie := &http.Cookie{ // #nosec G124 -- HttpOnly and SameSite=Strict always; Secure over TLS or when BATON_SECURE_COOKIES=1 (plain-HTTP localhost otherwise)
		Name:     name,
		Value:    value,
		Path:     path,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		Secure:   s.SecureCookies || c.Request().TLS != nil,
	}
	if ttl < 0 {
		cookie.MaxAge = -1
	} else {
		cookie.MaxAge = int(ttl.Seconds())
	}
	c.SetCookie(cookie)
}

func (s *Server) setRole(c echo.Context) error {
	var req roleRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	role := ""
	if req.Role != nil {
		role = *req.Role
	}
	u, err := s.Accounts.SetRole(c.Request().Context(), principalOf(c), c.Param("id"), role)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u.View())
}

func (s *Server) listUsers(c echo.Context) error {
	users, err := s.Accounts.ListUsers(c.Request().Context(), c.QueryParam("q"))
	if err != nil {
		return err
	}
	out := make([]accounts.ListedUser, len(users))
	for i, u := range users {
		out[i] = u.Listed()
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) rotateKey(c echo.Context) error {
	kid, err := s.Accounts.RotateKey(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"kid": kid})
}
