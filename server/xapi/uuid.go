package xapi

import (
	"crypto/sha1" // #nosec G505 -- RFC 9562 UUIDv5 is defined over SHA-1; it names, it does not protect
	"fmt"
)

// namespace is Baton's fixed UUIDv5 namespace for statement ids; changing it
// would make every retried statement a new one.
var namespace = [16]byte{0x6b, 0x1e, 0x4a, 0x52, 0x0e, 0x53, 0x4c, 0x8f, 0x9d, 0x2a, 0x3b, 0x71, 0x55, 0xc0, 0x1f, 0x94}

// StatementID is the statement id for name (e.g. "answer:<attempt>:<position>"):
// a UUIDv5, the same on every try.
func StatementID(name string) string {
	h := sha1.New() // #nosec G401 -- see the import
	h.Write(namespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = (u[6] & 0x0f) | 0x50 // version 5
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
