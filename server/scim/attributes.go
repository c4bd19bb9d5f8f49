package scim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/baton-course/baton/server/accounts"
)

// The attributes Baton keeps: userName (the email; when it is no address,
// the primary emails value is), name and displayName (the account's name),
// externalId, active and the enterprise manager. Others are accepted and
// not stored.

const coreUserURN = "urn:ietf:params:scim:schemas:core:2.0:User"

// edit collects what a request said before it becomes a person.
type edit struct {
	userName, formatted, displayName, email *string
	nameParts                               bool
}

// replaceWith sets p from a full resource (create, PUT): what is absent is
// cleared, except active.
func (p *person) replaceWith(attrs scim.ResourceAttributes) error {
	keep := p.Active
	*p = person{Active: keep}
	var e edit
	for k, v := range attrs {
		if err := p.set(&e, "", k, "", v, false); err != nil {
			return err
		}
	}
	return p.finish(e)
}

// patch applies one PATCH operation to p.
func (p *person) patch(op scim.PatchOperation) error {
	var e edit
	remove := op.Op == scim.PatchOperationRemove
	if op.Path == nil {
		values, ok := op.Value.(map[string]any)
		if !ok {
			return invalidValue("A PATCH operation without a path needs an object value.")
		}
		for k, v := range values {
			if err := p.setPath(&e, k, v, remove); err != nil {
				return err
			}
		}
		return p.finish(e)
	}
	ap := op.Path.AttributePath
	sub := ap.SubAttributeName()
	if s := op.Path.SubAttributeName(); s != "" {
		sub = s // emails[type eq "work"].value
	}
	if err := p.set(&e, ap.URI(), ap.AttributeName, sub, op.Value, remove); err != nil {
		return err
	}
	return p.finish(e)
}

// setPath sets an attribute named by a path-less operation's key, such as
// "name.givenName", "active" or the enterprise extension's URN.
func (p *person) setPath(e *edit, key string, v any, remove bool) error {
	if strings.EqualFold(key, enterpriseURN) || strings.EqualFold(key, coreUserURN) {
		m, _ := v.(map[string]any)
		for k, sv := range m {
			if err := p.set(e, key, k, "", sv, remove); err != nil {
				return err
			}
		}
		return nil
	}
	path, err := filter.ParseAttrPath([]byte(key))
	if err != nil {
		return scimerrors.ScimErrorInvalidPath
	}
	return p.set(e, path.URI(), path.AttributeName, path.SubAttributeName(), v, remove)
}

// set applies one attribute (uri: its schema, "" for the core one).
func (p *person) set(e *edit, uri, attr, sub string, v any, remove bool) error {
	attr, sub = strings.ToLower(attr), strings.ToLower(sub)
	if strings.EqualFold(uri, enterpriseURN) {
		if attr == enterpriseURN || strings.EqualFold(attr, enterpriseURN) {
			m, _ := v.(map[string]any)
			for k, sv := range m {
				if err := p.set(e, uri, k, "", sv, remove); err != nil {
					return err
				}
			}
			return nil
		}
		if attr != "manager" {
			return nil
		}
		switch {
		case remove:
			p.ManagerID = ""
		case sub == "value":
			p.ManagerID = text(v)
		case sub == "":
			m, _ := v.(map[string]any)
			p.ManagerID = text(lookup(m, "value"))
		}
		return nil
	}
	if uri != "" && !strings.EqualFold(uri, coreUserURN) {
		return nil
	}
	if strings.EqualFold(attr, enterpriseURN) {
		return p.set(e, enterpriseURN, attr, sub, v, remove)
	}
	switch attr {
	case "username":
		if !remove {
			s := text(v)
			e.userName = &s
		}
	case "displayname":
		if !remove {
			s := text(v)
			e.displayName = &s
		}
	case "externalid":
		p.ExternalID = ""
		if !remove {
			p.ExternalID = text(v)
		}
	case "active":
		if remove {
			return nil
		}
		b, ok := v.(bool)
		if !ok {
			return invalidValue("active must be true or false.")
		}
		p.Active = b
	case "name":
		m := map[string]any{sub: v}
		if sub == "" {
			m, _ = v.(map[string]any)
			if remove {
				m = map[string]any{"givenname": nil, "familyname": nil}
			}
		}
		for k, sv := range m {
			s := ""
			if !remove {
				s = text(sv)
			}
			switch strings.ToLower(k) {
			case "formatted":
				if !remove {
					e.formatted = &s
				}
			case "givenname":
				p.Given, e.nameParts = s, true
			case "familyname":
				p.Family, e.nameParts = s, true
			}
		}
	case "emails":
		if remove {
			return nil // an account always has its address
		}
		if sub == "value" {
			s := text(v)
			e.email = &s
			return nil
		}
		if s := primaryEmail(v); s != "" {
			e.email = &s
		}
	}
	return nil
}

// finish works out the address and name from what was said.
func (p *person) finish(e edit) error {
	switch {
	case e.userName != nil && accounts.EmailProblem(accounts.NormalizeEmail(*e.userName)) == "":
		p.Email = *e.userName
	case e.email != nil:
		p.Email = *e.email
	case e.userName != nil:
		p.Email = *e.userName // no address: the account's checks say so
	}
	switch {
	case e.formatted != nil && strings.TrimSpace(*e.formatted) != "":
		p.Name = *e.formatted
	case e.displayName != nil && strings.TrimSpace(*e.displayName) != "":
		p.Name = *e.displayName
	case e.nameParts && strings.TrimSpace(p.Given+" "+p.Family) != "":
		p.Name = strings.TrimSpace(p.Given + " " + p.Family)
	}
	if len(p.ExternalID) > 256 || len([]rune(p.Given)) > 100 || len([]rune(p.Family)) > 100 {
		return invalidValue("externalId is at most 256 characters, givenName and familyName at most 100.")
	}
	return nil
}

// primaryEmail is the primary value of an emails attribute (one email or a
// list), else the first.
func primaryEmail(v any) string {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	first := ""
	for _, item := range list {
		m, _ := item.(map[string]any)
		s := text(lookup(m, "value"))
		if b, _ := lookup(m, "primary").(bool); b && s != "" {
			return s
		}
		if first == "" {
			first = s
		}
	}
	return first
}

func lookup(m map[string]any, key string) any {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func text(v any) string {
	s, _ := v.(string)
	// PostgreSQL text cannot hold NUL, and no identity provider means one.
	return strings.TrimSpace(strings.ReplaceAll(s, "\x00", ""))
}

func invalidValue(detail string) error {
	return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidValue, Detail: detail}
}

// entraManager rewrites the manager Microsoft Entra ID sends in PATCH
// operations, a bare id string ("value": "<id>"), into the complex value
// RFC 7643 defines ({"value": "<id>"}), before the library validates it.
func entraManager(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, scimerrors.ScimErrorInvalidSyntax)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(rewriteManager(body)))
		next.ServeHTTP(w, r)
	})
}

func rewriteManager(body []byte) []byte {
	var req map[string]any
	if json.Unmarshal(body, &req) != nil {
		return body // the library answers invalidSyntax
	}
	ops, _ := lookup(req, "Operations").([]any)
	changed := false
	for _, o := range ops {
		op, _ := o.(map[string]any)
		path, _ := lookup(op, "path").(string)
		id, isString := lookup(op, "value").(string)
		if isString && strings.EqualFold(path, enterpriseURN+":manager") {
			for k := range op {
				if strings.EqualFold(k, "value") {
					op[k] = map[string]any{"value": id}
				}
			}
			changed = true
		}
	}
	if !changed {
		return body
	}
	out, err := json.Marshal(req)
	if err != nil {
		return body
	}
	return out
}
