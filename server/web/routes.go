package web

import (
	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/accounts"
)

// routes is the one table of every endpoint. Each /api route names who may
// call it, so who-may-call-what can be audited on one screen:
// public (no token), signedIn (any role), managers (manager or admin),
// admins. Finer rules (only your own team, only your own attempt) live in the
// area's package and answer 404 for what the caller may not see.
func (s *Server) routes() {
	e := s.echo
	signedIn := s.authenticate
	managers := []echo.MiddlewareFunc{signedIn, s.requireRole(accounts.RoleManager)}
	admins := []echo.MiddlewareFunc{signedIn, s.requireRole(accounts.RoleAdmin)}

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.serveMetrics()) // loopback, or the bearer BATON_METRICS_TOKEN (else 404)

	api := e.Group("/api")
	api.GET("/openapi.json", serveOpenAPI)                           // public
	api.POST("/auth/register", s.register)                           // public
	api.POST("/auth/login", s.login)                                 // public
	api.POST("/auth/refresh", s.refresh)                             // public (refresh cookie)
	api.POST("/auth/logout", s.logout, signedIn)                     // signedIn
	api.GET("/me", s.me, signedIn)                                   // signedIn
	api.DELETE("/me", s.deleteMe, signedIn)                          // signedIn: own account, with the password
	api.POST("/auth/verify-email", s.verifyEmail)                    // public (the emailed token)
	api.POST("/auth/password-reset", s.requestPasswordReset)         // public (same answer for every address)
	api.POST("/auth/password-reset/confirm", s.confirmPasswordReset) // public (the emailed token)
	api.POST("/me/verification", s.resendVerification, signedIn)     // signedIn: own address
	api.PUT("/me/password", s.changePassword, signedIn)              // signedIn: own password, with the current one
	api.GET("/me/sessions", s.listSessions, signedIn)                // signedIn: own sessions
	api.DELETE("/me/sessions/:id", s.revokeSession, signedIn)        // signedIn: own session (else 404)
	api.GET("/me/export", s.exportMe, signedIn)                      // signedIn: own data
	api.GET("/users", s.listUsers, admins...)                        // admins
	api.PATCH("/users/:id", s.setRole, admins...)                    // admins
	api.POST("/admin/signing-keys", s.rotateKey, admins...)          // admins

	// Single sign-on (BATON_OIDC_*; off: the flow's routes are 404).
	api.GET("/auth/providers", s.providers)                              // public
	api.GET("/auth/oidc/login", s.oidcLogin)                             // public: a redirect to the provider
	api.GET("/auth/oidc/callback", s.oidcCallback)                       // public: the provider's answer, bound to the browser that started it
	api.POST("/auth/oidc/link", s.oidcLink)                              // public (the link's token, with the password or the mailed one)
	api.GET("/admin/sso-domains", s.ssoDomains, admins...)               // admins
	api.PUT("/admin/sso-domains/:domain", s.requireSSODomain, admins...) // admins
	api.DELETE("/admin/sso-domains/:domain", s.dropSSODomain, admins...) // admins

	// Baton as an LTI 1.3 tool (docs/lti.md): platforms' routes answer pages.
	api.GET("/admin/lti/platforms", s.listLTIPlatforms, admins...)         // admins
	api.POST("/admin/lti/platforms", s.registerLTIPlatform, admins...)     // admins
	api.DELETE("/admin/lti/platforms/:id", s.deleteLTIPlatform, admins...) // admins
	api.POST("/admin/lti/registrations", s.newLTIRegistration, admins...)  // admins: a one-time dynamic-registration URL
	api.POST("/admin/lti/keys", s.rotateLTIKey, admins...)                 // admins
	api.GET("/lti/jwks", s.ltiJWKS)                                        // public: the tool's public keys
	api.GET("/lti/register", s.ltiRegister)                                // public (the admin's one-time token in the query)
	api.GET("/lti/login", s.ltiLogin)                                      // public: a registered platform's login initiation
	api.POST("/lti/login", s.ltiLogin)                                     // public: a registered platform's login initiation
	api.POST("/lti/launch", s.ltiLaunch)                                   // public: the platform's signed id_token, for a login this tool started
	api.GET("/lti/deep-links/:id", s.getLTIDeepLink, signedIn)             // signedIn: own deep-linking request (else 404)
	api.POST("/lti/deep-links/:id", s.answerLTIDeepLink, signedIn)         // signedIn: own deep-linking request (else 404)

	api.GET("/modules", s.modules, signedIn)                                  // signedIn
	api.GET("/lessons/:slug", s.getLesson, signedIn)                          // signedIn
	api.PUT("/lessons/:slug/progress", s.saveProgress, signedIn)              // signedIn, own progress
	api.POST("/lessons/:slug/checks/:check/answers", s.answerCheck, signedIn) // signedIn, own answers
	api.PUT("/lessons/:slug/reflections/:prompt", s.saveReflection, signedIn) // signedIn, own reflections
	api.GET("/quizzes/:slug", s.getQuiz, signedIn)                            // signedIn
	api.POST("/quizzes/:slug/attempts", s.startAttempt, signedIn)             // signedIn
	api.GET("/quizzes/:slug/attempts", s.attemptHistory, signedIn)            // signedIn, own attempts
	api.POST("/attempts/:id/answers", s.answer, signedIn)                     // signedIn, own attempt (else 404)
	api.GET("/attempts/:id", s.getAttempt, signedIn)                          // signedIn, own attempt (else 404)
	api.POST("/attempts/:id/practice", s.startPractice, signedIn)             // signedIn, own finished attempt (else 404)
	api.GET("/job-aids", s.listAids, signedIn)                                // signedIn
	api.GET("/job-aids/:module", s.getAid, signedIn)                          // signedIn, with the caller's practice task
	api.PUT("/job-aids/:module/practice", s.markPracticeDone, signedIn)       // signedIn, own task
	api.DELETE("/job-aids/:module/practice", s.clearPractice, signedIn)       // signedIn, own task
	api.GET("/practice/:id", s.getPractice, signedIn)                         // signedIn, own practice run (else 404)
	api.POST("/practice/:id/answers", s.answerPractice, signedIn)             // signedIn, own practice run (else 404)
	api.GET("/progress", s.myProgress, signedIn)                              // signedIn, own progress

	api.POST("/teams", s.createTeam, managers...)                              // managers
	api.GET("/teams", s.listTeams, managers...)                                // managers: own teams (admin: all)
	api.POST("/teams/join", s.joinTeam, signedIn)                              // signedIn
	api.GET("/teams/:id", s.getTeam, signedIn)                                 // signedIn: that team's manager or an admin (else 404, as docs/api.md says)
	api.POST("/teams/:id/invite-code", s.regenerateInviteCode, managers...)    // managers: own team (else 404)
	api.POST("/teams/:id/members", s.inviteToTeam, managers...)                // managers: own team (else 404); invites, never enrols
	api.DELETE("/teams/:id/members/:user_id", s.removeTeamMember, managers...) // managers: own team (else 404)
	api.GET("/teams/:id/progress", s.teamProgress, signedIn)                   // signedIn: that team's manager or an admin (else 404, as docs/api.md says)
	api.GET("/teams/:id/progress.csv", s.teamProgressCSV, signedIn)            // signedIn: that team's manager or an admin (else 404, as docs/api.md says)
	api.GET("/teams/:id/analytics", s.teamAnalytics, signedIn)                 // signedIn: that team's manager or an admin (else 404, as docs/api.md says)
	api.GET("/teams/:id/members/:user_id", s.teamMember, signedIn)             // signedIn: that team's manager or an admin, a current member (else 404)
	api.GET("/teams/:id/coaching/:scenario", s.teamCoaching, signedIn)         // signedIn: that team's manager or an admin (else 404, as docs/api.md says)
	api.POST("/assignments", s.createAssignments, managers...)                 // managers: own teams' members (else 403)
	api.GET("/assignments", s.listAssignments, signedIn)                       // signedIn: own; ?team_id= managers' own team
	api.PATCH("/assignments/:id", s.changeAssignmentDue, managers...)          // managers: own teams' members (else 404)
	api.DELETE("/assignments/:id", s.cancelAssignment, managers...)            // managers: own teams' members (else 404)
	api.POST("/assignments/:id/nudge", s.nudgeAssignment, managers...)         // managers: own teams' members (else 404); one a day (else 429)
	api.GET("/notifications", s.listNotifications, signedIn)                   // signedIn: own
	api.POST("/notifications/:id/read", s.markNotificationRead, signedIn)      // signedIn: own (else 404)
	api.POST("/notifications/read-all", s.markAllNotificationsRead, signedIn)  // signedIn: own
	api.GET("/audit", s.listAudit, admins...)                                  // admins

	// Consent to teams: invitations a learner answers, and leaving a team.
	api.GET("/teams/:id/invitations", s.teamInvitations, managers...)                      // managers: own team (else 404)
	api.DELETE("/teams/:id/invitations/:invitation_id", s.withdrawInvitation, managers...) // managers: own team's pending invitation (else 404)
	api.DELETE("/teams/:id/membership", s.leaveTeam, signedIn)                             // signedIn: own membership (else 404)
	api.GET("/invitations", s.myInvitations, signedIn)                                     // signedIn: own (addressed to the caller's email)
	api.POST("/invitations/:id/accept", s.acceptInvitation, signedIn)                      // signedIn: own pending invitation (else 404)
	api.POST("/invitations/:id/decline", s.declineInvitation, signedIn)                    // signedIn: own pending invitation (else 404)

	e.Any("/scim*", s.scim()) // SCIM: the bearer BATON_SCIM_TOKEN (unset: 404); /scim/v2 only

	// Everything else is the browser app; unknown /api paths are 404 problems.
	e.GET("/*", s.frontend)
	e.HEAD("/*", s.frontend)
	e.Any("/api/*", apiNotFound)
}
