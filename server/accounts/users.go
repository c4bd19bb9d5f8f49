package accounts

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Roles, from least to most privileged. An admin can do what a manager can.
const (
	RoleLearner = "learner"
	RoleManager = "manager"
	RoleAdmin   = "admin"
)

func validRole(r string) bool { return r == RoleLearner || r == RoleManager || r == RoleAdmin }

// User is a row of the users table.
type User struct {
	ID           string
	Email        string
	Name         string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// EmailVerifiedAt is when the person proved they read Email (nil: not yet).
	EmailVerifiedAt *time.Time
}

// UserView is a user as the API shows them.
type UserView struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

func (u User) View() UserView { return UserView{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role} }

// NormalizeEmail trims and lower-cases an address; emails are compared and
// stored in this form.
// NUL characters, which PostgreSQL text cannot hold, are dropped (the result
// is then no valid address and is rejected or simply not found).
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.ReplaceAll(s, "\x00", "")))
}

// EmailProblem says what is wrong with a normalised address, or "".
func EmailProblem(email string) string {
	if email == "" {
		return "is required"
	}
	if len(email) > 254 {
		return "must be at most 254 characters"
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "is not a valid email address"
	}
	if _, domain, _ := strings.Cut(email, "@"); !strings.Contains(domain, ".") && domain != "localhost" {
		return "is not a valid email address"
	}
	return ""
}

// CleanName trims a display name and drops NUL characters, which PostgreSQL
// text cannot hold; every other character is allowed and escaped on output.
func CleanName(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\x00", ""))
}

// NameProblem says what is wrong with a cleaned name, or "".
func NameProblem(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "is required"
	case n > 100:
		return "must be at most 100 characters"
	}
	return ""
}
