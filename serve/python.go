package serve

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

//go:embed worker.py
var workerScript string

// rawJSON is predictions already encoded by the worker (Python's
// json.dumps, what MLflow writes).
type rawJSON []byte

// pythonPredictor scores with a pool of Python worker processes
// (worker.py), each holding the model loaded once; a request takes an
// idle worker. A worker that dies or overruns its request's deadline is
// replaced.
type pythonPredictor struct {
	args   []string // python, -u, -c, script, model args
	idle   chan *worker
	mu     sync.Mutex
	all    map[*worker]bool
	tensor bool     // the signature is a tensor: send a numpy array
	dtype  string   // its numpy dtype
	env    []string // more environment for the workers
}

type worker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startPython starts n workers of python for the model in dir and waits
// until each has loaded it (or failed to, whose error is returned).
func startPython(python, dir, flavor, file, predictFn, serialization string, n int, sig *signature, env []string) (*pythonPredictor, error) {
	p := &pythonPredictor{
		args: []string{python, "-u", "-c", workerScript, dir, flavor, file, predictFn, serialization},
		idle: make(chan *worker, n), all: map[*worker]bool{}, env: env,
	}
	if sig != nil && sig.tensor != nil {
		p.tensor, p.dtype = true, sig.tensorT
	}
	for i := 0; i < n; i++ {
		w, err := p.spawn()
		if err != nil {
			p.Close()
			return nil, err
		}
		p.idle <- w
	}
	return p, nil
}

func (p *pythonPredictor) spawn() (*worker, error) {
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Stderr = os.Stderr
	// One thread per worker: the pool is the parallelism, and OpenMP
	// threads of several workers spinning on the same cores cost 20x
	// (BenchmarkInvocations). The caller's own settings win.
	cmd.Env = os.Environ()
	for _, v := range []string{"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"} {
		if _, ok := os.LookupEnv(v); !ok {
			cmd.Env = append(cmd.Env, v+"=1")
		}
	}
	cmd.Env = append(cmd.Env, p.env...) // (the last of a key wins)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the Python worker (%s): %w", p.args[0], err)
	}
	w := &worker{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	ready := make(chan error, 1)
	go func() {
		line, err := w.out.ReadString('\n')
		switch {
		case err != nil:
			ready <- fmt.Errorf("the Python worker exited before loading the model (%v): see its output above", err)
		case strings.HasPrefix(line, "READY "):
			ready <- nil
		default:
			ready <- fmt.Errorf("the Python worker could not load the model: %s", workerError(line).Message)
		}
	}()
	select {
	case err = <-ready:
	case <-time.After(2 * time.Minute):
		err = errors.New("the Python worker did not load the model in 2 minutes")
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, err
	}
	p.mu.Lock()
	p.all[w] = true
	p.mu.Unlock()
	return w, nil
}

// workerError reads an "ERR {json}" line.
func workerError(line string) *Error {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(line), "ERR ")), &e) != nil || e.Message == "" {
		e.Message = strings.TrimSpace(line)
	}
	return &Error{"BAD_REQUEST", "Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: " + e.Message}
}

func (p *pythonPredictor) Predict(ctx context.Context, f *Frame, params map[string]any) (any, error) {
	var cols any = f.Columns
	if f.Labels != nil {
		cols = f.Labels // pandas' labels as MLflow makes them: 0, not "0"
	}
	// A list of values is the one-dimensional array MLflow makes of it.
	vector := f.Vector && f.Columns == nil && !p.tensor
	msg, err := json.Marshal(map[string]any{"columns": cols, "rows": f.Rows, "params": params, "tensor": p.tensor, "dtype": p.dtype, "vector": vector})
	if err != nil {
		return nil, badRequest("Invalid input: %v", err)
	}
	var w *worker
	select {
	case w = <-p.idle:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		if _, err := w.in.Write(append(msg, '\n')); err != nil {
			done <- result{"", err}
			return
		}
		line, err := w.out.ReadString('\n')
		done <- result{line, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	if r.err != nil {
		// The worker is gone or busy past the deadline: replace it.
		p.retire(w)
		if nw, err := p.spawn(); err == nil {
			p.idle <- nw
		}
		if errors.Is(r.err, context.DeadlineExceeded) || errors.Is(r.err, context.Canceled) {
			return nil, r.err
		}
		return nil, fmt.Errorf("the Python worker failed: %v", r.err)
	}
	p.idle <- w
	if strings.HasPrefix(r.line, "OK ") {
		return rawJSON(strings.TrimSpace(r.line[3:])), nil
	}
	return nil, workerError(r.line)
}

func (p *pythonPredictor) retire(w *worker) {
	p.mu.Lock()
	delete(p.all, w)
	p.mu.Unlock()
	w.cmd.Process.Kill()
	w.cmd.Wait()
}

// Close stops every worker.
func (p *pythonPredictor) Close() error {
	p.mu.Lock()
	ws := make([]*worker, 0, len(p.all))
	for w := range p.all {
		ws = append(ws, w)
	}
	p.all = map[*worker]bool{}
	p.mu.Unlock()
	for _, w := range ws {
		w.in.Close() // the worker's loop ends
		done := make(chan struct{})
		go func() { w.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			w.cmd.Process.Kill()
			<-done
		}
	}
	return nil
}
