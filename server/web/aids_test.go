package web_test

import (
	"strings"
	"testing"
)

// Every module has a printable job aid and a practice task; a learner marks
// the task done with a note, and the managers of their teams see the note
// only when it is shared.
func TestJobAidsAndPracticeTasks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var list []struct {
		Module, Title, Summary string
	}
	call(t, w.h, "GET", "/api/job-aids", nil, w.other.auth()...).JSON(t, &list)
	if len(list) != len(w.s.svc.Course.Modules) {
		t.Fatalf("%d job aids for %d modules", len(list), len(w.s.svc.Course.Modules))
	}
	type practiceJSON struct {
		Task   string
		Done   bool
		Note   string
		Shared bool
		DoneAt *string `json:"done_at"`
	}
	var aid struct {
		Title, HTML string
		Practice    practiceJSON
	}
	path := "/api/job-aids/" + list[0].Module
	call(t, w.h, "GET", path, nil, w.other.auth()...).JSON(t, &aid)
	if aid.Title == "" || !strings.Contains(aid.HTML, "<") || aid.Practice.Task == "" || aid.Practice.Done {
		t.Fatalf("job aid %+v", aid)
	}
	assertProblem(t, call(t, w.h, "GET", "/api/job-aids/nope", nil, w.other.auth()...), 404)
	assertProblem(t, call(t, w.h, "PUT", path+"/practice", map[string]any{"note": strings.Repeat("x", 2001)}, w.other.auth()...), 422)
	assertProblem(t, call(t, w.h, "PUT", path+"/practice", `{"note":"a","extra":1}`, w.other.auth()...), 400)

	notes := func() []struct{ Module, Note string } {
		var report struct {
			Members []struct {
				User     struct{ ID string }
				Practice []struct{ Module, Note string }
			}
		}
		call(t, w.h, "GET", "/api/teams/"+w.team.ID+"/progress", nil, w.manager.auth()...).JSON(t, &report)
		for _, m := range report.Members {
			if m.User.ID == w.other.ID {
				return m.Practice
			}
		}
		t.Fatal("member missing from the team report")
		return nil
	}
	var done practiceJSON
	call(t, w.h, "PUT", path+"/practice", map[string]any{"note": "Mapped the pricing decision with Ana.", "shared": false}, w.other.auth()...).JSON(t, &done)
	if !done.Done || done.DoneAt == nil || done.Shared {
		t.Fatalf("marked done: %+v", done)
	}
	if n := notes(); len(n) != 0 {
		t.Fatalf("an unshared note reached the manager: %+v", n)
	}
	call(t, w.h, "PUT", path+"/practice", map[string]any{"note": "Mapped the pricing decision with Ana.", "shared": true}, w.other.auth()...).JSON(t, &done)
	if n := notes(); len(n) != 1 || n[0].Note != "Mapped the pricing decision with Ana." || n[0].Module != list[0].Module {
		t.Fatalf("the manager sees %+v", n)
	}
	// Another learner's view of the same aid shows their own task, untouched.
	call(t, w.h, "GET", path, nil, w.learner.auth()...).JSON(t, &aid)
	if aid.Practice.Done {
		t.Fatal("another learner's practice task shows as done")
	}
	if r := call(t, w.h, "DELETE", path+"/practice", nil, w.other.auth()...); r.Status != 204 {
		t.Fatalf("clear: %d", r.Status)
	}
	if n := notes(); len(n) != 0 {
		t.Fatalf("a cleared note still reaches the manager: %+v", n)
	}
}
