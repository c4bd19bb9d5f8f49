package privacy

import (
	"fmt"
	"math"
	"testing"
)

var testNoise = New([]byte("a fixed secret for the unit tests"))

// A report is a function of the secret, the member and the question only:
// asking again gives the same answer, so repeating a query averages nothing.
func TestReportIsFixedPerMemberAndQuestion(t *testing.T) {
	q := Question{"escalation", "v1", "sales", "start"}
	changed := 0
	for i := range 200 {
		member := fmt.Sprint("member-", i)
		first := testNoise.Report(member, q, 2, 4)
		for range 5 {
			if again := testNoise.Report(member, q, 2, 4); again != first {
				t.Fatalf("%s reported %d, then %d", member, first, again)
			}
		}
		if New([]byte("another installation's secret")).Report(member, q, 2, 4) != first {
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("the secret does not change the reports")
	}
}

// About p + (1-p)/k of members report their truth, and a member who does not
// reports the same draw whatever the truth is: the report alone cannot tell
// which answer was real.
func TestReportRates(t *testing.T) {
	const members = 20000
	for _, k := range []int{2, 3, 5} {
		q := Question{"q", fmt.Sprint(k)}
		truthful := 0
		drawn := make([]int, k)
		for i := range members {
			m := fmt.Sprint("m", i)
			r := testNoise.Report(m, q, 0, k)
			if r == 0 {
				truthful++
			}
			coin, _ := testNoise.randomness(m, q)
			if !coin {
				drawn[r]++
				for truth := range k {
					if testNoise.Report(m, q, truth, k) != r {
						t.Fatalf("k=%d: %s's draw moved with the truth", k, m)
					}
				}
			}
		}
		p := TruthProbability + (1-TruthProbability)/float64(k)
		// Six standard deviations of a binomial: a fixed secret makes this
		// deterministic, and any secret passes but once in ~10^9.
		if sd := math.Sqrt(members * p * (1 - p)); math.Abs(float64(truthful)-members*p) > 6*sd {
			t.Fatalf("k=%d: %d of %d truthful, want about %.0f", k, truthful, members, members*p)
		}
		untruthful := members * (1 - TruthProbability)
		for o, n := range drawn {
			want := untruthful / float64(k)
			if math.Abs(float64(n)-want) > 6*math.Sqrt(want) {
				t.Fatalf("k=%d: outcome %d drawn %d times, want about %.0f", k, o, n, want)
			}
		}
	}
}

func TestReportBool(t *testing.T) {
	yes := 0
	for i := range 10000 {
		if testNoise.ReportBool(fmt.Sprint("m", i), Question{"lesson", "check"}, true) {
			yes++
		}
	}
	if yes < 7200 || yes > 7800 { // 0.75 expected, sd 43
		t.Fatalf("%d of 10000 true answers reported true", yes)
	}
}

// Question parts are length-prefixed, so ("ab", "c") and ("a", "bc") are
// different questions.
func TestQuestionsDoNotCollide(t *testing.T) {
	_, a := testNoise.randomness("m", Question{"ab", "c"})
	_, b := testNoise.randomness("m", Question{"a", "bc"})
	_, c := testNoise.randomness("mab", Question{"c"})
	if a == b || a == c {
		t.Fatal("two questions share their randomness")
	}
}

func TestEpsilon(t *testing.T) {
	for k, want := range map[int]float64{2: math.Log(3), 3: math.Log(4), 4: math.Log(5)} {
		if got := Epsilon(k); math.Abs(got-want) > 1e-12 {
			t.Fatalf("Epsilon(%d) = %v, want %v", k, got, want)
		}
	}
}

func TestEstimate(t *testing.T) {
	for _, c := range []struct {
		reported, members, k int
		want                 *int
	}{
		{reported: 5, members: 9, k: 2, want: nil},      // too few members
		{reported: 5, members: 10, k: 2, want: ptr(50)}, // (0.5 - 0.25) / 0.5
		{reported: 20, members: 20, k: 4, want: ptr(100)},
		{reported: 0, members: 20, k: 4, want: ptr(0)}, // clamped from -25
		{reported: 3, members: 24, k: 4, want: ptr(0)}, // 0.125 is what noise alone gives
		{reported: 15, members: 24, k: 4, want: ptr(100)},
		{reported: 9, members: 24, k: 4, want: ptr(50)},
	} {
		got := Estimate(c.reported, c.members, c.k)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Fatalf("Estimate(%d, %d, %d) = %v, want %v", c.reported, c.members, c.k, deref(got), deref(c.want))
		}
	}
}

func ptr(i int) *int { return &i }

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
