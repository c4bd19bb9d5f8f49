package quizzes

import (
	"fmt"
	"slices"
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
	legacy := &Scenario{Slug: "s", Variants: []*Variant{{ID: ""}, {ID: "b"}}}
	if v := legacy.ChooseVariant(seenOf([]string{""}), false, "u", 2); v.ID != "b" {
		t.Fatalf("a first variant with no id, played once, counts as seen: chose %q, want the unseen b", v.ID)
	}
	one := &Scenario{Variants: []*Variant{{ID: ""}}}
	if v := one.ChooseVariant(seenOf([]string{"", ""}), true, "u", 3); v.ID != "" {
		t.Fatal("a single variant is always chosen, even for a review")
	}
}

// seenOf is what the standing row holds after attempts on these variants.
func seenOf(history []string) Seen {
	var s Seen
	for i := range history {
		s.Count = s.Count.Plus(history[i])
		s.Last = &history[i]
	}
	return s
}

// Counts stay sorted and exact however the variants come, and Plus never
// changes the counts it was given (a remembered standing shares them).
func TestVariantCountsPlusCopies(t *testing.T) {
	var c VariantCounts
	for _, v := range []string{"b", "a", "c", "a", "", "b", "a"} {
		before := slices.Clone(c)
		next := c.Plus(v)
		if !slices.Equal(c, before) {
			t.Fatalf("Plus(%q) changed the counts it was given: %v, was %v", v, c, before)
		}
		c = next
	}
	want := VariantCounts{{"", 1}, {"a", 3}, {"b", 2}, {"c", 1}}
	if !slices.Equal(c, want) {
		t.Fatalf("counts %v, want %v", c, want)
	}
	if got := countsOf(map[string]int{"c": 1, "": 1, "b": 2, "a": 3}); !slices.Equal(got, want) {
		t.Fatalf("countsOf %v, want %v", got, want)
	}
	if c.Of("a") != 3 || c.Of("z") != 0 || VariantCounts(nil).Of("a") != 0 {
		t.Fatalf("Of: a %d, z %d", c.Of("a"), c.Of("z"))
	}
}
