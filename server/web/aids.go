package web

import (
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/web/bind"
)

type aidSummary struct {
	Module      string `json:"module"`
	ModuleTitle string `json:"module_title"`
	Title       string `json:"title"`
	Summary     string `json:"summary"`
}

type practiceTaskView struct {
	Task   string     `json:"task"`
	Done   bool       `json:"done"`
	Note   string     `json:"note"`
	Shared bool       `json:"shared"`
	DoneAt *time.Time `json:"done_at"`
}

type aidView struct {
	aidSummary
	HTML     string           `json:"html"`
	Practice practiceTaskView `json:"practice"`
}

func summaryOf(a *lessons.Aid) aidSummary {
	return aidSummary{Module: a.Module.Slug, ModuleTitle: a.Module.Title, Title: a.Title, Summary: a.Summary}
}

// listAids lists the job aids, one per module in course order.
func (s *Server) listAids(c echo.Context) error {
	out := []aidSummary{}
	for _, m := range s.Course.Modules {
		if a, ok := s.Course.Aid(m.Slug); ok {
			out = append(out, summaryOf(a))
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) aid(c echo.Context) (*lessons.Aid, error) {
	a, ok := s.Course.Aid(c.Param("module"))
	if !ok {
		return nil, problem.New(problem.NotFound, "No job aid for module %q.", c.Param("module"))
	}
	return a, nil
}

// getAid is a module's job aid with the caller's practice task.
func (s *Server) getAid(c echo.Context) error {
	a, err := s.aid(c)
	if err != nil {
		return err
	}
	done, err := s.Lessons.Practice(c.Request().Context(), principalOf(c).UserID, a.Module.Slug)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, aidView{aidSummary: summaryOf(a), HTML: a.HTML, Practice: practiceTaskOf(a, done)})
}

func practiceTaskOf(a *lessons.Aid, done *lessons.PracticeDone) practiceTaskView {
	v := practiceTaskView{Task: a.Practice}
	if done != nil {
		v.Done, v.Note, v.Shared, v.DoneAt = true, done.Note, done.Shared, &done.DoneAt
	}
	return v
}

type practiceDoneRequest struct {
	Note   *string `json:"note"`
	Shared *bool   `json:"shared"`
}

// markPracticeDone marks the caller's practice task of the module done,
// with a note they may share with their managers.
func (s *Server) markPracticeDone(c echo.Context) error {
	a, err := s.aid(c)
	if err != nil {
		return err
	}
	var req practiceDoneRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	note, shared := "", false
	if req.Note != nil {
		note = *req.Note
	}
	if req.Shared != nil {
		shared = *req.Shared
	}
	if utf8.RuneCountInString(note) > lessons.MaxPracticeNote {
		return problem.Validation(problem.FieldError{Field: "note", Message: "must be at most 2000 characters"})
	}
	done, err := s.Lessons.MarkPracticeDone(c.Request().Context(), principalOf(c).UserID, a.Module.Slug, note, shared)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, practiceTaskOf(a, &done))
}

// clearPractice marks the caller's practice task not done (its note goes).
func (s *Server) clearPractice(c echo.Context) error {
	a, err := s.aid(c)
	if err != nil {
		return err
	}
	if err := s.Lessons.ClearPractice(c.Request().Context(), principalOf(c).UserID, a.Module.Slug); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
