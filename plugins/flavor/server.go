package flavor

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mlrun/mlrun/plugins/internal/proto/flavorv1"
)

// server adapts a Flavor to the gRPC service.
type server struct {
	flavorv1.UnimplementedFlavorServer
	impl Flavor
}

// toStatus keeps an error's kind across the boundary.
func toStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrInvalidModel):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, ErrUnsupported):
		return status.Error(codes.Unimplemented, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

func (s *server) Describe(ctx context.Context, _ *flavorv1.DescribeRequest) (*flavorv1.DescribeResponse, error) {
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &flavorv1.DescribeResponse{Name: d.Name, Version: d.Version, FilePatterns: d.FilePatterns, Description: d.Description}, nil
}

func (s *server) Inspect(ctx context.Context, req *flavorv1.InspectRequest) (*flavorv1.InspectResponse, error) {
	m, err := s.impl.Inspect(ctx, &InspectRequest{Path: req.Path})
	if err != nil {
		return nil, toStatus(err)
	}
	return modelToProto(m)
}

func (s *server) Save(ctx context.Context, req *flavorv1.SaveRequest) (*flavorv1.SaveResponse, error) {
	r, err := s.impl.Save(ctx, &SaveRequest{Path: req.Path, DestDir: req.DestDir, PythonVersion: req.PythonVersion, Installed: req.Installed})
	if err != nil {
		return nil, toStatus(err)
	}
	info, err := modelToProto(r.Model)
	if err != nil {
		return nil, err
	}
	return &flavorv1.SaveResponse{Info: info, Files: r.Files}, nil
}

// Predict serves a Predictor's sessions: the first request names the
// model, then each batch gets its predictions or its error.
func (s *server) Predict(stream flavorv1.Flavor_PredictServer) error {
	pr, ok := s.impl.(Predictor)
	if !ok {
		return status.Error(codes.Unimplemented, "this flavor does not predict")
	}
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	sess, err := pr.LoadPredictor(ctx, first.ModelDir)
	if err != nil {
		return toStatus(err)
	}
	defer sess.Close()
	req := first
	for {
		if req.Batch == nil {
			if err := stream.Send(&flavorv1.PredictResponse{Ready: true}); err != nil {
				return err
			}
		} else {
			resp := &flavorv1.PredictResponse{}
			b := &Batch{Columns: req.Batch.Columns}
			var params map[string]any
			err := json.Unmarshal([]byte(req.Batch.RowsJson), &b.Rows)
			if err == nil && req.ParamsJson != "" {
				err = json.Unmarshal([]byte(req.ParamsJson), &params)
			}
			if err != nil {
				resp.Error = "malformed batch: " + err.Error()
			} else if out, err := sess.Predict(ctx, b, params); err != nil {
				resp.Error = err.Error()
			} else {
				resp.PredictionsJson = string(out)
			}
			if err := stream.Send(resp); err != nil {
				return err
			}
		}
		if req, err = stream.Recv(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}
