package quizzes

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// ChoiceToken is the id a choice goes by in one attempt: a keyed hash of the
// step and the choice's authoring id, keyed by the attempt's id and its
// secret seed (which never leaves the server). It says nothing of the
// choice, differs from one attempt to the next, and is the same every time
// the attempt is resumed. The "c_" prefix and base64url text can never be an
// authoring id, which are lower-case slugs.
func ChoiceToken(attemptID string, seed int64, stepID, choiceID string) string {
	key := make([]byte, 8, 8+len(attemptID))
	binary.BigEndian.PutUint64(key, uint64(seed)) // #nosec G115 -- any bit pattern is a key
	m := hmac.New(sha256.New, append(key, attemptID...))
	m.Write([]byte(stepID))
	m.Write([]byte{0})
	m.Write([]byte(choiceID))
	return "c_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

// ChoiceByToken is the authoring id of the choice of step that goes by token
// in the attempt; false when none does.
func (s *Step) ChoiceByToken(attemptID string, seed int64, token string) (string, bool) {
	for _, c := range s.Choices {
		if hmac.Equal([]byte(ChoiceToken(attemptID, seed, s.ID, c.ID)), []byte(token)) {
			return c.ID, true
		}
	}
	return "", false
}

// PathTokens is a path as the attempt's choice tokens.
func PathTokens(attemptID string, seed int64, path []PathStep) []string {
	out := make([]string, 0, len(path))
	for _, d := range path {
		out = append(out, ChoiceToken(attemptID, seed, d.Step.ID, d.Choice.ID))
	}
	return out
}
