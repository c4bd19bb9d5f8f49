package teams

import (
	"encoding/json"

	"github.com/baton-course/baton/server/accounts"
)

// MarshalJSON shows a member with "lookalike": true when their email mixes
// writing systems so that it could pass for someone else's (the manager's
// views warn about it). It is worked out from the email as the member is
// shown, so every view of a member carries it and no query has to.
func (m Member) MarshalJSON() ([]byte, error) {
	type plain Member // without this method
	return json.Marshal(struct {
		plain
		Lookalike bool `json:"lookalike"`
	}{plain(m), accounts.Lookalike(m.Email)})
}
