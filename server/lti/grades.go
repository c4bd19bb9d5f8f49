package lti

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// A resource link that opens a scenario, launched with the AGS claim, is a
// grade link: when the learner finishes an attempt at the scenario, the
// attempt's own statement queues a score (the trigger of migration 00026),
// and SendScores posts it to the platform.

// linkGrade records where the learner's grades for the launched scenario go.
func (s *Service) linkGrade(ctx context.Context, pl Platform, userID, sub string, c launchClaims) error {
	slug := s.scenarioOf(c)
	if slug == "" || c.AGS == nil || !slices.Contains(c.AGS.Scope, scopeScore) || (c.AGS.LineItem == "" && c.AGS.LineItems == "") {
		return nil
	}
	if p := serviceURLProblem(c.AGS.LineItem) + serviceURLProblem(c.AGS.LineItems); p != "" {
		s.log.Warn("LTI launch names a grade service URL Baton will not call; no grades for it", "platform", pl.ID, "problem", p)
		return nil
	}
	return s.db.WithContext(ctx).Exec(`INSERT INTO lti_grade_links (platform_id, user_id, subject, quiz_slug, resource_link_id, lineitem_url, lineitems_url)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform_id, user_id, quiz_slug, resource_link_id) DO UPDATE SET subject = EXCLUDED.subject,
		  lineitem_url = coalesce(EXCLUDED.lineitem_url, lti_grade_links.lineitem_url), lineitems_url = EXCLUDED.lineitems_url, updated_at = now()`,
		pl.ID, userID, sub, slug, c.ResourceLink.ID, nullString(c.AGS.LineItem), nullString(c.AGS.LineItems)).Error
}

func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// Score is what Baton sends a platform's line item (AGS 2.0 §3.4).
type Score struct {
	UserID           string  `json:"userId"`
	ScoreGiven       float64 `json:"scoreGiven"`
	ScoreMaximum     float64 `json:"scoreMaximum"`
	ActivityProgress string  `json:"activityProgress"`
	GradingProgress  string  `json:"gradingProgress"`
	Timestamp        string  `json:"timestamp"`
}

type pendingScore struct {
	ID, PlatformID, Subject, QuizSlug, ResourceLinkID, GradeLinkID string
	LineitemURL, LineitemsURL                                      *string
	Percent                                                        int
	FinishedAt                                                     time.Time
	Tries                                                          int
}

// scoreBatch is how many scores one run sends at most.
const scoreBatch = 20

// SendScores sends the scores that are due, each once: a failed one waits
// (doubling from 10 s to an hour) and is tried again. It returns how many
// went out, and an error when any failed (River then runs the job again,
// with its own backoff).
func (s *Service) SendScores(ctx context.Context) (int, error) {
	var due []pendingScore
	// Claimed with a lease (next_at two minutes on), so two instances never
	// send one score at once and a crash mid-send retries it later.
	if err := s.db.WithContext(ctx).Raw(`WITH claimed AS (
		  UPDATE lti_scores SET next_at = now() + interval '2 minutes', tries = tries + 1
		  WHERE id IN (SELECT id FROM lti_scores WHERE sent_at IS NULL AND next_at <= now() ORDER BY next_at LIMIT ? FOR UPDATE SKIP LOCKED)
		  RETURNING id, grade_link_id, percent, finished_at, tries)
		SELECT c.id, c.grade_link_id, c.percent, c.finished_at, c.tries, g.platform_id, g.subject, g.quiz_slug, g.resource_link_id,
		  g.lineitem_url, g.lineitems_url
		FROM claimed c JOIN lti_grade_links g ON g.id = c.grade_link_id`, scoreBatch).Scan(&due).Error; err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, d := range due {
		if err := s.sendScore(ctx, d); err != nil {
			errs = append(errs, err)
			backoff := min(10*time.Second<<min(d.Tries-1, 10), time.Hour)
			if uerr := s.db.WithContext(ctx).Exec(`UPDATE lti_scores SET last_error = ?, next_at = now() + make_interval(secs => ?) WHERE id = ?`,
				truncate(err.Error(), 1000), backoff.Seconds(), d.ID).Error; uerr != nil {
				errs = append(errs, uerr)
			}
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

func (s *Service) sendScore(ctx context.Context, d pendingScore) error {
	p, found, err := s.platform(ctx, `id = ?`, d.PlatformID)
	if err != nil {
		return err
	} else if !found {
		return nil // the grade link went with its platform (cascade)
	}
	ctx, cancel := ctxTimeout(ctx)
	defer cancel()
	lineItem := ""
	if d.LineitemURL != nil {
		lineItem = *d.LineitemURL
	} else if d.LineitemsURL != nil {
		if lineItem, err = s.lineItemFor(ctx, p, *d.LineitemsURL, d.QuizSlug, d.ResourceLinkID); err != nil {
			return err
		}
		if err := s.db.WithContext(ctx).Exec(`UPDATE lti_grade_links SET lineitem_url = ? WHERE id = ?`, lineItem, d.GradeLinkID).Error; err != nil {
			return err
		}
	}
	if lineItem == "" {
		return errors.New("no line item for the score")
	}
	score := Score{UserID: d.Subject, ScoreGiven: float64(d.Percent), ScoreMaximum: 100,
		ActivityProgress: "Completed", GradingProgress: "FullyGraded", Timestamp: d.FinishedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	scores, err := withPath(lineItem, "scores")
	if err != nil {
		return err
	}
	if err := s.call(ctx, p, http.MethodPost, scores, "application/vnd.ims.lis.v1.score+json", "", score, nil, scopeScore); err != nil {
		return err
	}
	body, _ := json.Marshal(score)
	return s.db.WithContext(ctx).Exec(`UPDATE lti_scores SET sent_at = now(), last_error = NULL, lineitem_url = ?, sent = ? WHERE id = ?`,
		lineItem, string(body), d.ID).Error
}

type lineItem struct {
	ID             string  `json:"id,omitempty"`
	ScoreMaximum   float64 `json:"scoreMaximum"`
	Label          string  `json:"label"`
	ResourceID     string  `json:"resourceId,omitempty"`
	ResourceLinkID string  `json:"resourceLinkId,omitempty"`
}

// lineItemFor finds the platform's line item for the scenario (resourceId
// = its slug) in the container, or creates it.
func (s *Service) lineItemFor(ctx context.Context, p Platform, container, slug, resourceLinkID string) (string, error) {
	u, err := url.Parse(container)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("resource_id", slug)
	u.RawQuery = q.Encode()
	var items []lineItem
	if err := s.call(ctx, p, http.MethodGet, u.String(), "", "application/vnd.ims.lis.v2.lineitemcontainer+json", nil, &items, scopeLineItem); err != nil {
		return "", err
	}
	for _, it := range items {
		if it.ResourceID == slug && it.ID != "" {
			return it.ID, nil
		}
	}
	label := slug
	if sc, found := s.catalog.Get(slug); found {
		label = sc.Title
	}
	var created lineItem
	if err := s.call(ctx, p, http.MethodPost, container, "application/vnd.ims.lis.v2.lineitem+json", "application/vnd.ims.lis.v2.lineitem+json",
		lineItem{ScoreMaximum: 100, Label: label, ResourceID: slug, ResourceLinkID: resourceLinkID}, &created, scopeLineItem); err != nil {
		return "", err
	}
	if created.ID == "" {
		return "", fmt.Errorf("the platform created a line item without an id")
	}
	return created.ID, nil
}

// SentScore is a score as it went out, for the record (and tests).
type SentScore struct {
	AttemptID   string          `json:"attempt_id"`
	LineitemURL string          `json:"lineitem_url"`
	Sent        json.RawMessage `json:"sent"`
	SentAt      time.Time       `json:"sent_at"`
}

// SentScores lists what was sent for a user's attempts, newest first.
func (s *Service) SentScores(ctx context.Context, userID string) ([]SentScore, error) {
	out := []SentScore{}
	err := s.db.WithContext(ctx).Raw(`SELECT sc.attempt_id, sc.lineitem_url, sc.sent, sc.sent_at FROM lti_scores sc
		JOIN lti_grade_links g ON g.id = sc.grade_link_id WHERE g.user_id = ? AND sc.sent_at IS NOT NULL ORDER BY sc.sent_at DESC`, userID).Scan(&out).Error
	return out, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
