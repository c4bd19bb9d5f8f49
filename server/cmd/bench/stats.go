package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the samples at
// or below it. An empty slice gives 0.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// latencySummary is what the report shows of a set of latencies.
type latencySummary struct {
	P50, P95, P99, Mean, Max time.Duration
}

func summarize(lat []time.Duration) latencySummary {
	if len(lat) == 0 {
		return latencySummary{}
	}
	s := make([]time.Duration, len(lat))
	copy(s, lat)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return latencySummary{
		P50:  percentile(s, 50),
		P95:  percentile(s, 95),
		P99:  percentile(s, 99),
		Mean: sum / time.Duration(len(s)),
		Max:  s[len(s)-1],
	}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// pgbenchLog is what one run's per-transaction logs hold.
type pgbenchLog struct {
	Latencies []time.Duration
	Failed    int // transactions logged as failed or skipped
}

// parsePgbenchLog reads a pgbench --log file. Each line is
// "client_id transaction_no time script_no time_epoch time_us [schedule_lag]"
// where time is the transaction's latency in microseconds, or "failed" /
// "skipped".
func parsePgbenchLog(r io.Reader, into *pgbenchLog) error {
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 6 {
			return fmt.Errorf("pgbench log line %d: %d fields, want at least 6: %q", line, len(f), sc.Text())
		}
		switch f[2] {
		case "failed", "skipped":
			into.Failed++
			continue
		}
		us, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("pgbench log line %d: latency %q: %v", line, f[2], err)
		}
		into.Latencies = append(into.Latencies, time.Duration(us)*time.Microsecond)
	}
	return sc.Err()
}

// readPgbenchLogs parses every file pgbench wrote for a log prefix: one per
// thread, named prefix.<pid> and prefix.<pid>.<thread>.
func readPgbenchLogs(prefix string) (pgbenchLog, error) {
	var out pgbenchLog
	files, err := filepath.Glob(prefix + ".*")
	if err != nil {
		return out, err
	}
	if len(files) == 0 {
		return out, fmt.Errorf("pgbench wrote no log files at %s.*", prefix)
	}
	for _, f := range files {
		fh, err := os.Open(f) // #nosec G304 -- files pgbench wrote into our temp dir
		if err != nil {
			return out, err
		}
		err = parsePgbenchLog(fh, &out)
		_ = fh.Close()
		if err != nil {
			return out, fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
	}
	return out, nil
}

// pgbenchSummary is what pgbench prints at the end of a run.
type pgbenchSummary struct {
	TPS          float64
	Transactions int64
	Failed       int64
	LatencyAvgMs float64
}

var (
	reTPS     = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)
	reTxns    = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)
	reFailed  = regexp.MustCompile(`(?m)^number of failed transactions: ([0-9]+)`)
	reLatency = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)
)

func parsePgbenchOutput(out string) (pgbenchSummary, error) {
	var s pgbenchSummary
	m := reTPS.FindStringSubmatch(out)
	if m == nil {
		return s, fmt.Errorf("no tps line in pgbench output")
	}
	s.TPS, _ = strconv.ParseFloat(m[1], 64)
	if m := reTxns.FindStringSubmatch(out); m != nil {
		s.Transactions, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reFailed.FindStringSubmatch(out); m != nil {
		s.Failed, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reLatency.FindStringSubmatch(out); m != nil {
		s.LatencyAvgMs, _ = strconv.ParseFloat(m[1], 64)
	}
	return s, nil
}

// procStat is a process's CPU time (in clock ticks) and peak resident memory.
type procStat struct {
	UserTicks, SysTicks     int64 // the process itself
	ChildUser, ChildSys     int64 // its reaped children
	PPid                    int
	PeakRSSKB, CurrentRSSKB int64
}

const clkTck = 100 // USER_HZ on Linux

func (p procStat) cpuSeconds() float64 {
	return float64(p.UserTicks+p.SysTicks) / clkTck
}

// parseProcStat reads /proc/<pid>/stat. The command name may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	var p procStat
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return p, fmt.Errorf("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, so f[11]; ppid is field 4.
	if len(f) < 15 {
		return p, fmt.Errorf("short stat")
	}
	p.PPid, _ = strconv.Atoi(f[1])
	p.UserTicks, _ = strconv.ParseInt(f[11], 10, 64)
	p.SysTicks, _ = strconv.ParseInt(f[12], 10, 64)
	p.ChildUser, _ = strconv.ParseInt(f[13], 10, 64)
	p.ChildSys, _ = strconv.ParseInt(f[14], 10, 64)
	return p, nil
}

func readProc(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	p, err := parseProcStat(b)
	if err != nil {
		return p, err
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		p.PeakRSSKB = statusKB(string(st), "VmHWM:")
		p.CurrentRSSKB = statusKB(string(st), "VmRSS:")
	}
	return p, nil
}

func statusKB(status, key string) int64 {
	for _, line := range strings.Split(status, "\n") {
		if strings.HasPrefix(line, key) {
			f := strings.Fields(line[len(key):])
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// eachChild calls fn with the raw stat line and parsed stat of every
// process whose parent is pid.
func eachChild(pid int, fn func(raw []byte, p procStat)) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		p, err := parseProcStat(b)
		if err != nil || p.PPid != pid {
			continue
		}
		fn(b, p)
	}
}

// children counts the live (not zombie) children of pid and the zombies.
func children(pid int) (live, zombies int) {
	eachChild(pid, func(raw []byte, _ procStat) {
		if i := strings.LastIndexByte(string(raw), ')'); i > 0 && strings.HasPrefix(strings.TrimSpace(string(raw[i+1:])), "Z") {
			zombies++
			return
		}
		live++
	})
	return live, zombies
}

// waitChildren waits (at most timeout) until pid has at most n live
// children and no zombies: the backends of a finished pgbench run have
// exited and been reaped, so their CPU time is in the postmaster's account.
func waitChildren(pid, n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		live, zombies := children(pid)
		if live <= n && zombies == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// treeCPUSeconds is the CPU time of a process, its reaped children and its
// live children: for the postmaster, that is all of PostgreSQL, including
// backends that have come and gone.
func treeCPUSeconds(pid int) float64 {
	root, err := readProc(pid)
	if err != nil {
		return 0
	}
	ticks := root.UserTicks + root.SysTicks + root.ChildUser + root.ChildSys
	eachChild(pid, func(_ []byte, p procStat) { ticks += p.UserTicks + p.SysTicks })
	return float64(ticks) / clkTck
}

// machineCPU is the whole machine's busy and total CPU time, in ticks, from
// /proc/stat: it shows how much of the cores something other than the
// bench, the server and PostgreSQL took during a phase.
type machineCPU struct{ Busy, Total int64 }

func parseMachineCPU(stat string) (machineCPU, error) {
	var m machineCPU
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return m, fmt.Errorf("no cpu line in /proc/stat")
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i >= 8 { // guest time is already counted in user
			break
		}
		m.Total += n
		// user, nice, system and steal: processes' time, and time the
		// hypervisor gave to others. Interrupt time is left out: loopback
		// networking, i.e. the bench's own traffic, is accounted there.
		if i == 0 || i == 1 || i == 2 || i == 7 {
			m.Busy += n
		}
	}
	return m, nil
}

func readMachineCPU() machineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	m, _ := parseMachineCPU(string(b))
	return m
}
