package quizzes

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
)

// ChoiceToken is the id a choice goes by in one attempt: a keyed hash of the
// step and the choice's authoring id, keyed by the attempt's id and its
// secret seed (which never leaves the server). It says nothing of the
// choice, differs from one attempt to the next, and is the same every time
// the attempt is resumed. The "c_" prefix and base64url text can never be an
// authoring id, which are lower-case slugs.
func ChoiceToken(attemptID string, seed int64, stepID, choiceID string) string {
	return NewChoiceTokens(attemptID, seed).For(stepID, choiceID)
}

// ChoiceTokens spells several choice tokens of one attempt: the keyed hash
// is set up once (its key schedule is most of one token's cost) and reset
// between tokens.
type ChoiceTokens struct{ mac hash.Hash }

// NewChoiceTokens is the token speller of one attempt (see ChoiceToken).
func NewChoiceTokens(attemptID string, seed int64) *ChoiceTokens {
	key := make([]byte, 8, 8+len(attemptID))
	binary.BigEndian.PutUint64(key, uint64(seed)) // #nosec G115 -- any bit pattern is a key
	return &ChoiceTokens{mac: hmac.New(sha256.New, append(key, attemptID...))}
}

// For is the token of the step's choice.
func (t *ChoiceTokens) For(stepID, choiceID string) string {
	t.mac.Reset()
	t.mac.Write([]byte(stepID))
	t.mac.Write([]byte{0})
	t.mac.Write([]byte(choiceID))
	var sum [sha256.Size]byte
	return "c_" + base64.RawURLEncoding.EncodeToString(t.mac.Sum(sum[:0])[:12])
}

// ChoiceByToken is the authoring id of the choice of step that goes by token
// in the attempt; false when none does.
func (s *Step) ChoiceByToken(attemptID string, seed int64, token string) (string, bool) {
	t := NewChoiceTokens(attemptID, seed)
	for _, c := range s.Choices {
		if hmac.Equal([]byte(t.For(s.ID, c.ID)), []byte(token)) {
			return c.ID, true
		}
	}
	return "", false
}

// PathTokens is a path as the attempt's choice tokens.
func PathTokens(attemptID string, seed int64, path []PathStep) []string {
	t := NewChoiceTokens(attemptID, seed)
	out := make([]string, 0, len(path))
	for _, d := range path {
		out = append(out, t.For(d.Step.ID, d.Choice.ID))
	}
	return out
}
