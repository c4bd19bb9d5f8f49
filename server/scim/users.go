package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
)

// userHandler is the Users resource: every Baton account, whether SCIM made
// it or not, so an identity provider can find an existing account by
// userName and adopt it (a PUT or PATCH makes it SCIM-managed).
type userHandler struct{ Deps }

// person is what SCIM says of a user, as Baton keeps it.
type person struct {
	Email, Name, Given, Family, ExternalID, ManagerID string
	Active                                            bool
}

// userRow is an account with its SCIM record (if any) and manager's name.
type userRow struct {
	ID            string
	Email         string
	Name          string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DeactivatedAt *time.Time
	ExternalID    *string
	GivenName     *string
	FamilyName    *string
	ManagerID     *string
	ManagerName   *string
}

const rowSelect = `SELECT u.id, u.email, u.name, u.created_at, greatest(u.updated_at, su.updated_at) AS updated_at,
	u.deactivated_at, su.external_id, su.given_name, su.family_name, su.manager_id, mu.name AS manager_name
	FROM users u LEFT JOIN scim_users su ON su.user_id = u.id LEFT JOIN users mu ON mu.id = su.manager_id`

func (h *userHandler) row(ctx context.Context, db *gorm.DB, id string) (userRow, bool, error) {
	if !accounts.IsUUID(id) {
		return userRow{}, false, nil
	}
	var rows []userRow
	err := db.WithContext(ctx).Raw(rowSelect+` WHERE u.id = ?`, id).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return userRow{}, false, err
	}
	return rows[0], true, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (u userRow) person() person {
	return person{Email: u.Email, Name: u.Name, Given: str(u.GivenName), Family: str(u.FamilyName),
		ExternalID: str(u.ExternalID), ManagerID: str(u.ManagerID), Active: u.DeactivatedAt == nil}
}

func (u userRow) resource() scim.Resource {
	name := map[string]any{"formatted": u.Name}
	if g := str(u.GivenName); g != "" {
		name["givenName"] = g
	}
	if f := str(u.FamilyName); f != "" {
		name["familyName"] = f
	}
	attrs := scim.ResourceAttributes{
		"userName":    u.Email,
		"displayName": u.Name,
		"name":        name,
		"emails":      []any{map[string]any{"value": u.Email, "type": "work", "primary": true}},
		"active":      u.DeactivatedAt == nil,
	}
	if m := str(u.ManagerID); m != "" {
		attrs[enterpriseURN] = map[string]any{"manager": map[string]any{"value": m, "displayName": str(u.ManagerName)}}
	}
	created, updated := u.CreatedAt, u.UpdatedAt
	res := scim.Resource{ID: u.ID, Attributes: attrs,
		Meta: scim.Meta{Created: &created, LastModified: &updated, Version: fmt.Sprintf(`W/"%d"`, updated.UnixMicro())}}
	if e := str(u.ExternalID); e != "" {
		res.ExternalID = optional.NewString(e)
	}
	return res
}

// Get answers one account.
func (h *userHandler) Get(r *http.Request, id string) (scim.Resource, error) {
	u, found, err := h.row(r.Context(), h.DB, id)
	if err != nil {
		return scim.Resource{}, h.internal(err)
	} else if !found {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	return u.resource(), nil
}

// Create provisions a passwordless, verified account (an address that has
// an account already: 409 uniqueness; the provider should adopt it).
func (h *userHandler) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	p := person{Active: true}
	if err := p.replaceWith(attrs); err != nil {
		return scim.Resource{}, err
	}
	return h.save(r.Context(), "", p)
}

// Replace sets every attribute Baton keeps from a full resource (an absent
// manager removes the provisioned membership; an absent active keeps the
// account as it is).
func (h *userHandler) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	u, found, err := h.row(r.Context(), h.DB, id)
	if err != nil {
		return scim.Resource{}, h.internal(err)
	} else if !found {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	p := person{Active: u.DeactivatedAt == nil}
	if err := p.replaceWith(attrs); err != nil {
		return scim.Resource{}, err
	}
	return h.save(r.Context(), id, p)
}

// Patch applies add, replace and remove operations (validated by the
// library) to what Baton keeps of the user.
func (h *userHandler) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	u, found, err := h.row(r.Context(), h.DB, id)
	if err != nil {
		return scim.Resource{}, h.internal(err)
	} else if !found {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	p := u.person()
	for _, op := range ops {
		if err := p.patch(op); err != nil {
			return scim.Resource{}, err
		}
	}
	return h.save(r.Context(), id, p)
}

// Delete deletes the account as deleting one's own account does.
func (h *userHandler) Delete(r *http.Request, id string) error {
	ctx := r.Context()
	var u accounts.User
	err := h.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var found bool
		var err error
		if u, found, err = h.Accounts.UserByID(ctx, tx, id); err != nil {
			return err
		} else if !found {
			return scimerrors.ScimErrorResourceNotFound(id)
		}
		if err := h.Accounts.DeleteProvisioned(ctx, tx, u); err != nil {
			return err
		}
		return scimAudit(ctx, tx, "scim.user.delete", u.ID, nil)
	})
	if err != nil {
		return h.fail(err)
	}
	h.Accounts.SessionsEnded(u.ID, "")
	return nil
}

// save stores p for the account id ("" creates one) in one transaction:
// identity, SCIM record, active state, manager role and provisioned team.
func (h *userHandler) save(ctx context.Context, id string, p person) (scim.Resource, error) {
	if p.Name == "" {
		p.Name, _, _ = strings.Cut(p.Email, "@")
	}
	var ended []string // accounts whose sessions ended
	err := h.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		action := "scim.user.update"
		var before person
		if id == "" {
			action = "scim.user.create"
			u, err := h.Accounts.CreateExternalUser(ctx, tx, p.Email, p.Name, "scim")
			if err != nil {
				return err
			}
			id, before = u.ID, person{Email: u.Email, Name: u.Name, Active: true}
		} else {
			u, found, err := h.row(ctx, tx, id)
			if err != nil {
				return err
			} else if !found {
				return scimerrors.ScimErrorResourceNotFound(id)
			}
			before = u.person()
			// Adopting an account someone registered unverified: it is the
			// company's from now on, not the registrant's (see accounts).
			if claimed, err := h.Accounts.ClaimForProvisioning(ctx, tx, id); err != nil {
				return err
			} else if claimed {
				ended = append(ended, id)
			}
			if accounts.NormalizeEmail(p.Email) != u.Email || accounts.CleanName(p.Name) != u.Name {
				if _, err := h.Accounts.UpdateIdentity(ctx, tx, id, p.Email, p.Name); err != nil {
					return err
				}
			}
		}
		if p.ManagerID != "" {
			m, found, err := resolveManager(ctx, tx, h.Accounts, p.ManagerID)
			if err != nil {
				return err
			} else if !found || m == id {
				return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidValue,
					Detail: "manager.value must name another user: their id, externalId or userName."}
			}
			p.ManagerID = m
		}
		if err := tx.Exec(`INSERT INTO scim_users (user_id, external_id, given_name, family_name, manager_id)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET external_id = excluded.external_id,
			given_name = excluded.given_name, family_name = excluded.family_name, manager_id = excluded.manager_id,
			updated_at = now()`, id, nullable(p.ExternalID), nullable(p.Given), nullable(p.Family), nullable(p.ManagerID)).Error; err != nil {
			return err
		}
		if !p.Active {
			off, err := h.Accounts.Deactivate(ctx, tx, id)
			if err != nil {
				return err
			}
			if off {
				action = "scim.user.deactivate"
				ended = append(ended, id)
				if err := h.Teams.EndMemberships(ctx, tx, id); err != nil {
					return err
				}
			}
		} else {
			on, err := h.Accounts.Reactivate(ctx, tx, id)
			if err != nil {
				return err
			}
			if on || p.ManagerID != before.ManagerID || action == "scim.user.create" {
				if _, _, err := h.Teams.Provision(ctx, tx, id, p.ManagerID); err != nil {
					return err
				}
			}
		}
		if p.ManagerID != "" && p.ManagerID != before.ManagerID {
			promoted, err := h.Accounts.PromoteToManager(ctx, tx, p.ManagerID)
			if err != nil {
				return err
			} else if promoted {
				ended = append(ended, p.ManagerID)
			}
		}
		return scimAudit(ctx, tx, action, id, changes(before, p))
	})
	if err != nil {
		return scim.Resource{}, h.fail(err)
	}
	for _, u := range ended {
		h.Accounts.SessionsEnded(u, "")
	}
	u, _, err := h.row(ctx, h.DB, id)
	if err != nil {
		return scim.Resource{}, h.internal(err)
	}
	return u.resource(), nil
}

// changes names what a save changed, for the audit entry (no addresses:
// the audit trail outlives accounts).
func changes(a, b person) map[string]any {
	d := map[string]any{}
	for _, c := range []struct {
		field string
		diff  bool
	}{{"email", a.Email != accounts.NormalizeEmail(b.Email)}, {"name", a.Name != accounts.CleanName(b.Name)},
		{"external_id", a.ExternalID != b.ExternalID}, {"active", a.Active != b.Active}} {
		if c.diff {
			d[c.field] = true
		}
	}
	if a.ManagerID != b.ManagerID {
		d["manager_id"] = b.ManagerID
	}
	return d
}

func scimAudit(ctx context.Context, tx *gorm.DB, action, userID string, details map[string]any) error {
	return audit.Append(ctx, database.GormExec(tx), audit.Entry{Action: action, Subject: "user:" + userID, Details: details})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// fail turns a domain error into a SCIM error; anything unexpected is
// logged and answered 500 without its text.
func (h *userHandler) fail(err error) error {
	var se scimerrors.ScimError
	if errors.As(err, &se) {
		return se
	}
	var pe *problem.Error
	if errors.As(err, &pe) {
		switch {
		case errors.Is(err, accounts.ErrEmailTaken):
			return scimerrors.ScimError{Status: http.StatusConflict, ScimType: scimerrors.ScimTypeUniqueness,
				Detail: "Another account has this userName (email address)."}
		case pe.Code == problem.Conflict:
			return scimerrors.ScimError{Status: http.StatusConflict, Detail: pe.Detail}
		case pe.Code == problem.NotFound:
			return scimerrors.ScimError{Status: http.StatusNotFound, Detail: pe.Detail}
		case pe.Code == problem.Invalid:
			detail := pe.Detail
			if len(pe.Fields) > 0 {
				detail = pe.Fields[0].Field + " " + pe.Fields[0].Message
				if pe.Fields[0].Field == "email" {
					detail = "userName (or the primary email) " + pe.Fields[0].Message
				}
			}
			return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidValue, Detail: detail}
		}
	}
	return h.internal(err)
}

func (h *userHandler) internal(err error) error {
	h.Log.Error("scim request failed", "err", err)
	return scimerrors.ScimError{Status: http.StatusInternalServerError, Detail: "Internal error; see the server log."}
}

// resolveManager finds the user manager.value names. RFC 7643 says it is
// the manager's SCIM id, and Microsoft Entra ID sends that; Okta sends
// whatever attribute its admin mapped (often the manager's login or
// employee id), so the manager's externalId and userName are accepted too,
// in that order after the id.
func resolveManager(ctx context.Context, tx *gorm.DB, acc *accounts.Service, value string) (string, bool, error) {
	if m, found, err := acc.UserByID(ctx, tx, value); err != nil || found {
		return m.ID, found, err
	}
	var ids []string
	if err := tx.WithContext(ctx).Raw(`SELECT user_id FROM scim_users WHERE external_id = ?
		UNION ALL SELECT id FROM users WHERE email = ? LIMIT 1`, value, accounts.NormalizeEmail(value)).Scan(&ids).Error; err != nil {
		return "", false, err
	}
	if len(ids) == 0 {
		return "", false, nil
	}
	return ids[0], true, nil
}
