package flavor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Error kinds; they keep their kind across the process boundary (as gRPC
// status codes).
var (
	// ErrInvalidModel: the file is not a model of this flavor, is broken,
	// or would run code when loaded.
	ErrInvalidModel = errors.New("invalid model")
	// ErrNotFound: the file does not exist.
	ErrNotFound = errors.New("model file not found")
	// ErrUnsupported: the flavor does not implement the call.
	ErrUnsupported = errors.New("unsupported")
)

// Invalid returns an ErrInvalidModel error with a reason.
func Invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidModel, fmt.Sprintf(format, args...))
}

// ReadFile reads a model file whole, giving a missing one ErrNotFound and
// an unreadable one ErrInvalidModel, each naming the path.
func ReadFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if err != nil {
		return nil, Invalid("%s: %v", path, err)
	}
	return data, nil
}

// Description names a flavor.
type Description struct {
	Name         string   // the MLmodel flavor key, e.g. "sklearn"
	Version      string   // the plugin's version
	FilePatterns []string // e.g. "*.pkl", "*.joblib"
	Description  string
}

// InspectRequest asks to read a model file or folder.
type InspectRequest struct {
	Path string
}

// Model is what a flavor read from a model file.
type Model struct {
	// Facts are what the file says, for people (class, library version, …).
	Facts map[string]string
	// Flavor is the MLmodel flavor block.
	Flavor map[string]any
	// LoaderModule is the python_function loader ("" for none).
	LoaderModule string
	// PyfuncExtra are more python_function keys (model_path, data, predict_fn).
	PyfuncExtra map[string]any
	// SignatureInputs and SignatureOutputs are MLflow's JSON strings ("" if unknown).
	SignatureInputs  string
	SignatureOutputs string
	// Requirements are pip requirements pinned to the versions read.
	Requirements []string
	// PythonVersion is the Python the model was saved with, if known.
	PythonVersion string
	// ModelFile is the model file's name inside the saved directory.
	ModelFile string
}

// SaveRequest asks to write an MLflow model directory.
type SaveRequest struct {
	Path    string // the model file
	DestDir string // a missing or empty folder
	// PythonVersion and Installed describe the environment that logs the
	// model (MLflow pins to the logging process's own): its Python version
	// and the installed version of each pip package asked about. Either may
	// be empty; SaveModel pins the requirements Inspect left unpinned.
	PythonVersion string
	Installed     map[string]string
}

// SaveResponse is what Save wrote.
type SaveResponse struct {
	Model *Model
	Files []string // relative to DestDir
}

// Flavor reads and saves models of one kind. Every method takes a
// context; a flavor should stop when it is done. Methods must be safe
// for concurrent use.
type Flavor interface {
	Describe(ctx context.Context) (*Description, error)
	// Inspect reads req.Path without executing anything in it.
	Inspect(ctx context.Context, req *InspectRequest) (*Model, error)
	// Save writes an MLflow model directory for req.Path into req.DestDir.
	Save(ctx context.Context, req *SaveRequest) (*SaveResponse, error)
}

// Batch is a batch of input rows to predict: named columns (or none), and
// rows of JSON values (float64, string, bool, nil, …) in column order.
type Batch struct {
	Columns []string
	Rows    [][]any
}

// Predictor is a flavor's optional serving capability (the protocol's
// Predict): it loads a saved MLflow model folder once and predicts
// batches with it.
type Predictor interface {
	LoadPredictor(ctx context.Context, modelDir string) (Session, error)
}

// Session is a loaded model. Predict returns a batch's predictions as a
// JSON value written as MLflow writes them; an error is the batch's bad
// input. Sessions are used by one caller at a time.
type Session interface {
	Predict(ctx context.Context, b *Batch, params map[string]any) (json.RawMessage, error)
	Close() error
}
