// Command loadgen drives any MLflow-compatible tracking server (mlrun
// server, MLflow's, another) with the load workloads of internal/load
// and prints, for each, the requests per second that succeeded, the
// median and 99th-percentile time of a request, and the errors:
//
//	go run ./internal/loadgen -url http://127.0.0.1:5000 -c 20 -d 5s
//
// Against mlrun servers that expose their metrics (--expose-prometheus),
// it also prints, for the write workloads, how busy the servers' store
// writers were (writer-%: the share of the time inside write
// transactions, summed over the servers) and how much of that time went
// to COMMIT (commit-%): a writer near 100 % is where the writes queue;
// how many writes a commit carried (writes/commit: the group commit's
// size); and, per write, how long it waited in the queue for a group
// (queue-ms) and, once its group had committed, for its request to run
// again (resume-ms: the wait for a CPU); and, for SQLite stores, how
// many pages a commit wrote to the WAL (pages/commit: what a group of
// writes costs the disk; "-" on PostgreSQL).
//
// Several -url values spread the clients over servers that share a
// database. It writes runs into the server (and, for the read workloads,
// an experiment of 500 runs and a 5,000-point history): point it at a
// throwaway database.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/mlrun/mlrun/internal/load"
	"github.com/mlrun/mlrun/store/rest"
)

func main() {
	urls := flag.String("url", "http://127.0.0.1:5000", "the server's URL; several, comma-separated, to spread the clients")
	clients := flag.Int("c", 20, "concurrent clients")
	d := flag.Duration("d", 5*time.Second, "how long each workload runs")
	only := flag.String("w", "", "run only these workloads (comma-separated names)")
	flag.Parse()
	workloads, err := selected(*only)
	if err == nil && *clients < 1 {
		err = fmt.Errorf("-c %d: want at least one client", *clients)
	}
	if err == nil && *d <= 0 {
		err = fmt.Errorf("-d %v: want a positive duration", *d)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	list := strings.Split(*urls, ",")
	c, err := rest.Open(list[0], rest.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	reads := false
	for _, w := range workloads {
		reads = reads || w.Reads
	}
	env, err := load.Setup(ctx, c, reads)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: setup:", err)
		os.Exit(1)
	}
	_, timed := writerStats(ctx, list)
	header := fmt.Sprintf("%-18s %10s %8s %8s %8s", "workload", "req/s", "p50-ms", "p99-ms", "errors")
	if timed {
		header += fmt.Sprintf(" %8s %8s %13s %8s %9s %12s", "writer-%", "commit-%", "writes/commit", "queue-ms", "resume-ms", "pages/commit")
	}
	fmt.Println(header)
	failed := false
	for _, w := range workloads {
		before, _ := writerStats(ctx, list)
		r, err := load.Drive(ctx, list, *clients, *d, env, w)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", w.Name+":", err)
			os.Exit(1)
		}
		line := fmt.Sprintf("%-18s %10.1f %8.2f %8.2f %8d", w.Name, r.PerSecond(), ms(r.Latencies.Percentile(0.5)), ms(r.Latencies.Percentile(0.99)), r.Errors)
		if timed {
			after, ok := writerStats(ctx, list)
			if ok && !w.Reads {
				s := r.Elapsed.Seconds() / 100
				line += fmt.Sprintf(" %8.1f %8.1f", (after[0]-before[0])/s, (after[1]-before[1])/s)
				// A workload that changes nothing (log-param-10-again
				// after its first requests) commits nothing.
				if commits := after[3] - before[3]; commits > 0 {
					writes := after[2] - before[2]
					line += fmt.Sprintf(" %13.2f %8.3f %9.3f", writes/commits, 1000*(after[4]-before[4])/writes, 1000*(after[5]-before[5])/writes)
					if pages := (after[6] - before[6]) / commits; !math.IsNaN(pages) {
						line += fmt.Sprintf(" %12.1f", pages)
					} else {
						line += fmt.Sprintf(" %12s", "-")
					}
				} else {
					line += fmt.Sprintf(" %13s %8s %9s %12s", "-", "-", "-", "-")
				}
			} else {
				line += fmt.Sprintf(" %8s %8s %13s %8s %9s %12s", "-", "-", "-", "-", "-", "-")
			}
		}
		fmt.Println(line)
		if r.FirstError != nil {
			failed = true
			fmt.Fprintf(os.Stderr, "loadgen: %s: first error: %v\n", w.Name, r.FirstError)
		}
	}
	if failed {
		os.Exit(1)
	}
}

// selected returns the workloads named in only (comma-separated), in
// their usual order; all of them when only is empty.
func selected(only string) ([]load.Workload, error) {
	if only == "" {
		return load.Workloads, nil
	}
	byName := map[string]load.Workload{}
	var known []string
	for _, w := range load.Workloads {
		byName[w.Name] = w
		known = append(known, w.Name)
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if _, ok := byName[n]; !ok {
			return nil, fmt.Errorf("-w: no workload %q (there are %s)", n, strings.Join(known, ", "))
		}
		want[n] = true
	}
	var ws []load.Workload
	for _, w := range load.Workloads {
		if want[w.Name] {
			ws = append(ws, w)
		}
	}
	return ws, nil
}

// writerStats sums, over the servers at urls, the seconds their store
// writers spent in write transactions and in COMMIT, their writes and
// their commits, the seconds their writes waited in the queue and, once
// answered, to run again, and the pages their SQLite stores wrote to
// the WAL (NaN when a server has no such count), read off their
// /metrics; false when a server does not expose the others.
func writerStats(ctx context.Context, urls []string) ([7]float64, bool) {
	var sum [7]float64
	names := []string{"mlrun_store_write_seconds_total", "mlrun_store_commit_seconds_total", "mlrun_store_writes_total", "mlrun_store_commits_total",
		"mlrun_store_write_queue_seconds_total", "mlrun_store_write_resume_seconds_total", "mlrun_sqlite_wal_pages_total"}
	for _, u := range urls {
		m, err := load.Scrape(ctx, u, names...)
		if err != nil {
			return sum, false
		}
		for i, name := range names {
			v, ok := m[name]
			switch {
			case ok:
				sum[i] += v
			case i == len(names)-1:
				sum[i] = math.NaN()
			default:
				return sum, false
			}
		}
	}
	return sum, true
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
