package flavor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mlrun/mlrun/plugins/internal/proto/flavorv1"
)

// Client is a Flavor served by another process.
type Client struct {
	c flavorv1.FlavorClient
}

var _ Flavor = (*Client)(nil)

// NewClient returns the Flavor on a gRPC connection.
func NewClient(conn *grpc.ClientConn) *Client {
	return &Client{c: flavorv1.NewFlavorClient(conn)}
}

// fromStatus gives an error its kind back; other codes keep their status.
func fromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.InvalidArgument:
		return fmt.Errorf("%w: %s", ErrInvalidModel, trimKind(st.Message(), ErrInvalidModel))
	case codes.NotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, trimKind(st.Message(), ErrNotFound))
	case codes.Unimplemented:
		return fmt.Errorf("%w: %s", ErrUnsupported, st.Message())
	}
	return err
}

func trimKind(msg string, kind error) string {
	p := kind.Error() + ": "
	if len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

// Describe implements Flavor.
func (c *Client) Describe(ctx context.Context) (*Description, error) {
	r, err := c.c.Describe(ctx, &flavorv1.DescribeRequest{})
	if err != nil {
		return nil, fromStatus(err)
	}
	return &Description{Name: r.Name, Version: r.Version, FilePatterns: r.FilePatterns, Description: r.Description}, nil
}

// Inspect implements Flavor.
func (c *Client) Inspect(ctx context.Context, req *InspectRequest) (*Model, error) {
	r, err := c.c.Inspect(ctx, &flavorv1.InspectRequest{Path: req.Path})
	if err != nil {
		return nil, fromStatus(err)
	}
	return modelFromProto(r)
}

// Save implements Flavor.
func (c *Client) Save(ctx context.Context, req *SaveRequest) (*SaveResponse, error) {
	r, err := c.c.Save(ctx, &flavorv1.SaveRequest{Path: req.Path, DestDir: req.DestDir, PythonVersion: req.PythonVersion, Installed: req.Installed})
	if err != nil {
		return nil, fromStatus(err)
	}
	m, err := modelFromProto(r.Info)
	if err != nil {
		return nil, err
	}
	return &SaveResponse{Model: m, Files: r.Files}, nil
}

// legacyPyfuncKey is where SDKs before protocol field 9
// (pyfunc_extra_json) put PyfuncExtra: inside the flavor JSON. Still read.
const legacyPyfuncKey = "\x00pyfunc"

func modelToProto(m *Model) (*flavorv1.InspectResponse, error) {
	fl := m.Flavor
	if fl == nil {
		fl = map[string]any{}
	}
	b, err := json.Marshal(fl)
	if err != nil {
		return nil, status.Error(codes.Internal, "encode the flavor block: "+err.Error())
	}
	var extra []byte
	if len(m.PyfuncExtra) > 0 {
		if extra, err = json.Marshal(m.PyfuncExtra); err != nil {
			return nil, status.Error(codes.Internal, "encode the python_function keys: "+err.Error())
		}
	}
	return &flavorv1.InspectResponse{
		Facts: m.Facts, FlavorJson: string(b), LoaderModule: m.LoaderModule,
		SignatureInputs: m.SignatureInputs, SignatureOutputs: m.SignatureOutputs,
		Requirements: m.Requirements, PythonVersion: m.PythonVersion, ModelFile: m.ModelFile,
		PyfuncExtraJson: string(extra),
	}, nil
}

func modelFromProto(r *flavorv1.InspectResponse) (*Model, error) {
	m := &Model{
		Facts: r.Facts, LoaderModule: r.LoaderModule, SignatureInputs: r.SignatureInputs,
		SignatureOutputs: r.SignatureOutputs, Requirements: r.Requirements, PythonVersion: r.PythonVersion, ModelFile: r.ModelFile,
	}
	if r.FlavorJson != "" {
		if err := json.Unmarshal([]byte(r.FlavorJson), &m.Flavor); err != nil {
			return nil, fmt.Errorf("the plugin sent a malformed flavor block: %w", err)
		}
		if p, ok := m.Flavor[legacyPyfuncKey].(map[string]any); ok {
			m.PyfuncExtra = p
			delete(m.Flavor, legacyPyfuncKey)
		}
	}
	if r.PyfuncExtraJson != "" {
		if err := json.Unmarshal([]byte(r.PyfuncExtraJson), &m.PyfuncExtra); err != nil {
			return nil, fmt.Errorf("the plugin sent malformed python_function keys: %w", err)
		}
	}
	return m, nil
}

// LoadPredictor opens a Predict stream for the model folder and waits
// until the flavor has loaded it. A flavor that does not predict gives
// ErrUnsupported.
func (c *Client) LoadPredictor(ctx context.Context, modelDir string) (Session, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.c.Predict(ctx)
	if err == nil {
		err = stream.Send(&flavorv1.PredictRequest{ModelDir: modelDir})
	}
	var r *flavorv1.PredictResponse
	if err == nil {
		r, err = stream.Recv()
	}
	if err != nil {
		cancel()
		return nil, fromStatus(err)
	}
	if !r.Ready {
		cancel()
		return nil, errors.New("the flavor answered Predict's first request without loading the model")
	}
	return &session{stream: stream, cancel: cancel}, nil
}

// session is a Predict stream (host side).
type session struct {
	stream flavorv1.Flavor_PredictClient
	cancel context.CancelFunc
}

func (s *session) Predict(_ context.Context, b *Batch, params map[string]any) (json.RawMessage, error) {
	rows, err := json.Marshal(b.Rows)
	if err != nil {
		return nil, err
	}
	var p []byte
	if params != nil {
		if p, err = json.Marshal(params); err != nil {
			return nil, err
		}
	}
	if err := s.stream.Send(&flavorv1.PredictRequest{Batch: &flavorv1.PredictBatch{Columns: b.Columns, RowsJson: string(rows)}, ParamsJson: string(p)}); err != nil {
		return nil, fromStatus(err)
	}
	r, err := s.stream.Recv()
	if err != nil {
		return nil, fromStatus(err)
	}
	if r.Error != "" {
		return nil, &PredictError{r.Error}
	}
	return json.RawMessage(r.PredictionsJson), nil
}

func (s *session) Close() error {
	err := s.stream.CloseSend()
	s.cancel()
	return err
}

// PredictError is a batch the flavor could not predict: bad input.
type PredictError struct{ Message string }

func (e *PredictError) Error() string { return e.Message }
