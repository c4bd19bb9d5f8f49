package quizzes

import (
	"fmt"
	"testing"
)

func TestChooseVariant(t *testing.T) {
	sc := &Scenario{Slug: "s", Variants: []*Variant{{ID: "a"}, {ID: "b"}, {ID: "c"}}}
	cases := []struct {
		name    string
		history []string
		review  bool
		allowed []string
	}{
		{"first attempt: any", nil, false, []string{"a", "b", "c"}},
		{"unseen first", []string{"a"}, false, []string{"b", "c"}},
		{"the last unseen", []string{"a", "c"}, false, []string{"b"}},
		{"then the least seen", []string{"a", "b", "c", "a", "b"}, false, []string{"c"}},
		{"ties among the least seen", []string{"a", "b", "c", "a"}, false, []string{"b", "c"}},
		{"a review never repeats the last variant", []string{"a", "b", "b", "c", "c"}, true, []string{"a"}},
		{"a review with the last as least seen", []string{"b", "c", "a"}, true, []string{"b", "c"}},
		{"variants no longer in the scenario are ignored", []string{"gone", "gone"}, false, []string{"a", "b", "c"}},
		{"an attempt from before variants counts as the first", []string{""}, false, []string{"b", "c"}},
		{"and a review does not repeat it", []string{"b", "c", ""}, true, []string{"b", "c"}},
	}
	for _, tc := range cases {
		seen := map[string]bool{}
		for user := range 40 {
			v := sc.ChooseVariant(seenOf(tc.history), tc.review, fmt.Sprint("user-", user), len(tc.history)+1)
			seen[v.ID] = true
			if again := sc.ChooseVariant(seenOf(tc.history), tc.review, fmt.Sprint("user-", user), len(tc.history)+1); again != v {
				t.Fatalf("%s: not reproducible", tc.name)
			}
		}
		if len(seen) != len(tc.allowed) {
			t.Errorf("%s: chose %v, want every one of %v", tc.name, seen, tc.allowed)
		}
		for _, id := range tc.allowed {
			if !seen[id] {
				t.Errorf("%s: never chose %s (chose %v)", tc.name, id, seen)
			}
		}
	}
	one := &Scenario{Variants: []*Variant{{ID: ""}}}
	if v := one.ChooseVariant(seenOf([]string{"", ""}), true, "u", 3); v.ID != "" {
		t.Fatal("a single variant is always chosen, even for a review")
	}
}

// seenOf is what the standing row holds after attempts on these variants.
func seenOf(history []string) Seen {
	s := Seen{Count: map[string]int{}}
	for i := range history {
		s.Count[history[i]]++
		s.Last = &history[i]
	}
	return s
}
