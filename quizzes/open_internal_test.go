package quizzes

import "testing"

// The remembered states stay within their cap, and what is forgotten is
// what nobody touched for longest: an attempt being played survives any
// number of abandoned ones (an arbitrary eviction once dropped the attempt
// the next answer needed, which then cost it a read).
func TestRememberedForgetsWhatNobodyTouched(t *testing.T) {
	r := newRemembered[int, int](100)
	const playing = -1
	for i := range 10000 {
		r.put(i, i) // started and abandoned
		if i%10 == 0 {
			r.put(playing, i) // answered again
		}
		if n := len(r.young) + len(r.old); n > 100 {
			t.Fatalf("%d entries remembered, cap 100", n)
		}
		if _, ok := r.get(playing); !ok {
			t.Fatalf("the attempt being played was forgotten after %d abandoned ones", i)
		}
	}
	if _, ok := r.get(0); ok {
		t.Error("the first abandoned attempt is still remembered")
	}
	if v, ok := r.take(9999); !ok || v != 9999 {
		t.Errorf("the latest entry: %d, %v", v, ok)
	}
	if _, ok := r.get(9999); ok {
		t.Error("a taken entry is still remembered")
	}
}
