package quizzes

import (
	"strings"
	"testing"
)

// Tokens name no authoring id, differ between attempts and steps, stay the
// same for one attempt, and map back only within their own attempt.
func TestChoiceTokens(t *testing.T) {
	step := &Step{ID: "the-room", Choices: []*Choice{{ID: "pull-rank-on-the-team"}, {ID: "show-the-data"}}}
	seen := map[string]bool{}
	for _, attempt := range []struct {
		id   string
		seed int64
	}{{"a1", 1}, {"a1", 2}, {"a2", 1}} {
		for _, c := range step.Choices {
			tok := ChoiceToken(attempt.id, attempt.seed, step.ID, c.ID)
			if seen[tok] {
				t.Fatalf("token %s repeats across attempts", tok)
			}
			seen[tok] = true
			if tok != ChoiceToken(attempt.id, attempt.seed, step.ID, c.ID) {
				t.Fatal("a token changed on resume")
			}
			for _, word := range strings.Split(c.ID, "-") {
				if strings.Contains(strings.ToLower(tok), word) && len(word) > 3 {
					t.Fatalf("token %s shows %q", tok, word)
				}
			}
			if idPattern.MatchString(tok) {
				t.Fatalf("token %s could be an authoring id", tok)
			}
			if got, ok := step.ChoiceByToken(attempt.id, attempt.seed, tok); !ok || got != c.ID {
				t.Fatalf("token %s maps to %q %v", tok, got, ok)
			}
			if _, ok := step.ChoiceByToken(attempt.id, attempt.seed+1, tok); ok {
				t.Fatal("a token works in another attempt")
			}
		}
	}
	if _, ok := step.ChoiceByToken("a1", 1, "show-the-data"); ok {
		t.Fatal("an authoring id is accepted as a token")
	}
	other := ChoiceToken("a1", 1, "another-step", "show-the-data")
	if _, ok := step.ChoiceByToken("a1", 1, other); ok {
		t.Fatal("another step's token is accepted")
	}
}
