package accounts

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
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
	// DeactivatedAt is when the company's identity provider turned the
	// account off (SCIM active: false); nil: it is on.
	DeactivatedAt *time.Time
}

// UserView is a user as the API shows them.
type UserView struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

func (u User) View() UserView { return UserView{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role} }

// ListedUser is an account as the admin list shows it: marked when its
// email could pass for someone else's (see Lookalike).
type ListedUser struct {
	UserView
	Lookalike bool `json:"lookalike"`
}

func (u User) Listed() ListedUser {
	return ListedUser{UserView: u.View(), Lookalike: Lookalike(u.Email)}
}

// NormalizeEmail trims an address, folds it with Unicode NFKC and
// lower-cases it; emails are compared and stored in this form. NFKC makes
// the full-width "ａｎａ@example.com" the same account as "ana@example.com"
// instead of a second one that looks like it.
// NUL characters, which PostgreSQL text cannot hold, are dropped (the result
// is then no valid address and is rejected or simply not found).
func NormalizeEmail(s string) string {
	return strings.TrimSpace(strings.ToLower(norm.NFKC.String(strings.ReplaceAll(s, "\x00", ""))))
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

// CleanName trims a display name and drops the characters that are never
// seen but change what is seen: control characters (NUL among them, which
// PostgreSQL text cannot hold) and the bidirectional overrides, embeddings,
// isolates and marks that reorder text, so "Ana\u202Enimda" cannot show as
// "Anaadmin". Every visible character stays and is escaped on output (names
// are never rejected for content); zero-width joiners stay too, since emoji
// and several scripts need them. Tabs and line breaks become spaces.
func CleanName(s string) string {
	cleaned := strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029:
			return ' '
		case unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Bidi_Control, r) || hiddenFormat(r):
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(cleaned)
}

// hiddenFormat are the invisible format characters, besides the bidi
// controls, that can hide or rearrange a name's text: the zero-width space,
// soft hyphen, word joiner and invisible operators, the deprecated shaping
// and swapping controls, the byte-order mark and the interlinear
// annotation marks.
func hiddenFormat(r rune) bool {
	return r == 0x00AD || r == 0x200B || (r >= 0x2060 && r <= 0x2064) || (r >= 0x206A && r <= 0x206F) ||
		r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB)
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

// Lookalike reports whether an email address mixes writing systems in a
// way that lets it pass for another one: "аna@example.com" with a Cyrillic
// "а", or a Greek "ο" in a domain. It follows the "highly restrictive" level
// of Unicode's UTS #39 (section 5.2): the letters of the whole address must
// come from one script, or from Latin with Han and Japanese kana, with Han
// and Bopomofo, or with Han and Hangul, which are written together in real
// names. Digits, punctuation and combining marks belong to every script.
// Manager and admin views mark such accounts; nothing refuses them.
func Lookalike(email string) bool {
	var scripts []string // the distinct scripts of the address's letters
	for _, r := range email {
		if name := scriptOf(r); name != "" && !slices.Contains(scripts, name) {
			scripts = append(scripts, name)
		}
	}
	if len(scripts) <= 1 {
		return false
	}
	for _, allowed := range writtenTogether {
		if !slices.ContainsFunc(scripts, func(s string) bool { return !slices.Contains(allowed, s) }) {
			return false
		}
	}
	return true
}

// writtenTogether are the script combinations UTS #39 allows at its highly
// restrictive level.
var writtenTogether = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// likelyScripts are looked at first: nearly every address is written in
// them, and the look-alikes of Latin letters are in them.
var likelyScripts = []string{"Latin", "Cyrillic", "Greek", "Han", "Hiragana", "Katakana", "Hangul", "Arabic", "Hebrew", "Armenian", "Cherokee"}

// scriptOf names r's script; Common and Inherited (digits, punctuation,
// combining marks) are no script in particular: "".
func scriptOf(r rune) string {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return "Latin"
		}
		return ""
	}
	if unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
		return ""
	}
	for _, name := range likelyScripts {
		if unicode.Is(unicode.Scripts[name], r) {
			return name
		}
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return name
		}
	}
	return "" // unassigned
}
