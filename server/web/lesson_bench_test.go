package web_test

import "testing"

// BenchmarkLessonFetch is the server-side cost of the lesson endpoint (JWT,
// one query, the response) through the real router.
func BenchmarkLessonFetch(b *testing.B) {
	s, db := newTestServer(b)
	a := signUp(b, s.Handler(), db, "")
	h := s.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := call(b, h, "GET", "/api/lessons/"+testLesson, nil, a.auth()...); r.Status != 200 {
			b.Fatal(r.Status)
		}
	}
}
