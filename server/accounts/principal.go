package accounts

// Principal is who a request acts for, taken from a verified access token.
type Principal struct {
	UserID  string
	Role    string
	Session string
}

// IsManager reports whether the principal may do what managers do.
func (p Principal) IsManager() bool { return p.Role == RoleManager || p.Role == RoleAdmin }

// IsAdmin reports whether the principal is an admin.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// IsUUID reports whether s can be an id (8-4-4-4-12 hex digits); anything
// else is simply not found, never a database error. It runs on every request
// with an id in its path, hence no regular expression.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
