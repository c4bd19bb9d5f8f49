// Package ltitest is an LTI 1.3 platform simulator for tests: an LMS on a
// loopback port that launches a tool the way Moodle 4.x does, so a tool's
// whole redirect and form-post chain runs for real (1EdTech LTI Core 1.3,
// Security Framework 1.0, Deep Linking 2.0, AGS 2.0, NRPS 2.0, Dynamic
// Registration 1.0). Keys and signatures are go-jose's (RS256, a 2048-bit
// key per platform, its kid in every header).
//
// # Use
//
//	p := ltitest.Start(t)                      // issuer http://localhost:PORT
//	clientID, deploymentID := p.Register(ltitest.Tool{
//		LoginURL: baton + "/api/lti/login", RedirectURL: baton + "/api/lti/launch",
//		JWKSURL: baton + "/.well-known/jwks.json", DeepLinkURL: baton + "/api/lti/launch",
//	})
//	// tell the tool about the platform: p.Issuer(), clientID, deploymentID,
//	// p.AuthURL(), p.TokenURL(), p.JWKSURL()
//	ada := ltitest.Person{Sub: "u1", Name: "Ada Lovelace", Email: "ada@example.com", Roles: []string{ltitest.RoleLearner}}
//	course := ltitest.Course{ID: "c1", Title: "Leadership", Members: []ltitest.Person{ada}}
//	p.AddCourse(course)
//	link := ltitest.Link{ResourceLinkID: "rl1", Title: "Feedback talk", TargetLinkURI: baton + "/api/lti/launch",
//		Custom: map[string]string{"scenario": "feedback-talk"}, LineItem: true}
//	resp, err := idptest.NewBrowser().Navigate(p.LaunchURL(course, ada, link))
//	// ... the tool signed Ada in; later it posts her score:
//	scores := p.Scores(p.LineItems("c1")[0].ID)
//
// Opened in a browser (idptest.Browser's Navigate, or Chromium), a launch
// URL runs: the platform's page auto-POSTs third-party login initiation to
// the tool's LoginURL (iss, login_hint, target_link_uri, lti_message_hint,
// client_id, lti_deployment_id; a GET redirect instead with LoginByGET, as
// Canvas does); the tool redirects to AuthURL; the platform checks the
// authentication request (response_type=id_token, response_mode=form_post,
// scope openid, prompt=none, nonce, a registered client_id and exactly a
// registered redirect_uri, login_hint the launched person, lti_message_hint
// a pending launch, spent on use) and answers with a page that auto-POSTs
// id_token and state to the redirect URI.
//
// The id_token has every claim LTI Core requires and the ones Moodle adds:
// iss, aud and azp (the client_id), sub, iat, exp (5 minutes), nonce, name,
// given_name, family_name, email, message_type, version 1.3.0,
// deployment_id, target_link_uri, resource_link (resource-link launches
// only), roles, context, tool_platform, launch_presentation, lis, custom,
// the AGS endpoint claim (scopes, lineitems, and lineitem when the Link asks
// for one) and the NRPS namesroleservice claim. A deep-linking launch
// (DeepLinkLaunchURL) carries deep_linking_settings with
// deep_link_return_url, accept_types (ltiResourceLink unless AcceptTypes
// says otherwise), accept_presentation_document_targets, accept_multiple,
// auto_create and data.
//
// # Services
//
//   - Token endpoint (TokenURL): grant_type=client_credentials with an RFC
//     7523 client assertion (client_assertion_type jwt-bearer), verified
//     against the tool's key set fetched at JWKSURL on each request: iss and
//     sub the client_id, aud the token URL (or the issuer), exp, a jti not
//     seen before. It grants the requested scopes it offers (the four AGS
//     scopes and NRPS' contextmembership.readonly) as an opaque bearer token
//     for an hour.
//   - AGS line items at Issuer()+"/ags/{course}/lineitems": GET (filters
//     resource_id, resource_link_id, tag, limit), POST (label and a positive
//     scoreMaximum), GET, PUT and DELETE one; scores POSTed to {lineitem}/scores
//     with Content-Type application/vnd.ims.lis.v1.score+json, the score
//     scope, a userId in the course, scoreGiven within 0..scoreMaximum,
//     a known activityProgress and gradingProgress, and an RFC 3339
//     timestamp; {lineitem}/results lists each user's latest score.
//   - NRPS memberships at Issuer()+"/nrps/{course}/memberships"
//     (application/vnd.ims.lti-nrps.v2.membershipcontainer+json; role and
//     limit filters, the next page in a Link header).
//   - Deep-linking return: the tool's LtiDeepLinkingResponse, form-POSTed as
//     JWT to deep_link_return_url, verified against the tool's key set (iss
//     the client_id, aud the issuer, exp, a fresh nonce, the deployment,
//     message type, version, data echoed, content item types offered); one
//     response per launch. DeepLinks lists the accepted content items,
//     DeepLinkFailures why others were refused.
//   - Dynamic registration: OpenIDConfigURL serves the platform's
//     configuration with registration_endpoint and the LTI platform
//     configuration; StartRegistration opens the tool's registration URL in
//     a browser with openid_configuration and a one-time registration_token,
//     and the registration endpoint checks the bearer token,
//     application_type web, grant_types implicit and client_credentials,
//     response_types id_token, redirect_uris, initiate_login_uri, jwks_uri,
//     token_endpoint_auth_method private_key_jwt and the
//     lti-tool-configuration object (domain, target_link_uri, messages), and
//     answers with client_id and the deployment_id inside the tool
//     configuration, as Moodle 4.x does.
//
// # Forgeries
//
// A launch can be forged the way an attacker would (Forged(Forgery{...}) as
// an option of LaunchURL or DeepLinkLaunchURL): signed by another key with
// the platform's kid (OtherKey), for another audience, expired, for an
// unknown deployment, of another message type, from another issuer, with
// a nonce the tool did not choose, or any claim changed (Claims). A replay
// takes LastIDToken and posts it again with idptest.Browser's PostForm.
//
// # Proven against an independent tool
//
// The package's tests launch npm's ltijs (node/tool.js, on its own fresh
// PostgreSQL database through ltijs-sequelize): ltijs accepts the
// resource-link launch (user, context, resource link, roles, custom, AGS and
// NRPS claims as sent), answers a deep-linking launch with a signed
// response the platform verifies, gets service tokens with its client
// assertion, posts a grade and reads it back, reads the roster, registers
// itself dynamically, and refuses each forgery it checks (another key,
// audience or issuer; expired; a replay, both with its spent state cookie
// and slipped into a fresh login, where ltijs knows the nonce). One launch
// runs in Chromium.
//
// Cookies over loopback http: the platform is named localhost and tools run
// on 127.0.0.1, two sites, so a tool's state cookie rides the cross-site
// form_post only as SameSite=None, which needs Secure. Chromium and Go's
// cookie jar both count localhost and loopback addresses as secure
// contexts, so Secure cookies work there without TLS (checked in Chromium:
// a Secure, SameSite=None cookie set by http://127.0.0.1 comes back on a
// cross-site POST from http://localhost). ltijs therefore runs as in
// production, without devMode, with cookies {secure: true, sameSite:
// "None"}; the tests' browsers set idptest.Browser's RequireSecureNone so a
// None cookie without Secure is refused as Chromium refuses it.
//
// # Limits
//
// What Moodle and Canvas do that this simulator does not: no user interface
// and no sign-in of its own (every launch is for the person the test names);
// no key rotation; no LTI 1.1 or Advantage extras (submission review,
// proctoring, the platform notification service); deep-linking content is
// stored, not turned into course links; scores are not scaled into a
// gradebook; NRPS has no resource-link
// memberships and no differences (Canvas' rlid and since); Canvas' own
// claims (custom fields like $Canvas.user.id) are not sent; and the
// authorization endpoint refuses bad requests with a 400 page instead of
// posting an OIDC error back to the tool.
package ltitest
