package lti

import (
	"fmt"
	"net/http"
)

// Failure is a login or launch Baton refused; the web layer shows its
// Message on a page (never a 500) and logs Cause.
type Failure struct {
	Code  string
	Cause error
}

func (f *Failure) Error() string { return "LTI launch refused: " + f.Code + ": " + fmt.Sprint(f.Cause) }
func (f *Failure) Unwrap() error { return f.Cause }

func refuse(code string, cause error) error { return &Failure{Code: code, Cause: cause} }

// The refusal codes (docs/lti.md lists them with their pages).
const (
	FailRequest         = "bad_request"        // parameters missing or malformed
	FailUnknownPlatform = "unknown_platform"   // no registration for the issuer (and client id)
	FailDeployment      = "unknown_deployment" // the deployment is not one the admin registered
	FailTarget          = "bad_target"         // the target link is not Baton's
	FailState           = "state"              // no login with this state was started (in this browser)
	FailExpired         = "expired"            // the login or the token is too old, or was used already
	FailToken           = "invalid_token"      // the id_token failed a check
	FailMessageType     = "message_type"       // a message Baton does not handle
	FailNoEmail         = "no_email"           // the platform shares no address
	FailAnonymous       = "anonymous"          // a launch without a user (sub)
	FailConflict        = "conflict"           // the account is linked to another account at this platform
	FailDeactivated     = "deactivated"        // the account is turned off
	FailPlatform        = "platform"           // the platform could not be reached
	FailUnavailable     = "unavailable"        // Baton could not finish (database)
	FailRegistration    = "registration"       // a dynamic registration failed
)

// Page is what a refusal page says, and its status.
type Page struct {
	Status        int
	Title, Detail string
}

// PageFor says a refusal in words for the person looking at it.
func PageFor(code string) Page {
	p := func(status int, title, detail string) Page { return Page{Status: status, Title: title, Detail: detail} }
	switch code {
	case FailRequest:
		return p(http.StatusBadRequest, "This launch is incomplete", "The learning platform sent a launch Baton cannot read. Go back to your course and open the activity again.")
	case FailUnknownPlatform:
		return p(http.StatusForbidden, "This learning platform is not registered", "Baton does not know the platform (or its client id) this launch comes from. Ask Baton's administrator to register it.")
	case FailDeployment:
		return p(http.StatusForbidden, "This deployment is not registered", "The platform launched Baton from a deployment Baton's administrator has not registered.")
	case FailTarget:
		return p(http.StatusBadRequest, "This link does not point into Baton", "The activity's link does not name a Baton module or scenario. Ask your instructor to choose the content again.")
	case FailState:
		return p(http.StatusForbidden, "This launch was not started here", "Baton has no record of this launch starting in this browser. Open the activity again from your course; if your browser blocks cookies for Baton, open it in a new window.")
	case FailExpired:
		return p(http.StatusForbidden, "This launch has expired", "The launch took too long or was used already. Open the activity again from your course.")
	case FailToken:
		return p(http.StatusForbidden, "This launch could not be verified", "The launch's signature or claims did not pass Baton's checks, so Baton did not sign you in.")
	case FailMessageType:
		return p(http.StatusBadRequest, "Baton cannot handle this kind of launch", "Baton opens resource links and deep-linking requests only.")
	case FailNoEmail:
		return p(http.StatusForbidden, "Your email address was not shared", "Baton needs your email address to find or create your account, and the platform did not send it. Ask the platform's administrator to share names and email addresses with Baton (in Moodle: Privacy \"Share launcher's name and email with the tool\").")
	case FailAnonymous:
		return p(http.StatusForbidden, "This launch names nobody", "The platform launched Baton without saying who you are, so Baton cannot sign you in.")
	case FailConflict:
		return p(http.StatusConflict, "Your Baton account is connected to someone else", "This Baton account is already connected to another account at this learning platform.")
	case FailDeactivated:
		return p(http.StatusForbidden, "This account is turned off", "Your company has turned off this Baton account.")
	case FailPlatform:
		return p(http.StatusBadGateway, "The learning platform could not be reached", "Baton could not fetch what it needs from the platform. Try again in a moment.")
	case FailRegistration:
		return p(http.StatusBadRequest, "Registration failed", "Baton could not register with this platform. Ask Baton's administrator for a new registration URL and try again.")
	}
	return p(http.StatusServiceUnavailable, "Baton could not finish", "Something went wrong on Baton's side. Try again in a moment.")
}
