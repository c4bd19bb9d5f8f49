package teams

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVZone is the time zone a report's CSV shows times in: an IANA name
// (Europe/Berlin), UTC when empty. "Local" is refused: the server's own
// zone means nothing to the person who opens the file.
func CSVZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if len(name) > 64 || name == "Local" {
		return nil, errors.New("must be an IANA time zone name such as Europe/Berlin")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errors.New("must be an IANA time zone name such as Europe/Berlin")
	}
	return loc, nil
}

// csvStatus is an assignment status as a person reads it.
var csvStatus = map[string]string{NotStarted: "Not started", InProgress: "In progress", Completed: "Completed"}

// WriteCSV writes the report as a spreadsheet a person can read: a header
// row, then one row per member and module in course order, with module
// titles, due dates in loc (the zone named in the column header) and
// spreadsheet formulas neutralised. A member's skill profile belongs to
// the member, not to a module, so it is given once, on the member's first
// row, rather than repeated on every module's row.
func (s *Service) WriteCSV(out io.Writer, r Report, loc *time.Location) error {
	w := csv.NewWriter(out)
	_ = w.Write([]string{"Team", "Member", "Email", "Module", "Read (%)", "Module completed", "Best scenario score (%)",
		"Assignment", fmt.Sprintf("Due (%s)", loc), "Overdue", "Vision", "Alignment", "Inspiration"})
	for _, m := range r.Members {
		due := map[string]AssignmentView{}
		for _, a := range m.Assignments {
			due[a.Module] = a
		}
		for i, mod := range m.Modules {
			title := mod.Slug
			if cm, ok := s.course.Module(mod.Slug); ok {
				title = cm.Title
			}
			best := ""
			if mod.BestPercent != nil {
				best = strconv.Itoa(*mod.BestPercent)
			}
			status, dueAt, overdue := "", "", ""
			if a, ok := due[mod.Slug]; ok {
				status, dueAt = csvStatus[a.Status], a.DueAt.In(loc).Format("2006-01-02 15:04")
				if a.Overdue {
					overdue = "yes"
				}
			}
			vision, alignment, inspiration := "", "", ""
			if i == 0 {
				vision, alignment, inspiration = strconv.Itoa(m.Skills.Vision), strconv.Itoa(m.Skills.Alignment), strconv.Itoa(m.Skills.Inspiration)
			}
			_ = w.Write(safeCells(r.Team.Name, m.User.Name, m.User.Email, title, strconv.Itoa(mod.Percent),
				yesNo(mod.Completed), best, status, dueAt, overdue, vision, alignment, inspiration))
		}
	}
	w.Flush()
	return w.Error()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// safeCells neutralises spreadsheet formulas: a cell that starts with = + -
// @ (or a tab or carriage return) gets a leading apostrophe, so a name like
// "=HYPERLINK(...)" is shown as text instead of being run.
func safeCells(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}
