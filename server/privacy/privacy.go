// Package privacy gives team analytics plausible deniability for every
// member. An exact count can always be differenced by a manager who knows
// every other contribution (puppet accounts, several teams, queries before
// and after someone joins), so no count here is exact: each member's answer
// to a question enters it as a randomized response. With probability
// TruthProbability the member's true answer is reported, otherwise one of
// the question's outcomes drawn uniformly. The coin and the draw are
// HMAC-SHA256 of the installation's secret, the member and the question, so
// the same member gets the same reported answer on every query, in every
// team and after any change of membership: there is nothing to average.
package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math"
)

// TruthProbability is the chance that a member's report is their real
// answer rather than a uniform draw. A report then matches the truth with
// probability p + (1-p)/k for k outcomes, and the likelihood ratio of any
// report under two different true answers is at most e^Epsilon(k).
const TruthProbability = 0.5

// Noise derives members' reported answers from the installation's secret.
type Noise struct{ key []byte }

// New keys the reports with secret.
func New(secret []byte) Noise { return Noise{key: append([]byte(nil), secret...)} }

// Question names one thing a member answered, as parts (for a scenario step:
// slug, version, variant, step): a different question gets an independent
// coin and draw.
type Question []string

// Report is the outcome reported for member, whose true outcome of the
// question's outcomes (0..outcomes-1) is truth. It depends only on the
// secret, the member, the question and truth.
func (n Noise) Report(member string, q Question, truth, outcomes int) int {
	if outcomes <= 1 {
		return truth
	}
	coin, draw := n.randomness(member, q)
	if coin {
		return truth
	}
	// The modulo's bias is below outcomes/2^64: nothing a count could show.
	return int(draw % uint64(outcomes)) // #nosec G115 -- outcomes > 1; the result is below it
}

// ReportBool is Report for a yes/no answer (two outcomes).
func (n Noise) ReportBool(member string, q Question, truth bool) bool {
	t := 0
	if truth {
		t = 1
	}
	return n.Report(member, q, t, 2) == 1
}

// randomness is the member's coin (true: report the truth) and draw for q.
func (n Noise) randomness(member string, q Question) (bool, uint64) {
	m := hmac.New(sha256.New, n.key)
	field := func(s string) {
		var l [8]byte
		binary.BigEndian.PutUint64(l[:], uint64(len(s))) // #nosec G115 -- a length is never negative; length-prefixed so no two questions share an input
		m.Write(l[:])
		m.Write([]byte(s))
	}
	field("baton analytics report v1")
	field(member)
	for _, part := range q {
		field(part)
	}
	sum := m.Sum(nil)
	coin := binary.BigEndian.Uint64(sum[0:8]) >> 11 // 53 uniform bits
	return float64(coin) < TruthProbability*(1<<53), binary.BigEndian.Uint64(sum[8:16])
}

// Epsilon is ln of the largest likelihood ratio a report gives between two
// true answers among k outcomes: ln((p + (1-p)/k) / ((1-p)/k)).
func Epsilon(k int) float64 {
	p := TruthProbability
	return math.Log(1 + p*float64(k)/(1-p))
}

// EstimateMin is the fewest members whose reports are turned into a share
// estimate: below it the estimate's error (about 100/sqrt(n) points at
// p = 0.5) would swamp it.
const EstimateMin = 10

// Estimate is the share (percent, 0..100, rounded half up) of members whose
// true answer is an outcome that reported of members reported, among k
// outcomes: reported/members = p*share + (1-p)/k, solved for share and
// clamped. It is only post-processing of the noisy count, so it reveals
// nothing the count does not; it is nil below EstimateMin members.
func Estimate(reported, members, k int) *int {
	if members < EstimateMin || k < 1 {
		return nil
	}
	p := TruthProbability
	share := (float64(reported)/float64(members) - (1-p)/float64(k)) / p
	pct := int(math.Floor(100*share + 0.5))
	pct = min(max(pct, 0), 100)
	return &pct
}
