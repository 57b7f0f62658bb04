package serve

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlrun/mlrun/plugins"
	"github.com/mlrun/mlrun/plugins/flavor"
)

// pluginPredictor scores with a flavor plugin's Predict sessions: one
// plugin process, n sessions (each holds the model loaded once), a
// request takes an idle one. A session whose stream breaks is replaced.
type pluginPredictor struct {
	p    *plugins.Plugin
	dir  string
	idle chan flavor.Session
}

// startPlugin starts the flavor's plugin and loads the model in n
// sessions; a flavor that does not predict gives flavor.ErrUnsupported.
func startPlugin(name, dir string, n int, o plugins.Options) (*pluginPredictor, error) {
	ctx := context.Background()
	p, err := plugins.Open(ctx, name, o)
	if err != nil {
		return nil, err
	}
	pp := &pluginPredictor{p: p, dir: dir, idle: make(chan flavor.Session, n)}
	for i := 0; i < n; i++ {
		s, err := p.LoadPredictor(ctx, dir)
		if err != nil {
			pp.Close()
			return nil, err
		}
		pp.idle <- s
	}
	return pp, nil
}

func (pp *pluginPredictor) Predict(ctx context.Context, f *Frame, params map[string]any) (any, error) {
	var s flavor.Session
	select {
	case s = <-pp.idle:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out, err := s.Predict(ctx, &flavor.Batch{Columns: f.Columns, Rows: f.Rows}, params)
	var pe *flavor.PredictError
	switch {
	case err == nil:
		pp.idle <- s
		return rawJSON(out), nil
	case errors.As(err, &pe):
		pp.idle <- s
		return nil, badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: %s", pe.Message)
	}
	// The stream broke: a new session, if the plugin still answers.
	s.Close()
	if ns, lerr := pp.p.LoadPredictor(context.WithoutCancel(ctx), pp.dir); lerr == nil {
		pp.idle <- ns
	}
	return nil, fmt.Errorf("flavor %s: %w", pp.p.Name, err)
}

// Close ends the sessions and stops the plugin.
func (pp *pluginPredictor) Close() error {
	for {
		select {
		case s := <-pp.idle:
			s.Close()
		default:
			pp.p.Close()
			return nil
		}
	}
}
