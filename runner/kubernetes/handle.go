package kubernetes

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mlrun/mlrun/runner"
)

// How often a Job's state is read: every pollEvery at first (a short step
// ends promptly), then less and less often, up to pollMax (a long one
// costs the API server two reads every pollMax).
const (
	pollEvery = 250 * time.Millisecond
	pollMax   = 2 * time.Second
)

// A look at the pods that takes longer than callTimeout is given up and
// tried again; a log stream that brings nothing for streamIdle is opened
// again from where it stopped (a quiet step costs a request that often):
// once, in CI, a step's whole output never reached the runner within two
// minutes though the pod had run it in its first seconds, the follow
// stuck on a request that neither answered nor failed.
const (
	callTimeout = 15 * time.Second
	streamIdle  = 15 * time.Second
)

// handle follows one Job: its pod's log, its conditions, its end.
type handle struct {
	cs              kubernetes.Interface
	ns, name        string
	container       string
	created         time.Time
	scheduleTimeout time.Duration
	grace           time.Duration
	killNow         <-chan struct{}

	stopLogs context.CancelFunc
	logsDone chan struct{}
	// last is the step's container's end, once a look at the pods saw it.
	last *corev1.ContainerStateTerminated
}

func newHandle(cs kubernetes.Interface, j *batchv1.Job, job *runner.Job, scheduleTimeout time.Duration) *handle {
	h := &handle{cs: cs, ns: j.Namespace, name: j.Name, container: j.Spec.Template.Spec.Containers[0].Name,
		created: time.Now(), scheduleTimeout: scheduleTimeout, grace: job.Grace, killNow: job.KillNow,
		logsDone: make(chan struct{})}
	if h.grace <= 0 {
		h.grace = runner.DefaultGrace
	}
	var lctx context.Context
	lctx, h.stopLogs = context.WithCancel(context.Background())
	go func() {
		defer close(h.logsDone)
		h.follow(lctx, job.Stdout)
	}()
	return h
}

// pods lists the Job's pods, oldest first.
func (h *handle) pods(ctx context.Context) ([]corev1.Pod, error) {
	l, err := h.cs.CoreV1().Pods(h.ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + h.name})
	if err != nil {
		return nil, err
	}
	sort.Slice(l.Items, func(i, k int) bool { return l.Items[i].CreationTimestamp.Before(&l.Items[k].CreationTimestamp) })
	return l.Items, nil
}

// mainState is the state of the step's container in pod.
func (h *handle) mainState(pod *corev1.Pod) (corev1.ContainerState, bool) {
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == h.container {
			return s.State, true
		}
	}
	return corev1.ContainerState{}, false
}

// follow copies the step's log to w as it comes, once its container has
// started. Kubernetes keeps one log per container: stdout and stderr
// arrive interleaved, on w. A stream that ends while the container still
// runs (the container ended, or the connection broke: an API server
// restart), or brings nothing for streamIdle, is opened again from where
// it stopped — the lines carry the kubelet's timestamps, and those
// already copied are skipped — until a stream opened after the container
// ended has been read to its end.
func (h *handle) follow(ctx context.Context, w io.Writer) {
	var cur logCursor
	for ctx.Err() == nil {
		lctx, cancel := context.WithTimeout(ctx, callTimeout)
		pods, err := h.pods(lctx)
		cancel()
		if err == nil && len(pods) > 0 {
			pod := pods[len(pods)-1]
			if st, ok := h.mainState(&pod); ok && (st.Running != nil || st.Terminated != nil) {
				if h.stream(ctx, w, &cur, pod.Name) == nil && st.Terminated != nil {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollEvery):
		}
	}
}

// stream copies one log stream of the step's container in pod to w from
// cur on, until it ends, fails, or brings nothing for streamIdle (then
// it is closed and the error says so).
func (h *handle) stream(ctx context.Context, w io.Writer, cur *logCursor, pod string) error {
	opts := &corev1.PodLogOptions{Container: h.container, Follow: true, Timestamps: true}
	if !cur.last.IsZero() {
		since := metav1.NewTime(cur.last)
		opts.SinceTime = &since
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := time.AfterFunc(streamIdle, cancel)
	defer idle.Stop()
	rc, err := h.cs.CoreV1().Pods(h.ns).GetLogs(pod, opts).Stream(sctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	return cur.copy(w, activity{rc, func() { idle.Reset(streamIdle) }})
}

// activity is a reader that calls seen each time data arrives.
type activity struct {
	r    io.Reader
	seen func()
}

func (a activity) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.seen()
	}
	return n, err
}

// logCursor is how far a container's log has been copied: the timestamp
// of the last line copied, and how many lines with that very timestamp.
type logCursor struct {
	last time.Time
	seen int
}

// copy copies the lines of a timestamped log stream (each line an RFC
// 3339 timestamp, a space, the text) to w without their timestamps,
// skipping those copied before: a stream opened again from a SinceTime,
// which Kubernetes takes to the second, repeats them.
func (c *logCursor) copy(w io.Writer, r io.Reader) error {
	br := bufio.NewReader(r)
	skip := c.seen // lines stamped c.last this stream repeats
	for {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err // a line cut short comes whole from the next stream
		}
		if line != "" {
			text := line
			if stamp, rest, ok := strings.Cut(line, " "); ok {
				if ts, perr := time.Parse(time.RFC3339Nano, stamp); perr == nil {
					text = rest
					switch {
					case ts.Before(c.last):
						text = ""
					case ts.Equal(c.last) && skip > 0:
						skip--
						text = ""
					case ts.Equal(c.last):
						c.seen++
					default:
						c.last, c.seen, skip = ts, 1, 0
					}
				}
			}
			if text != "" {
				if _, werr := io.WriteString(w, text); werr != nil {
					return werr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// Wait implements runner.Handle: it ends with the Job's Complete or
// Failed condition, with a pod that cannot be scheduled or started for
// the schedule timeout (the Job is then deleted), or, when ctx is
// cancelled, by deleting the Job and its pods (KILLED).
func (h *handle) Wait(ctx context.Context) (runner.Result, error) {
	defer h.stopLogs()
	every := pollEvery
	bg := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			return h.cancel()
		case <-time.After(every):
			every = min(every*5/4, pollMax)
		}
		j, err := h.cs.BatchV1().Jobs(h.ns).Get(bg, h.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			// A short ttlSecondsAfterFinished may remove the Job between
			// two looks: the container's end, if seen, says how it went.
			if h.last != nil {
				return h.endedAs(h.last, nil)
			}
			return runner.Result{ExitCode: -1}, fmt.Errorf("job %s/%s was deleted while it ran", h.ns, h.name)
		} else if err != nil {
			continue // the API server may be briefly away; the Job goes on
		}
		for _, c := range j.Status.Conditions {
			if c.Status != corev1.ConditionTrue {
				continue
			}
			switch c.Type {
			case batchv1.JobComplete:
				return h.ended(bg, nil)
			case batchv1.JobFailed:
				return h.ended(bg, &c)
			}
		}
		if why, reason := h.stuck(bg, j); why != "" {
			h.remove(bg)
			return runner.Result{ExitCode: -1, Tags: map[string]string{TagFailure: reason}},
				fmt.Errorf("%w: job %s/%s: %s", ErrNotStarted, h.ns, h.name, why)
		}
	}
}

// ErrNotStarted: the Job's pod could not be scheduled or started.
var ErrNotStarted = errors.New("the step's pod did not start")

// stuck says why the Job's pod has not started when it should have: an
// image that is refused at once, or no start within the schedule timeout.
func (h *handle) stuck(ctx context.Context, j *batchv1.Job) (why, reason string) {
	pods, err := h.pods(ctx)
	if err != nil {
		return "", ""
	}
	late := time.Since(h.created) > h.scheduleTimeout
	if len(pods) == 0 {
		if late {
			return fmt.Sprintf("no pod was created within %s", h.scheduleTimeout), "NoPod"
		}
		return "", ""
	}
	pod := pods[len(pods)-1]
	if st, ok := h.mainState(&pod); ok && st.Terminated != nil {
		h.last = st.Terminated
	}
	if pod.Status.Phase != corev1.PodPending {
		return "", ""
	}
	if st, ok := h.mainState(&pod); ok && st.Waiting != nil {
		switch r := st.Waiting.Reason; r {
		case "ErrImageNeverPull", "InvalidImageName":
			return fmt.Sprintf("%s: %s", r, st.Waiting.Message), r
		case "ContainerCreating", "PodInitializing", "":
		default:
			if late {
				return fmt.Sprintf("the pod did not start within %s: %s: %s", h.scheduleTimeout, r, st.Waiting.Message), r
			}
		}
	}
	if !late {
		return "", ""
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return fmt.Sprintf("the pod could not be scheduled within %s: %s", h.scheduleTimeout, c.Message), c.Reason
		}
	}
	return fmt.Sprintf("the pod did not start within %s", h.scheduleTimeout), "NotStarted"
}

// ended reads how the step ended from its pod: the container's exit code
// and, when the Job failed for a reason the exit code does not give
// (OOMKilled, a deadline), that reason as a tag and an error.
func (h *handle) ended(ctx context.Context, failed *batchv1.JobCondition) (runner.Result, error) {
	if pods, err := h.pods(ctx); err == nil && len(pods) > 0 {
		if st, ok := h.mainState(&pods[len(pods)-1]); ok && st.Terminated != nil {
			h.last = st.Terminated
		}
	}
	return h.endedAs(h.last, failed)
}

// endedAs is the result of a step whose container ended as term (nil if
// unknown) in a Job that failed with the condition failed (nil if not).
func (h *handle) endedAs(term *corev1.ContainerStateTerminated, failed *batchv1.JobCondition) (runner.Result, error) {
	res := runner.Result{ExitCode: -1}
	reason, msg := "", ""
	if term != nil {
		res.ExitCode = int(term.ExitCode)
		reason, msg = term.Reason, term.Message
		if failed == nil && res.ExitCode != 0 {
			// The Job is gone before its condition was seen: the exit
			// code is the verdict.
			failed = &batchv1.JobCondition{Reason: reason}
		}
	}
	if failed == nil {
		if res.ExitCode < 0 {
			res.ExitCode = 0
		}
	} else {
		switch reason {
		case "Error", "Completed":
			reason = "" // the exit code says it
		case "":
			reason, msg = failed.Reason, failed.Message
		}
	}
	// The log is complete once the container has ended; give the copy a
	// moment to drain.
	select {
	case <-h.logsDone:
	case <-time.After(10 * time.Second):
	}
	if failed != nil && reason != "" {
		res.Tags = map[string]string{TagFailure: reason}
		if msg != "" {
			msg = ": " + msg
		}
		return res, fmt.Errorf("job %s/%s failed: %s%s (exit code %d)", h.ns, h.name, reason, msg, res.ExitCode)
	}
	return res, nil
}

// cancel deletes the Job with its pods (foreground: the pods get
// SIGTERM, then SIGKILL after their grace) and waits until both are
// gone; a second Ctrl-C (killNow) deletes the pods at once.
func (h *handle) cancel() (runner.Result, error) {
	res := runner.Result{Killed: true, ExitCode: -1}
	ctx, cancel := context.WithTimeout(context.Background(), h.grace+60*time.Second)
	defer cancel()
	if err := h.remove(ctx); err != nil {
		return res, err
	}
	killNow := h.killNow
	for {
		_, err := h.cs.BatchV1().Jobs(h.ns).Get(ctx, h.name, metav1.GetOptions{})
		pods, perr := h.pods(ctx)
		if apierrors.IsNotFound(err) && perr == nil && len(pods) == 0 {
			return res, nil
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("job %s/%s: its pods were not gone %s after the delete", h.ns, h.name, h.grace+60*time.Second)
		case <-killNow:
			killNow = nil
			zero := int64(0)
			for _, p := range pods {
				h.cs.CoreV1().Pods(h.ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
			}
		case <-time.After(pollEvery):
		}
	}
}

// remove deletes the Job and, through foreground propagation, its pods.
func (h *handle) remove(ctx context.Context) error {
	prop := metav1.DeletePropagationForeground
	err := h.cs.BatchV1().Jobs(h.ns).Delete(ctx, h.name, metav1.DeleteOptions{PropagationPolicy: &prop})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete job %s/%s: %w", h.ns, h.name, err)
	}
	return nil
}
