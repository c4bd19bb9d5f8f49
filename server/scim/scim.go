// Package scim is Baton's SCIM 2.0 service provider (RFC 7643/7644): a
// company's identity provider creates, updates, deactivates and deletes the
// accounts of its people, and the enterprise extension's manager builds
// every manager's team. The protocol (routing, schemas, filter and PATCH
// parsing, error format) is github.com/elimity-com/scim's; this package maps
// its resources onto accounts and teams. The bearer token is admin-equivalent.
package scim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/teams"
)

// enterpriseURN is the enterprise User extension's schema (RFC 7643 §4.3).
const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// maxResults is the largest page a list answers.
const maxResults = 100

func init() {
	// Microsoft Entra ID sends booleans as strings ("False"); the library
	// accepts them only with this switch, which is process-wide (Baton has
	// no other user of the library).
	schema.SetAllowStringValues(true)
}

// Deps is what provisioning changes.
type Deps struct {
	DB       *gorm.DB
	Accounts *accounts.Service
	Teams    *teams.Service
	Log      *slog.Logger
}

// Handler serves /v2/... (mount it with the prefix before /v2 stripped),
// each request authenticated with the bearer token.
func Handler(d Deps, token string) (http.Handler, error) {
	users := &userHandler{Deps: d}
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{
			DocumentationURI: optional.NewString("https://github.com/baton-course/baton/blob/main/docs/api.md#scim"),
			AuthenticationSchemes: []scim.AuthenticationScheme{{
				Type: scim.AuthenticationTypeOauthBearerToken, Name: "Bearer token",
				Description: "The BATON_SCIM_TOKEN, as Authorization: Bearer <token>.", Primary: true,
			}},
			MaxResults:       maxResults,
			SupportFiltering: true,
			SupportPatch:     true,
		},
		ResourceTypes: []scim.ResourceType{{
			ID:          optional.NewString("User"),
			Name:        "User",
			Endpoint:    "/Users",
			Description: optional.NewString("A person's Baton account"),
			Schema:      schema.CoreUserSchema(),
			SchemaExtensions: []scim.SchemaExtension{
				{Schema: schema.ExtensionEnterpriseUser()},
			},
			Handler: users,
		}},
	})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(token))
	return authenticate(sum[:], entraManager(srv)), nil
}

// authenticate lets through requests bearing the token. Both sides are
// hashed first, so the comparison takes the same time whatever is sent.
func authenticate(want []byte, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(raw)))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
			writeError(w, scimerrors.ScimError{Status: http.StatusUnauthorized,
				Detail: "The SCIM bearer token is missing or wrong."})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeError answers in SCIM's error format (RFC 7644 §3.12).
func writeError(w http.ResponseWriter, e scimerrors.ScimError) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}
