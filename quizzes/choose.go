package quizzes

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
)

// ChooseVariant picks the variant of a learner's next attempt from the
// variants of their earlier attempts (oldest first): one they have not
// seen, else one of the least seen; a spaced review never repeats the
// variant of the last attempt (when there is another). Ties are broken by
// a draw seeded by the learner and the attempt's number, so the choice is
// reproducible and differs between learners.
func (sc *Scenario) ChooseVariant(history []string, review bool, userID string, number int) *Variant {
	// An attempt stored before variants ("") played what became the first
	// variant; team analytics count it there too.
	history = slices.Clone(history)
	for i, id := range history {
		if id == "" && len(sc.Variants) > 0 {
			history[i] = sc.Variants[0].ID
		}
	}
	seen := map[string]int{}
	for _, id := range history {
		seen[id]++
	}
	candidates := sc.Variants
	if review && len(history) > 0 && len(sc.Variants) > 1 {
		last := history[len(history)-1]
		candidates = nil
		for _, v := range sc.Variants {
			if v.ID != last {
				candidates = append(candidates, v)
			}
		}
	}
	least := -1
	var ties []*Variant
	for _, v := range candidates {
		switch n := seen[v.ID]; {
		case least < 0 || n < least:
			least, ties = n, []*Variant{v}
		case n == least:
			ties = append(ties, v)
		}
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(userID + "\x00" + sc.Slug + "\x00" + strconv.Itoa(number)))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0)) // #nosec G404 -- a reproducible draw, not a secret
	return ties[rng.IntN(len(ties))]
}
