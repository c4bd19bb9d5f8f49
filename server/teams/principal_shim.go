package teams

import (
	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/accounts"
)

func principalOf(c echo.Context) accounts.Principal {
	p, _ := c.Get("baton.principal").(accounts.Principal)
	return p
}
