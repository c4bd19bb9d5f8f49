package scaletest

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Write prints the report as a table, then its verdict.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "%d instances behind HAProxy, PgBouncer (transaction mode) in front of the primary, a streaming replica; %d answering learners, %d reading\n\n",
		r.Instances, r.Learners, r.Readers)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tseconds\trequests/s\tp99 ms\tanswers/s\tanswer p99 ms\terrors\tin flight\tretries\treplica reads\t")
	for _, p := range r.Phases {
		fmt.Fprintf(tw, "%s\t%.1f\t%.0f\t%.1f\t%.0f\t%.1f\t%d\t%d\t%d\t%d\t\n", p.Name, p.Seconds, p.RequestsPerSec, p.P99Millis,
			p.AnswersPerSec, p.AnswerP99, p.Errors, p.InFlightErrors, p.Retries, p.ReplicaReads)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nacknowledged answers: %d, lost: %d; killed instance ready again after %.1f s; replica lag after its return: %v s\n",
		r.Acknowledged, r.Lost, r.RestartSeconds, r.ReplicaLag)
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "PASS: no acknowledged answer lost, errors only on requests in flight on the killed instance, reads fell back while the replica was down")
		return
	}
	fmt.Fprintln(w, "FAIL:\n  "+strings.Join(r.Problems, "\n  "))
}
