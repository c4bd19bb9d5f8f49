// Package idptest gives tests real OpenID Connect providers on loopback ports
// and a browser-like client that signs in through them, so Baton's single
// sign-on is tested against the software companies' identity providers are
// built from, not against a mock of our own understanding of the protocol.
//
// # Two providers, written independently
//
//   - zitadel (NewZitadel, StartZitadel): the certified
//     github.com/zitadel/oidc/v3 OP, served in-process on an httptest server.
//     It keeps that library's example in-memory storage and replaces what the
//     example hard-codes: the clients (redirect URIs given at start), the
//     people (added at start or with AddUser), and the signing key (Rotate).
//     Its sign-in page is a small HTML form (email, password) with a Cancel
//     button that sends the person back with error=access_denied; it asks
//     for no consent.
//   - oidc-provider (NewNode, StartNode): panva's certified npm package, run
//     by node/provider.mjs in a Node.js child process. Its pages are a login
//     form that checks the password, then a consent page with Allow and Deny.
//     PKCE is required for every client, and only the client's registered
//     token endpoint auth method is accepted. It needs node/node_modules,
//     which `make deps-test` installs with npm ci.
//
// Two implementations catch what one would let through: each has its own
// reading of the specification (oidc-provider adds RFC 9207's iss to the
// callback, zitadel does not; their login steps differ), and a relying party
// that works with both does not lean on either's quirks.
//
// Both answer discovery at Issuer()+"/.well-known/openid-configuration",
// run the authorization code flow with PKCE (S256), echo state and put nonce
// into the ID token, authenticate clients with client_secret_basic or
// client_secret_post, and for the scopes "openid email profile" put email,
// email_verified and name into the ID token. Rotate makes the provider sign
// with a fresh key and publish only that one, so a test can show that the
// relying party fetches the key set again for an unknown kid and refuses
// tokens signed with a key no longer published. Client.IDTokenLifetime
// shortens ID tokens for expiry tests.
//
// Issuers name localhost (OnHost("127.0.0.1") changes that) while the
// servers listen on 127.0.0.1 only: with Baton's test server on 127.0.0.1,
// provider and Baton are different sites, as in production, so a browser
// keeps their cookies apart and applies SameSite across the redirects.
//
// # Browser
//
// Browser keeps cookies per host and sends them by their SameSite attribute
// as Chromium does for top-level navigations, follows redirects across
// hosts, and fills in the provider's forms with a User's email and password.
// SignIn follows a sign-in to its end; SignInUntil and Deny stop just before
// the redirect a stop function picks (StopAt(the callback URL)), so a test
// can read or tamper with the callback before delivering it with Continue,
// which sends it as the cross-site redirect it was (a SameSite=Strict state
// cookie does not come back, as in a real browser). Get is a URL typed into
// the address bar. Logf = t.Logf shows every request.
//
// # Use
//
//	idp := idptest.StartNode(t, []idptest.Client{{ID: "baton", Secret: secret,
//		RedirectURIs: []string{baton.URL + "/api/auth/oidc/callback"}}}, nil)
//	person := idptest.User{Subject: "u-1", Email: "ada@example.com",
//		Name: "Ada Lovelace", Password: "pw", EmailVerified: true}
//	_ = idp.AddUser(person)
//	browser := idptest.NewBrowser()
//	callback, err := browser.SignInUntil(baton.URL+"/api/auth/oidc/login", person,
//		idptest.StopAt(baton.URL+"/api/auth/oidc/callback"))
//	resp, err := browser.Continue(callback) // Baton finishes the sign-in
//
// Everything listens on 127.0.0.1 only and keeps its state in memory. Stop
// (also registered with t.Cleanup by the Start functions) closes the server;
// the Node process exits when its standard input closes and is killed with
// its process group if it lingers, so a dying test binary leaves none behind.
// The New functions, which need no testing.TB, let a TestMain start a
// provider once for a whole test binary.
package idptest
