package idptest

// User is a person the provider knows. They sign in with Email and Password;
// the ID token carries Subject as "sub" and Email, EmailVerified and Name as
// "email", "email_verified" and "name".
type User struct {
	Subject       string
	Email         string
	Name          string
	Password      string
	EmailVerified bool
}
