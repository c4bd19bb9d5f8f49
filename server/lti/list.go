package lti

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// List is a list of strings kept as a JSON array (jsonb) in PostgreSQL.
type List []string

// Value stores the list as JSON ([] for none).
func (l List) Value() (driver.Value, error) {
	if l == nil {
		l = List{}
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan reads a JSON array.
func (l *List) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = List{}
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("lti.List: cannot scan %T", src)
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// MarshalJSON writes [] for an empty list, never null.
func (l List) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(l))
}
