package quizzes

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
)

// Seen is which variants of a scenario a learner has met: how many
// attempts each, and the variant of the last attempt (nil: none yet).
type Seen struct {
	Count map[string]int
	Last  *string
}

// ChooseVariant picks the variant of a learner's next attempt: one they
// have not seen, else one of the least seen; a spaced review never repeats
// the variant of the last attempt (when there is another). Ties are broken
// by a draw seeded by the learner and the attempt's number, so the choice is
// reproducible and differs between learners. An attempt stored before
// variants ("") played what became the first variant and counts as it.
func (sc *Scenario) ChooseVariant(seen Seen, review bool, userID string, number int) *Variant {
	first := sc.Variants[0].ID
	count := func(id string) int {
		n := seen.Count[id]
		if id == first {
			n += seen.Count[""] * boolInt(first != "")
		}
		return n
	}
	last := ""
	if seen.Last != nil {
		last = *seen.Last
		if last == "" {
			last = first
		}
	}
	candidates := sc.Variants
	if review && seen.Last != nil && len(sc.Variants) > 1 {
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
		switch n := count(v.ID); {
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

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
