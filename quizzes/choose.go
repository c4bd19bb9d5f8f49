package quizzes

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Seen is which variants of a scenario a learner has met: how many
// attempts each, and the variant of the last attempt (nil: none yet).
type Seen struct {
	Count VariantCounts
	Last  *string
}

// VariantCounts is how many attempts a learner played on each variant of a
// scenario, as a short list sorted by variant: a scenario has a handful of
// variants, and thousands of learners' counts are remembered between
// starts, where a map would cost a few hundred bytes each.
type VariantCounts []VariantCount

// VariantCount is the attempts played on one variant.
type VariantCount struct {
	Variant string
	N       int
}

// countsOf is the counts of a standing row's variants_seen.
func countsOf(m map[string]int) VariantCounts {
	c := make(VariantCounts, 0, len(m))
	for v, n := range m {
		c = append(c, VariantCount{v, n})
	}
	slices.SortFunc(c, func(a, b VariantCount) int { return compareVariant(a, b.Variant) })
	return c
}

// Of is the attempts played on the variant.
func (c VariantCounts) Of(variant string) int {
	if i, ok := slices.BinarySearchFunc(c, variant, compareVariant); ok {
		return c[i].N
	}
	return 0
}

// Plus is a copy of the counts with one more attempt on the variant (the
// counts themselves may be shared, so they are never changed in place).
func (c VariantCounts) Plus(variant string) VariantCounts {
	i, ok := slices.BinarySearchFunc(c, variant, compareVariant)
	if ok {
		out := slices.Clone(c)
		out[i].N++
		return out
	}
	out := make(VariantCounts, len(c)+1)
	copy(out, c[:i])
	out[i] = VariantCount{variant, 1}
	copy(out[i+1:], c[i:])
	return out
}

func compareVariant(c VariantCount, variant string) int { return strings.Compare(c.Variant, variant) }

// ChooseVariant picks the variant of a learner's next attempt: one they
// have not seen, else one of the least seen; a spaced review never repeats
// the variant of the last attempt (when there is another). Ties are broken
// by a draw seeded by the learner and the attempt's number, so the choice is
// reproducible and differs between learners. An attempt stored before
// variants ("") played what became the first variant and counts as it.
func (sc *Scenario) ChooseVariant(seen Seen, review bool, userID string, number int) *Variant {
	first := sc.Variants[0].ID
	count := func(id string) int {
		n := seen.Count.Of(id)
		if id == first && first != "" {
			n += seen.Count.Of("")
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
