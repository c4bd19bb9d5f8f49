package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/web/bind"
)

// The account lifecycle (docs/api.md "Account lifecycle"): email
// verification, password reset and change, sessions, export and deletion.

type tokenRequest struct {
	Token string `json:"token"`
}

type emailRequest struct {
	Email string `json:"email"`
}

type resetConfirmRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

type passwordChangeRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

type passwordRequest struct {
	Password string `json:"password"`
}

// withUserAgent hands the client's User-Agent to the accounts area on the
// routes that start or refresh sessions, for the session list.
func withUserAgent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if strings.HasPrefix(req.URL.Path, "/api/auth/") {
			c.SetRequest(req.WithContext(accounts.WithUserAgent(req.Context(), req.UserAgent())))
		}
		return next(c)
	}
}

func (s *Server) verifyEmail(c echo.Context) error {
	var req tokenRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if err := s.Accounts.VerifyEmail(c.Request().Context(), req.Token); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) resendVerification(c echo.Context) error {
	if err := s.Accounts.ResendVerification(c.Request().Context(), principalOf(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}

// requestPasswordReset answers 202 whether or not the address has an
// account.
func (s *Server) requestPasswordReset(c echo.Context) error {
	var req emailRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if err := s.Accounts.RequestPasswordReset(c.Request().Context(), req.Email, c.RealIP()); err != nil {
		return ssoRefusal(err)
	}
	return c.NoContent(http.StatusAccepted)
}

func (s *Server) confirmPasswordReset(c echo.Context) error {
	var req resetConfirmRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if err := s.Accounts.ConfirmPasswordReset(c.Request().Context(), req.Token, req.Password); err != nil {
		return ssoRefusal(err)
	}
	// Whatever session this browser had ended with the reset.
	s.setRefreshCookie(c, "", -1)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) changePassword(c echo.Context) error {
	var req passwordChangeRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if err := s.Accounts.ChangePassword(c.Request().Context(), principalOf(c), req.CurrentPassword, req.NewPassword, c.RealIP()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listSessions(c echo.Context) error {
	list, err := s.Accounts.Sessions(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, list)
}

func (s *Server) revokeSession(c echo.Context) error {
	if err := s.Accounts.RevokeSession(c.Request().Context(), principalOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// exportMe answers with everything Baton holds about the caller, as a file
// to save.
func (s *Server) exportMe(c echo.Context) error {
	doc, err := s.export.For(c.Request().Context(), principalOf(c).UserID)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="baton-export-`+time.Now().UTC().Format("2006-01-02")+`.json"`)
	return c.JSON(http.StatusOK, doc)
}

func (s *Server) deleteMe(c echo.Context) error {
	var req passwordRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if err := s.Accounts.DeleteAccount(c.Request().Context(), principalOf(c), req.Password, c.RealIP()); err != nil {
		return err
	}
	s.setRefreshCookie(c, "", -1)
	return c.NoContent(http.StatusNoContent)
}
