package notify

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/teams"
)

// KindDigest is a manager's weekly digest.
const KindDigest = "manager_digest"

// ReviewSlip is how long a member's review may be due before the digest
// counts it as slipping.
const ReviewSlip = 7 * 24 * time.Hour

// digestKeep is how long a week's claim is kept; older ones are deleted.
const digestKeep = 8 * 7 * 24 * time.Hour

// DigestSchedule is when in the week, in UTC, managers' digests go out.
type DigestSchedule struct {
	Weekday      time.Weekday
	Hour, Minute int
}

// DefaultDigestAt is the schedule when none is configured.
const DefaultDigestAt = "Mon 08:00"

// ParseDigestAt reads a schedule written "Mon 08:00" (a weekday, in full
// or its first three letters, and a 24-hour time, in UTC).
func ParseDigestAt(s string) (DigestSchedule, error) {
	bad := fmt.Errorf("%q is not a weekday and a UTC time such as %q", s, DefaultDigestAt)
	day, clock, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return DigestSchedule{}, bad
	}
	var sch DigestSchedule
	found := false
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := d.String()
		if strings.EqualFold(day, name) || strings.EqualFold(day, name[:3]) {
			sch.Weekday, found = d, true
		}
	}
	hh, mm, ok := strings.Cut(strings.TrimSpace(clock), ":")
	h, herr := strconv.Atoi(hh)
	m, merr := strconv.Atoi(mm)
	if !found || !ok || herr != nil || merr != nil || len(mm) != 2 || h < 0 || h > 23 || m < 0 || m > 59 {
		return DigestSchedule{}, bad
	}
	sch.Hour, sch.Minute = h, m
	return sch, nil
}

// String writes the schedule as ParseDigestAt reads it.
func (sch DigestSchedule) String() string {
	return fmt.Sprintf("%s %02d:%02d", sch.Weekday.String()[:3], sch.Hour, sch.Minute)
}

// sendAt is the schedule's moment in the ISO week (Monday to Sunday, UTC)
// that holds t.
func (sch DigestSchedule) sendAt(t time.Time) time.Time {
	t = t.UTC()
	monday := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -isoDay(t.Weekday()))
	return monday.AddDate(0, 0, isoDay(sch.Weekday)).Add(time.Duration(sch.Hour)*time.Hour + time.Duration(sch.Minute)*time.Minute)
}

// isoDay numbers weekdays from Monday, 0, to Sunday, 6.
func isoDay(d time.Weekday) int { return (int(d) + 6) % 7 }

// Next is the first moment after t at which a week's digest is due.
func (sch DigestSchedule) Next(t time.Time) time.Time {
	if at := sch.sendAt(t); at.After(t) {
		return at
	}
	return sch.sendAt(t.AddDate(0, 0, 7))
}

// digestWeek is the week a digest is for: its ISO week key, and its
// scheduled moment.
type digestWeek struct {
	Key string
	At  time.Time
}

// week answers the week whose digest is due at now: the ISO week of now,
// once its scheduled moment has passed (a digest missed at its moment, the
// servers being down, goes out on the next run that week).
func (sch DigestSchedule) week(now time.Time) (digestWeek, bool) {
	at := sch.sendAt(now)
	if now.Before(at) {
		return digestWeek{}, false
	}
	y, w := at.ISOWeek()
	return digestWeek{Key: fmt.Sprintf("%04d-W%02d", y, w), At: at}, true
}

// Digests writes each manager's weekly digest once the week's scheduled
// moment has passed: for each team they manage, who finished an assigned
// module since the last digest (at most the seven days before the moment),
// who is overdue and for how long, and whose reviews are more than
// ReviewSlip late. It is in-app and, when
// email is on, queued for email. Each manager is considered once per ISO
// week however often this runs and on however many instances: the week's
// claim in manager_digests is written with the notification, and a week
// with nothing to say keeps its claim with no notification. It returns how
// many digests were written.
func (s *Service) Digests(ctx context.Context, now time.Time, sch DigestSchedule, email bool) (int, error) {
	wk, due := sch.week(now)
	if !due {
		return 0, nil
	}
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM manager_digests WHERE created_at < ?`, now.Add(-digestKeep)).Error; err != nil {
		return 0, err
	}
	var managers []struct {
		ID    string
		Since *time.Time // the last digest's covered_to
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT t.manager_id AS id,
			(SELECT max(d.covered_to) FROM manager_digests d WHERE d.manager_id = t.manager_id) AS since
		FROM teams t
		WHERE EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.id)
		  AND NOT EXISTS (SELECT 1 FROM manager_digests d WHERE d.manager_id = t.manager_id AND d.iso_week = ?)
		GROUP BY t.manager_id ORDER BY t.manager_id`, wk.Key).Scan(&managers).Error; err != nil {
		return 0, err
	}
	written := 0
	for _, m := range managers {
		from := wk.At.AddDate(0, 0, -7)
		if m.Since != nil && m.Since.After(from) {
			from = *m.Since
		}
		n, err := s.digest(ctx, m.ID, from, now)
		if err != nil {
			return written, err
		}
		ok, err := s.claimDigest(ctx, m.ID, wk, now, n, email)
		if err != nil {
			return written, err
		}
		if ok && n != nil {
			written++
		}
	}
	return written, nil
}

// claimDigest records the manager's week and writes n with it (nil:
// nothing to say), unless another run claimed the week first; it reports
// whether this one did.
func (s *Service) claimDigest(ctx context.Context, manager string, wk digestWeek, now time.Time, n *notice, email bool) (bool, error) {
	claimed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO manager_digests (manager_id, iso_week, covered_to) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			manager, wk.Key, now)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		claimed = true
		if n == nil {
			return nil
		}
		id, err := insert(ctx, tx, *n, email)
		if err != nil {
			return err
		}
		return tx.Exec(`UPDATE manager_digests SET notification_id = ? WHERE manager_id = ? AND iso_week = ?`, id, manager, wk.Key).Error
	})
	return claimed, err
}

// teamDigest is what one team's part of a digest says.
type teamDigest struct {
	Name                     string
	Finished, Overdue, Slips []string
}

func (t teamDigest) empty() bool { return len(t.Finished)+len(t.Overdue)+len(t.Slips) == 0 }

// digest composes a manager's digest of from to now, or nil when there is nothing
// to say. It reads each team as the manager would see it (teams.Manage), so
// someone no longer a manager gets none.
func (s *Service) digest(ctx context.Context, manager string, from, now time.Time) (*notice, error) {
	var owned []struct{ ID string }
	if err := s.db.WithContext(ctx).Raw(`SELECT id FROM teams WHERE manager_id = ? ORDER BY lower(name), id`, manager).Scan(&owned).Error; err != nil {
		return nil, err
	}
	var parts []teamDigest
	link := "/teams"
	for _, o := range owned {
		m, err := s.teams.Manage(ctx, accounts.Principal{UserID: manager, Role: accounts.RoleManager}, o.ID)
		if err != nil {
			continue // not (or no longer) theirs to see
		}
		part, err := s.teamDigest(ctx, m, from, now)
		if err != nil {
			return nil, err
		}
		if !part.empty() {
			parts = append(parts, part)
			link = "/teams/" + o.ID
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	if len(parts) > 1 {
		link = "/teams"
	}
	title := "Your team this week: " + parts[0].Name
	if len(parts) > 1 {
		title = fmt.Sprintf("Your %d teams this week", len(parts))
	}
	var b strings.Builder
	// Relative times only: the text is read in every zone, in the app and
	// by email, and "2 days ago" means the same in all of them.
	fmt.Fprintf(&b, "The last %s.", lateBy(now.Sub(from)))
	for _, p := range parts {
		fmt.Fprintf(&b, "\n\n%s", p.Name)
		section(&b, "Finished", p.Finished)
		section(&b, "Overdue", p.Overdue)
		section(&b, "Reviews slipping", p.Slips)
	}
	return &notice{UserID: manager, Kind: KindDigest, Title: title, Body: b.String(), Link: link}, nil
}

func section(b *strings.Builder, heading string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:", heading)
	for _, l := range lines {
		b.WriteString("\n- " + l)
	}
}

// teamDigest is one managed team's part: its current members' assignments
// finished since from and overdue at now, and their reviews more than ReviewSlip
// late.
func (s *Service) teamDigest(ctx context.Context, m teams.Managed, from, now time.Time) (teamDigest, error) {
	out := teamDigest{Name: m.Team().Name}
	detail, err := s.teams.Detail(ctx, m)
	if err != nil {
		return out, err
	}
	names := map[string]string{}
	ids := make([]string, 0, len(detail.Members))
	for _, mem := range detail.Members {
		names[mem.ID] = mem.Name
		ids = append(ids, mem.ID)
	}
	assigned, err := s.teams.TeamAssignments(ctx, m)
	if err != nil {
		return out, err
	}
	var done []string
	for _, a := range assigned {
		if a.Status == teams.Completed {
			done = append(done, a.ID)
		}
	}
	finishedAt, err := s.finishedAt(ctx, done)
	if err != nil {
		return out, err
	}
	// Longest overdue first (who most needs the manager's word), then by name.
	sort.SliceStable(assigned, func(i, j int) bool {
		if a, b := assigned[i].DueAt, assigned[j].DueAt; !a.Equal(b) {
			return a.Before(b)
		}
		return strings.ToLower(names[assigned[i].UserID]) < strings.ToLower(names[assigned[j].UserID])
	})
	for _, a := range assigned {
		switch at, ok := finishedAt[a.ID]; {
		case a.Status == teams.Completed && ok && at.After(from) && !at.After(now):
			out.Finished = append(out.Finished, fmt.Sprintf("%s finished %s %s ago.", names[a.UserID], quoted(a.ModuleName), lateBy(now.Sub(at))))
		case a.Status != teams.Completed && a.DueAt.Before(now):
			out.Overdue = append(out.Overdue, fmt.Sprintf("%s: %s is %s overdue (%d%% done).",
				names[a.UserID], quoted(a.ModuleName), lateBy(now.Sub(a.DueAt)), a.Percent))
		}
	}
	slips, err := s.slippingReviews(ctx, ids, now)
	if err != nil {
		return out, err
	}
	for _, r := range slips {
		out.Slips = append(out.Slips, fmt.Sprintf("%s: the review of %s has been due for %s.",
			names[r.UserID], quoted(r.Title), lateBy(now.Sub(r.DueAt))))
	}
	return out, nil
}

// finishedAt answers when each completed assignment's module was completed:
// the last of its lessons' completions and its scenarios' first passes.
func (s *Service) finishedAt(ctx context.Context, assignmentIDs []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(assignmentIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ID string
		At *time.Time
	}
	err := s.db.WithContext(ctx).Raw(`SELECT a.id, greatest(
			(SELECT max(p.completed_at) FROM lesson_progress p JOIN lessons l ON l.slug = p.lesson_slug
			 WHERE p.user_id = a.user_id AND l.module_slug = a.module_slug AND l.retired_at IS NULL),
			(SELECT max(first_pass) FROM (SELECT min(t.finished_at) AS first_pass FROM attempts t JOIN scenarios sc ON sc.slug = t.quiz_slug
			 WHERE t.user_id = a.user_id AND sc.module_slug = a.module_slug AND sc.retired_at IS NULL AND t.passed
			 GROUP BY t.quiz_slug) passes)) AS at
		FROM assignments a WHERE a.id IN ?`, assignmentIDs).Scan(&rows).Error
	for _, r := range rows {
		if r.At != nil {
			out[r.ID] = *r.At
		}
	}
	return out, err
}

// slippingReview is a member's review due more than ReviewSlip ago.
type slippingReview struct {
	UserID, Title string
	DueAt         time.Time
}

func (s *Service) slippingReviews(ctx context.Context, userIDs []string, now time.Time) ([]slippingReview, error) {
	var out []slippingReview
	if len(userIDs) == 0 {
		return out, nil
	}
	err := s.db.WithContext(ctx).Raw(`SELECT st.user_id, sc.title, st.review_due_at AS due_at
		FROM scenario_standings st JOIN scenarios sc ON sc.slug = st.quiz_slug AND sc.retired_at IS NULL
		WHERE st.user_id IN ? AND st.review_due_at < ? ORDER BY st.review_due_at, st.user_id`,
		userIDs, now.Add(-ReviewSlip)).Scan(&out).Error
	return out, err
}
