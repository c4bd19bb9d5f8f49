package scim

import (
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	filter "github.com/scim2/filter-parser/v2"
	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
)

// GetAll lists accounts oldest first, paged by startIndex and count. The
// library has parsed and checked the filter; it also judges every candidate
// (PassesFilter), and an equality on userName, emails.value, id or
// externalId that the whole filter needs narrows the candidates in SQL
// first, so the lookup an identity provider makes before creating someone
// costs one indexed query.
func (h *userHandler) GetAll(r *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	ctx := r.Context()
	q := h.DB.WithContext(ctx)
	if params.FilterValidator == nil {
		var total int64
		if err := q.Raw(`SELECT count(*) FROM users`).Scan(&total).Error; err != nil {
			return scim.Page{}, h.internal(err)
		}
		var rows []userRow
		if err := q.Raw(rowSelect+` ORDER BY u.created_at, u.id OFFSET ? LIMIT ?`,
			params.StartIndex-1, params.Count).Scan(&rows).Error; err != nil {
			return scim.Page{}, h.internal(err)
		}
		page := scim.Page{TotalResults: int(total), Resources: []scim.Resource{}}
		for _, u := range rows {
			page.Resources = append(page.Resources, u.resource())
		}
		return page, nil
	}
	var rows []userRow
	if err := narrow(q, params.FilterValidator.GetFilter()).Scan(&rows).Error; err != nil {
		return scim.Page{}, h.internal(err)
	}
	page := scim.Page{Resources: []scim.Resource{}}
	for _, u := range rows {
		res := u.resource()
		if params.FilterValidator.PassesFilter(withCommon(res)) != nil {
			continue
		}
		page.TotalResults++
		if page.TotalResults >= params.StartIndex && len(page.Resources) < params.Count {
			page.Resources = append(page.Resources, res)
		}
	}
	return page, nil
}

// withCommon is a resource's attributes with id and externalId, which the
// filter may name too.
func withCommon(r scim.Resource) map[string]any {
	m := map[string]any{"id": r.ID}
	for k, v := range r.Attributes {
		m[k] = v
	}
	if r.ExternalID.Present() {
		m["externalId"] = r.ExternalID.Value()
	}
	return m
}

// narrow is the candidates' query: one equality the filter requires, when
// there is one, else every account.
func narrow(q *gorm.DB, e filter.Expression) *gorm.DB {
	if cond, arg, ok := required(e); ok {
		return q.Raw(rowSelect+` WHERE `+cond+` ORDER BY u.created_at, u.id`, arg)
	}
	return q.Raw(rowSelect + ` ORDER BY u.created_at, u.id`)
}

// required finds an equality every match must satisfy (the filter itself,
// or either side of an "and") on an attribute Baton can look up.
func required(e filter.Expression) (string, any, bool) {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			if c, a, ok := required(x.Left); ok {
				return c, a, true
			}
			return required(x.Right)
		}
	case *filter.AttributeExpression:
		v, isString := x.CompareValue.(string)
		if x.Operator != filter.EQ || !isString {
			return "", nil, false
		}
		name := strings.ToLower(x.AttributePath.AttributeName)
		sub := strings.ToLower(x.AttributePath.SubAttributeName())
		switch {
		case name == "username" && sub == "", name == "emails" && (sub == "value" || sub == ""):
			return "u.email = ?", accounts.NormalizeEmail(v), true
		case name == "id" && sub == "":
			return "u.id::text = ?", v, true // a malformed id matches nobody
		case name == "externalid" && sub == "":
			return "su.external_id = ?", v, true
		}
	}
	return "", nil, false
}
