package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/web/bind"
)

type lessonSummary struct {
	Slug      string `json:"slug"`
	Title     string `json:"title"`
	Minutes   int    `json:"minutes"`
	Objective string `json:"objective"`
	Percent   int    `json:"percent"`
	Completed bool   `json:"completed"`
}

type quizSummary struct {
	Slug         string     `json:"slug"`
	Title        string     `json:"title"`
	Passed       bool       `json:"passed"`
	BestPercent  *int       `json:"best_percent"`
	AttemptsUsed int        `json:"attempts_used"`
	NextReviewAt *time.Time `json:"next_review_at"`
}

type moduleView struct {
	Slug      string          `json:"slug"`
	Title     string          `json:"title"`
	Summary   string          `json:"summary"`
	Position  int             `json:"position"`
	Percent   int             `json:"percent"`
	Completed bool            `json:"completed"`
	Lessons   []lessonSummary `json:"lessons"`
	Quizzes   []quizSummary   `json:"quizzes"`
}

// modules lists the course with the caller's progress: two queries however
// large the course or the learner's history.
func (s *Server) modules(c echo.Context) error {
	uid := principalOf(c).UserID
	all, err := s.Progress.Standing(c.Request().Context(), []string{uid})
	if err != nil {
		return err
	}
	st := all[uid]
	lp, qs := st.Lessons, st.Scenarios
	out := make([]moduleView, 0, len(s.Course.Modules))
	for _, m := range s.Course.Modules {
		scs := s.Catalog.ForModule(m.Slug)
		mp := s.Progress.Module(st, m)
		v := moduleView{Slug: m.Slug, Title: m.Title, Summary: m.Summary, Position: m.Position,
			Percent: mp.Percent, Completed: mp.Completed, Lessons: []lessonSummary{}, Quizzes: []quizSummary{}}
		for _, l := range m.Lessons {
			p := lp[l.Slug]
			v.Lessons = append(v.Lessons, lessonSummary{Slug: l.Slug, Title: l.Title, Minutes: l.Minutes, Objective: l.Objective,
				Percent: p.Percent, Completed: p.Completed})
		}
		for _, sc := range scs {
			q := quizSummary{Slug: sc.Slug, Title: sc.Title}
			if st := qs[sc.Slug]; st != nil {
				q.Passed, q.BestPercent, q.AttemptsUsed, q.NextReviewAt = st.Passed, st.BestPercent, st.AttemptsUsed, st.NextReview
			}
			v.Quizzes = append(v.Quizzes, q)
		}
		out = append(out, v)
	}
	return c.JSON(http.StatusOK, out)
}

type optionView struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

type checkView struct {
	ID       string               `json:"id"`
	Question string               `json:"question"`
	Options  []optionView         `json:"options"`
	Answer   *checkAnswerResponse `json:"answer"`
}

type reflectionView struct {
	ID        string     `json:"id"`
	Prompt    string     `json:"prompt"`
	Body      string     `json:"body"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// lessonStatic is the part of a lesson view that is the same for everyone.
type lessonStatic struct {
	Slug        string  `json:"slug"`
	Title       string  `json:"title"`
	Module      string  `json:"module"`
	ModuleTitle string  `json:"module_title"`
	Minutes     int     `json:"minutes"`
	Objective   string  `json:"objective"`
	HTML        string  `json:"html"`
	Prev        *string `json:"prev"`
	Next        *string `json:"next"`
}

// lessonMine is the caller's part of a lesson view.
type lessonMine struct {
	Progress    lessons.Progress `json:"progress"`
	Checks      []checkView      `json:"checks"`
	Reflections []reflectionView `json:"reflections"`
}

// staticLessonJSON holds each lesson's shared fields already encoded as an
// unterminated JSON object: the rendered HTML is most of a lesson's bytes,
// and encoding it once instead of per request is most of the lesson
// endpoint's CPU.
var staticLessonJSON sync.Map // slug → []byte

func (s *Server) staticLesson(l *lessons.Lesson) ([]byte, error) {
	if b, ok := staticLessonJSON.Load(l.Slug); ok {
		return b.([]byte), nil
	}
	prev, next := s.Course.Neighbours(l.Slug)
	b, err := json.Marshal(lessonStatic{Slug: l.Slug, Title: l.Title, Module: l.Module.Slug, ModuleTitle: l.Module.Title,
		Minutes: l.Minutes, Objective: l.Objective, HTML: l.HTML, Prev: optional(prev), Next: optional(next)})
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1] // drop the closing brace: the caller's fields follow
	staticLessonJSON.Store(l.Slug, b)
	return b, nil
}

func (s *Server) lesson(c echo.Context) (*lessons.Lesson, error) {
	l, ok := s.Course.Lesson(c.Param("slug"))
	if !ok {
		return nil, problem.New(problem.NotFound, "No lesson %q.", c.Param("slug"))
	}
	return l, nil
}

// getLesson answers with the rendered lesson and everything the caller did
// on it, in one query.
func (s *Server) getLesson(c echo.Context) error {
	l, err := s.lesson(c)
	if err != nil {
		return err
	}
	uid := principalOf(c).UserID
	st, err := s.Lessons.State(c.Request().Context(), uid, l.Slug)
	if err != nil {
		return err
	}
	static, err := s.staticLesson(l)
	if err != nil {
		return err
	}
	mine, err := encodeMine(l, st, orderOf(uid))
	if err != nil {
		return err
	}
	buf := lessonBodies.Get().(*[]byte)
	body := append(append(append((*buf)[:0], static...), ','), mine[1:]...)
	// A known length spares the lesson (tens of KB) chunked encoding.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	err = c.JSONBlob(http.StatusOK, body)
	// The body is on its way (Write copies or sends it before returning):
	// the buffer is free for the next view.
	*buf = body[:0]
	lessonBodies.Put(buf)
	return err
}

// lessonBodies are the buffers lesson views are assembled in. A view is
// tens of KB, and lessons are the most read thing there is: allocated per
// view, they were the largest allocation any request made (argon2id's
// aside), about a fifth of the rest in a full bench run.
var lessonBodies = sync.Pool{New: func() any { return new([]byte) }}

// mineView is everything the learner did on the lesson, shaped for the API,
// with the checks' options in the learner's order.
func mineView(l *lessons.Lesson, st lessons.LessonState, order int) lessonMine {
	v := lessonMine{Progress: st.Progress, Checks: []checkView{}, Reflections: []reflectionView{}}
	for _, q := range l.Checks {
		cv := checkView{ID: q.ID, Question: q.Question, Options: []optionView{}}
		for _, o := range shuffledOptions(order, l.Slug, q) {
			cv.Options = append(cv.Options, optionView{ID: o.ID, Text: o.Text})
		}
		if a, ok := st.Checks[q.ID]; ok {
			cv.Answer = checkResponse(q, a)
		}
		v.Checks = append(v.Checks, cv)
	}
	for _, r := range l.Reflections {
		rv := reflectionView{ID: r.ID, Prompt: r.Prompt}
		if saved, ok := st.Reflections[r.ID]; ok {
			rv.Body, rv.UpdatedAt = saved.Body, &saved.UpdatedAt
		}
		v.Reflections = append(v.Reflections, rv)
	}
	return v
}

// untouchedJSON holds, per lesson and option order, the "checks" and
// "reflections" fields as they are for a learner who has answered and
// written nothing there yet (most views), encoded once: the tail of the
// object after "progress".
var untouchedJSON sync.Map // slug#order → []byte

// encodeMine encodes mineView(l, st, order) as a JSON object; with no
// answers or reflections only the progress is encoded per request.
func encodeMine(l *lessons.Lesson, st lessons.LessonState, order int) ([]byte, error) {
	if len(st.Checks) > 0 || len(st.Reflections) > 0 {
		return json.Marshal(mineView(l, st, order))
	}
	key := l.Slug + "#" + strconv.Itoa(order)
	tail, ok := untouchedJSON.Load(key)
	if !ok {
		all, err := json.Marshal(mineView(l, lessons.LessonState{}, order))
		if err != nil {
			return nil, err
		}
		_, rest, _ := bytes.Cut(all, []byte(`},"checks":`)) // progress is the first field, an object
		tail = append([]byte(`,"checks":`), rest...)
		untouchedJSON.Store(key, tail)
	}
	progress, err := json.Marshal(st.Progress)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(`{"progress":`)+len(progress)+len(tail.([]byte)))
	return append(append(append(out, `{"progress":`...), progress...), tail.([]byte)...), nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type progressRequest struct {
	Percent *float64 `json:"percent"`
}

// saveProgress records reading progress; it never goes backwards.
func (s *Server) saveProgress(c echo.Context) error {
	l, err := s.lesson(c)
	if err != nil {
		return err
	}
	var req progressRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if req.Percent == nil || *req.Percent < 0 || *req.Percent > 100 || *req.Percent != math.Trunc(*req.Percent) {
		return problem.Validation(problem.FieldError{Field: "percent", Message: "must be a whole number from 0 to 100"})
	}
	p, err := s.Lessons.SaveProgress(c.Request().Context(), principalOf(c).UserID, l.Slug, int(*req.Percent))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

type checkAnswerRequest struct {
	Option string `json:"option"`
}

type checkAnswerResponse struct {
	CheckID      string `json:"check_id"`
	Option       string `json:"option"`
	Correct      bool   `json:"correct"`
	Feedback     string `json:"feedback"`
	Answers      int    `json:"answers"`
	FirstCorrect bool   `json:"first_correct"`
	// Explanations is, once the learner has answered (their first answer
	// is what counts), why each option is right or wrong.
	Explanations []explanation `json:"explanations"`
}

type explanation struct {
	Option   string `json:"option"`
	Correct  bool   `json:"correct"`
	Feedback string `json:"feedback"`
}

func checkResponse(q lessons.QuickCheck, a lessons.CheckAnswer) *checkAnswerResponse {
	r := &checkAnswerResponse{CheckID: q.ID, Option: a.Option, Correct: a.Correct, Answers: a.Answers, FirstCorrect: a.FirstOK,
		Explanations: make([]explanation, 0, len(q.Options))}
	for _, o := range q.Options {
		if o.ID == a.Option {
			r.Feedback = o.Feedback
		}
		r.Explanations = append(r.Explanations, explanation{Option: o.ID, Correct: o.Correct, Feedback: o.Feedback})
	}
	return r
}

// optionOrders is how many orders of a check's options learners are spread
// over: enough that the right answer is not where the author wrote it nor
// in the same place for everyone, few enough that a lesson's untouched
// checks stay encoded once per order (see encodeMine).
const optionOrders = 8

// orderOf is the option order a learner sees, the same on every visit.
func orderOf(userID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(userID))
	return int(h.Sum32() % optionOrders)
}

// shuffledOptions is a check's options in order number order.
func shuffledOptions(order int, lesson string, q lessons.QuickCheck) []lessons.Option {
	h := fnv.New64a()
	_, _ = h.Write([]byte(lesson + "\x00" + q.ID))
	out := append([]lessons.Option(nil), q.Options...)
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(order))) // #nosec G404 G115 -- display order, reproducible by design; order is 0 to optionOrders-1
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// answerCheck records a quick-check answer and returns the feedback on the
// option chosen; the server alone knows which option is right.
func (s *Server) answerCheck(c echo.Context) error {
	l, err := s.lesson(c)
	if err != nil {
		return err
	}
	q, ok := l.Check(c.Param("check"))
	if !ok {
		return problem.New(problem.NotFound, "No quick check %q in this lesson.", c.Param("check"))
	}
	var req checkAnswerRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	var chosen *lessons.Option
	for i := range q.Options {
		if q.Options[i].ID == req.Option {
			chosen = &q.Options[i]
		}
	}
	if chosen == nil {
		return problem.Validation(problem.FieldError{Field: "option", Message: fmt.Sprintf("must be one of the check's option ids (a to %c)", 'a'+len(q.Options)-1)})
	}
	a, err := s.Lessons.AnswerCheck(c.Request().Context(), principalOf(c).UserID, l.Slug, q.ID, chosen.ID, chosen.Correct)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, checkResponse(q, a))
}

type reflectionRequest struct {
	Body *string `json:"body"`
}

// saveReflection keeps the learner's private answer to a prompt.
func (s *Server) saveReflection(c echo.Context) error {
	l, err := s.lesson(c)
	if err != nil {
		return err
	}
	r, ok := l.Reflection(c.Param("prompt"))
	if !ok {
		return problem.New(problem.NotFound, "No reflection prompt %q in this lesson.", c.Param("prompt"))
	}
	var req reflectionRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if req.Body == nil || len([]rune(*req.Body)) > lessons.MaxReflection {
		return problem.Validation(problem.FieldError{Field: "body", Message: fmt.Sprintf("is required, at most %d characters", lessons.MaxReflection)})
	}
	saved, err := s.Lessons.SaveReflection(c.Request().Context(), principalOf(c).UserID, l.Slug, r.ID, *req.Body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, reflectionView{ID: r.ID, Prompt: r.Prompt, Body: saved.Body, UpdatedAt: &saved.UpdatedAt})
}
