package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/baton-course/baton/server/accounts"
)

const scimToken = "scim-test-token-0123456789abcdef0123456789"

// scimClient calls a real Baton HTTP server as an identity provider does.
type scimClient struct {
	t     *testing.T
	base  string
	token string
}

type scimReply struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (c scimClient) do(method, path string, body any) scimReply {
	c.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := scimReply{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			c.t.Fatalf("%s %s: %d, not JSON: %s", method, path, res.StatusCode, raw)
		}
	}
	if res.StatusCode >= 500 {
		c.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return r
}

// must answers r when its status is want, else fails.
func (r scimReply) must(t *testing.T, want int) scimReply {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Raw)
	}
	return r
}

// scimError checks r is a SCIM error with status and scimType ("" for none).
func scimError(t *testing.T, r scimReply, status int, scimType string) {
	t.Helper()
	r.must(t, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Fatalf("content type %q", ct)
	}
	if got, _ := r.Body["scimType"].(string); got != scimType {
		t.Fatalf("scimType %q, want %q: %s", got, scimType, r.Raw)
	}
	if s, _ := r.Body["status"].(string); s != fmt.Sprint(status) {
		t.Fatalf("status field %q: %s", s, r.Raw)
	}
}

func newUser(userName, given, family, managerID string) map[string]any {
	u := map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"userName":   userName,
		"externalId": "ext-" + given,
		"name":       map[string]any{"givenName": given, "familyName": family},
		"emails":     []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"active":     true,
	}
	if managerID != "" {
		u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = map[string]any{"manager": map[string]any{"value": managerID}}
	}
	return u
}

func patchOps(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

func startSCIM(t *testing.T) (*testServer, *httptest.Server, scimClient) {
	t.Helper()
	db := newTestDB(t)
	cfg := testConfig(t)
	cfg.SCIMToken = scimToken
	s := buildServer(t, cfg, db)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv, scimClient{t: t, base: srv.URL + "/scim/v2", token: scimToken}
}

// sessionFor opens a session for a passwordless account the way single
// sign-on does, and answers its access token.
func sessionFor(t *testing.T, s *testServer, id string) string {
	t.Helper()
	u, err := s.svc.Accounts.User(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.svc.Accounts.SignInExternal(context.Background(), u, "test")
	if err != nil {
		t.Fatal(err)
	}
	return in.AccessToken
}

func apiGet(t *testing.T, srv *httptest.Server, token, path string, into any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if into != nil && res.StatusCode == 200 {
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode
}

func passwordLogin(t *testing.T, srv *httptest.Server, email string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": testPassword})
	res, err := http.Post(srv.URL+"/api/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

type teamList []struct {
	ID, Name string
	Members  int
}

func progressMembers(t *testing.T, srv *httptest.Server, token, teamID string) []string {
	t.Helper()
	var rep struct {
		Members []struct {
			User struct{ ID string }
		}
	}
	if st := apiGet(t, srv, token, "/api/teams/"+teamID+"/progress", &rep); st != 200 {
		t.Fatalf("progress: %d", st)
	}
	var ids []string
	for _, m := range rep.Members {
		ids = append(ids, m.User.ID)
	}
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// An identity provider provisions a manager and two reports, lists, moves,
// deactivates, reactivates and deletes them; the teams follow.
func TestSCIMBuildsTeams(t *testing.T) {
	t.Parallel()
	s, srv, c := startSCIM(t)
	ctx := context.Background()

	dana := c.do("POST", "/Users", newUser("Dana.Reyes@Example.com", "Dana", "Reyes", "")).must(t, 201)
	danaID := dana.Body["id"].(string)
	if dana.Body["userName"] != "dana.reyes@example.com" || dana.Body["displayName"] != "Dana Reyes" {
		t.Fatalf("created %s", dana.Raw)
	}
	if ct := dana.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Fatalf("content type %q", ct)
	}
	lee := c.do("POST", "/Users", newUser("lee@example.com", "Lee", "Park", "")).must(t, 201)
	leeID := lee.Body["id"].(string)
	ana := c.do("POST", "/Users", newUser("ana@example.com", "Ana", "Silva", danaID)).must(t, 201)
	anaID := ana.Body["id"].(string)
	if m := ana.Body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)["manager"].(map[string]any); m["value"] != danaID || m["displayName"] != "Dana Reyes" {
		t.Fatalf("manager %v", m)
	}
	// Okta sends the attribute its admin mapped as manager.value: the
	// manager's externalId or login work as well as the SCIM id.
	for i, byOkta := range []string{"ext-Dana", "DANA.REYES@example.com"} {
		r := c.do("POST", "/Users", newUser(fmt.Sprintf("okta%d@example.com", i), fmt.Sprintf("Okta%d", i), "Report", byOkta)).must(t, 201)
		if m := r.Body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)["manager"].(map[string]any); m["value"] != danaID {
			t.Fatalf("manager.value %q resolved to %v, want Dana", byOkta, m)
		}
		c.do("DELETE", "/Users/"+r.Body["id"].(string), nil).must(t, 204)
	}

	// Someone registered an address of the company's, never verified it,
	// and the provider adopts the account: it is the company's now, not the
	// registrant's (the pre-hijacked account): password and sessions go.
	squatter := signUp(t, s.Handler(), s.DB, "learner")
	c.do("PATCH", "/Users/"+squatter.ID, patchOps(map[string]any{"op": "replace", "path": "active", "value": true})).must(t, 200)
	if st := apiGet(t, srv, squatter.Token, "/api/me", nil); st != 401 {
		t.Fatalf("the unverified registrant's session after adoption: %d", st)
	}
	if st, _ := passwordLogin(t, srv, squatter.Email); st != 401 {
		t.Fatalf("the unverified registrant's password after adoption: %d", st)
	}
	c.do("DELETE", "/Users/"+squatter.ID, nil).must(t, 204)

	// A report who signed up with a password first and verified the
	// address: Okta looks them up by userName and adopts them with a PATCH;
	// their password stays theirs.
	bo := signUp(t, s.Handler(), s.DB, "learner")
	if err := s.DB.Gorm.Exec(`UPDATE users SET email_verified_at = now() WHERE id = ?`, bo.ID).Error; err != nil {
		t.Fatal(err)
	}
	found := c.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "`+strings.ToUpper(bo.Email)+`"`), nil).must(t, 200)
	if found.Body["totalResults"] != float64(1) {
		t.Fatalf("lookup: %s", found.Raw)
	}
	c.do("PATCH", "/Users/"+bo.ID, patchOps(map[string]any{"op": "add",
		"path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": map[string]any{"value": danaID}})).must(t, 200)

	// Dana was a learner: now a manager, with "Dana Reyes's team" of Ana and Bo.
	danaToken := sessionFor(t, s, danaID)
	var teams teamList
	if st := apiGet(t, srv, danaToken, "/api/teams", &teams); st != 200 || len(teams) != 1 || teams[0].Name != "Dana Reyes's team" || teams[0].Members != 2 {
		t.Fatalf("dana's teams: %d %+v", st, teams)
	}
	danaTeam := teams[0].ID
	if got := progressMembers(t, srv, danaToken, danaTeam); len(got) != 2 || !contains(got, anaID) || !contains(got, bo.ID) {
		t.Fatalf("progress members %v", got)
	}
	anaToken := sessionFor(t, s, anaID)
	var me struct {
		Teams []struct {
			ID          string
			Name        string
			ManagerName string `json:"manager_name"`
			Provisioned bool
		}
	}
	if st := apiGet(t, srv, anaToken, "/api/me", &me); st != 200 || len(me.Teams) != 1 || me.Teams[0].ManagerName != "Dana Reyes" || !me.Teams[0].Provisioned {
		t.Fatalf("ana's me: %d %+v", st, me)
	}

	// Listing and paging.
	all := c.do("GET", "/Users?startIndex=2&count=2", nil).must(t, 200)
	if all.Body["totalResults"] != float64(4) || len(all.Body["Resources"].([]any)) != 2 || all.Body["startIndex"] != float64(2) {
		t.Fatalf("page: %s", all.Raw)
	}
	if r := c.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "nobody@example.com"`), nil).must(t, 200); r.Body["totalResults"] != float64(0) {
		t.Fatalf("no match: %s", r.Raw)
	}
	if r := c.do("GET", "/Users?filter="+url.QueryEscape(`name.familyName eq "Silva" and active eq true`), nil).must(t, 200); r.Body["totalResults"] != float64(1) {
		t.Fatalf("by family name: %s", r.Raw)
	}
	if r := c.do("GET", "/Users/"+anaID, nil).must(t, 200); r.Body["externalId"] != "ext-Ana" {
		t.Fatalf("get: %s", r.Raw)
	}

	// Bo moves to Lee (Entra-style: capitalised op, bare manager id).
	c.do("PATCH", "/Users/"+bo.ID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"`+leeID+`"}]}`).must(t, 200)
	if got := progressMembers(t, srv, danaToken, danaTeam); len(got) != 1 || got[0] != anaID {
		t.Fatalf("dana's team after the move %v", got)
	}
	leeToken := sessionFor(t, s, leeID)
	if st := apiGet(t, srv, leeToken, "/api/teams", &teams); st != 200 || len(teams) != 1 || teams[0].Members != 1 {
		t.Fatalf("lee's teams: %d %+v", st, teams)
	}
	leeTeam := teams[0].ID

	// Bo is deactivated (Entra sends "False"): the access token dies, the
	// password is refused, Lee's progress no longer lists Bo.
	if st := apiGet(t, srv, bo.Token, "/api/me", nil); st != 200 {
		t.Fatalf("bo before: %d", st)
	}
	off := c.do("PATCH", "/Users/"+bo.ID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"active","value":"False"}]}`).must(t, 200)
	if off.Body["active"] != false {
		t.Fatalf("deactivated: %s", off.Raw)
	}
	if st := apiGet(t, srv, bo.Token, "/api/me", nil); st != 401 {
		t.Fatalf("bo's token after deactivation: %d", st)
	}
	if st, body := passwordLogin(t, srv, bo.Email); st != 403 || body["detail"] != "Your company has turned off this account." {
		t.Fatalf("bo's sign-in: %d %v", st, body)
	}
	boUser, _ := s.svc.Accounts.User(ctx, bo.ID)
	if _, err := s.svc.Accounts.SignInExternal(ctx, boUser, "oidc"); err == nil {
		t.Fatal("single sign-on let a deactivated account in")
	}
	if got := progressMembers(t, srv, leeToken, leeTeam); len(got) != 0 {
		t.Fatalf("lee's team lists %v", got)
	}

	// Reactivated: the provisioned membership comes back from the manager.
	c.do("PATCH", "/Users/"+bo.ID, patchOps(map[string]any{"op": "replace", "value": map[string]any{"active": true}})).must(t, 200)
	if got := progressMembers(t, srv, leeToken, leeTeam); len(got) != 1 || got[0] != bo.ID {
		t.Fatalf("lee's team after reactivation %v", got)
	}
	if st, _ := passwordLogin(t, srv, bo.Email); st != 200 {
		t.Fatalf("bo's sign-in after reactivation: %d", st)
	}

	// PUT replaces: no manager means no provisioned membership.
	put := newUser("ana@example.com", "Ana", "Silva-Lund", "")
	if r := c.do("PUT", "/Users/"+anaID, put).must(t, 200); r.Body["displayName"] != "Ana Silva-Lund" {
		t.Fatalf("put: %s", r.Raw)
	}
	if got := progressMembers(t, srv, danaToken, danaTeam); len(got) != 0 {
		t.Fatalf("dana's team after PUT %v", got)
	}

	// Deleted: gone, 404 afterwards, its token dead.
	c.do("DELETE", "/Users/"+anaID, nil).must(t, 204)
	scimError(t, c.do("GET", "/Users/"+anaID, nil), 404, "")
	if st := apiGet(t, srv, anaToken, "/api/me", nil); st != 401 {
		t.Fatalf("ana's token after delete: %d", st)
	}

	var actions []string
	if err := s.DB.Gorm.Raw(`SELECT DISTINCT action FROM audit_events WHERE action LIKE 'scim.%' ORDER BY 1`).Scan(&actions).Error; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scim.team.create", "scim.user.create", "scim.user.deactivate", "scim.user.delete", "scim.user.update"} {
		if !contains(actions, want) {
			t.Fatalf("audit actions %v lack %s", actions, want)
		}
	}
}

// Everything an identity provider can get wrong answers a SCIM error, never 500.
func TestSCIMRefusals(t *testing.T) {
	t.Parallel()
	s, srv, c := startSCIM(t)

	for _, tok := range []string{"", "wrong-token", scimToken + "x"} {
		r := scimClient{t: t, base: c.base, token: tok}.do("GET", "/Users", nil)
		scimError(t, r, 401, "")
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Fatal("401 without WWW-Authenticate")
		}
	}
	scimError(t, c.do("GET", "/Users?filter="+url.QueryEscape(`userName zz "x"`), nil), 400, "invalidFilter")
	scimError(t, c.do("GET", "/Users?filter="+url.QueryEscape(`userName eq`), nil), 400, "invalidFilter")

	c.do("POST", "/Users", newUser("kim@example.com", "Kim", "Lee", "")).must(t, 201)
	scimError(t, c.do("POST", "/Users", newUser("KIM@example.com", "Kim", "Again", "")), 409, "uniqueness")
	scimError(t, c.do("POST", "/Users", newUser("sam@example.com", "Sam", "Roe", "5b0c7e3e-2d8f-4c55-9d6b-1f1e1a1b1c1d")), 400, "invalidValue")
	scimError(t, c.do("POST", "/Users", newUser("sam@example.com", "Sam", "Roe", "not-an-id")), 400, "invalidValue")
	scimError(t, c.do("POST", "/Users", newUser("not an address", "Sam", "Roe", "")), 400, "invalidValue")
	// NUL characters, which PostgreSQL text cannot hold, are dropped: no 500.
	nul := newUser("nul@example.com", "Nu\u0000l", "Ro\u0000e", "")
	nul["externalId"] = "ext\u0000nul"
	if r := c.do("POST", "/Users", nul); r.Status != 201 {
		t.Fatalf("NUL in attributes: %d %s", r.Status, r.Raw)
	}
	scimError(t, c.do("POST", "/Users", newUser("nul2@example.com", "Sam", "Roe", "man\u0000ager")), 400, "invalidValue")
	scimError(t, c.do("POST", "/Users", `{"schemas":`), 400, "invalidSyntax")
	sam := c.do("POST", "/Users", newUser("sam@example.com", "Sam", "Roe", "")).must(t, 201)
	samID := sam.Body["id"].(string)
	scimError(t, c.do("PATCH", "/Users/"+samID, patchOps(map[string]any{"op": "replace",
		"path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": map[string]any{"value": samID}})), 400, "invalidValue")
	scimError(t, c.do("PATCH", "/Users/"+samID, patchOps(map[string]any{"op": "replace", "path": "userName", "value": "kim@example.com"})), 409, "uniqueness")
	scimError(t, c.do("PATCH", "/Users/"+samID, patchOps(map[string]any{"op": "replace", "path": "active", "value": "maybe"})), 400, "invalidValue")
	scimError(t, c.do("PATCH", "/Users/"+samID, patchOps(map[string]any{"op": "shuffle", "path": "active", "value": true})), 400, "invalidValue")
	scimError(t, c.do("GET", "/Users/not-a-uuid", nil), 404, "")
	scimError(t, c.do("DELETE", "/Users/5b0c7e3e-2d8f-4c55-9d6b-1f1e1a1b1c1d", nil), 404, "")

	// The last active admin can be neither deactivated nor deleted.
	admin := signUp(t, s.Handler(), s.DB, accounts.RoleAdmin)
	scimError(t, c.do("PATCH", "/Users/"+admin.ID, patchOps(map[string]any{"op": "replace", "path": "active", "value": false})), 409, "")
	scimError(t, c.do("DELETE", "/Users/"+admin.ID, nil), 409, "")
	if st := apiGet(t, srv, admin.Token, "/api/me", nil); st != 200 {
		t.Fatalf("admin after refusals: %d", st)
	}
	// A second admin the company turned off counts for nothing: the first
	// still cannot demote themselves.
	second := signUp(t, s.Handler(), s.DB, accounts.RoleAdmin)
	s.DB.Gorm.Exec(`UPDATE users SET email_verified_at = now() WHERE id = ?`, second.ID)
	c.do("PATCH", "/Users/"+second.ID, patchOps(map[string]any{"op": "replace", "path": "active", "value": false})).must(t, 200)
	if r := call(t, s.Handler(), "PATCH", "/api/users/"+admin.ID, map[string]string{"role": "learner"}, admin.auth()...); r.Status != 409 {
		t.Fatalf("the last active admin demoting themselves beside a deactivated one: %d %s", r.Status, r.Body)
	}

	for _, p := range []string{"/ServiceProviderConfig", "/Schemas", "/ResourceTypes"} {
		c.do("GET", p, nil).must(t, 200)
	}
	if r := c.do("GET", "/ServiceProviderConfig", nil); r.Body["patch"].(map[string]any)["supported"] != true {
		t.Fatalf("config: %s", r.Raw)
	}
}

// Without BATON_SCIM_TOKEN every /scim path is 404, with the token or not.
func TestSCIMOffByDefault(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	for _, p := range []string{"/scim/v2/Users", "/scim/v2/ServiceProviderConfig", "/scim", "/scim/other"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+scimToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Fatalf("%s: %d", p, res.StatusCode)
		}
	}
}
