package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// MLflow error codes used by mlrun.
const (
	codeInvalidParameter       = "INVALID_PARAMETER_VALUE"
	codeNotFound               = "RESOURCE_DOES_NOT_EXIST"
	codeAlreadyExists          = "RESOURCE_ALREADY_EXISTS"
	codeInvalidState           = "INVALID_STATE"
	codeInternal               = "INTERNAL_ERROR"
	codeNotImplemented         = "NOT_IMPLEMENTED"
	codeEndpointNotFound       = "ENDPOINT_NOT_FOUND"
	codeTemporarilyUnavailable = "TEMPORARILY_UNAVAILABLE"
	codePermissionDenied       = "PERMISSION_DENIED"
)

// httpStatus is MLflow's HTTP status for each error code
// (mlflow/exceptions.py).
var httpStatus = map[string]int{
	codeInvalidParameter:       http.StatusBadRequest,
	"BAD_REQUEST":              http.StatusBadRequest,
	codeAlreadyExists:          http.StatusBadRequest,
	codeNotFound:               http.StatusNotFound,
	codeEndpointNotFound:       http.StatusNotFound,
	codeInvalidState:           http.StatusInternalServerError,
	codeInternal:               http.StatusInternalServerError,
	codeNotImplemented:         http.StatusNotImplemented,
	codeTemporarilyUnavailable: http.StatusServiceUnavailable,
	"REQUEST_LIMIT_EXCEEDED":   http.StatusTooManyRequests,
	codePermissionDenied:       http.StatusForbidden,
}

// apiError is an error raised by the server itself with an MLflow code.
type apiError struct {
	code string
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func invalidParam(msg string) error { return &apiError{codeInvalidParameter, msg} }

func missingParam(name string) error {
	return invalidParam("Missing value for required parameter '" + name + "'. See the API docs for more information about request parameters.")
}

// classify turns any error into MLflow's error code and message. It is the
// only place that knows the mapping.
func classify(err error) (code, msg string) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.code, ae.msg
	case errors.Is(err, store.ErrNotFound), errors.Is(err, artifact.ErrNotFound):
		return codeNotFound, err.Error()
	case errors.Is(err, store.ErrAlreadyExists):
		return codeAlreadyExists, err.Error()
	case errors.Is(err, store.ErrInvalidArgument), errors.Is(err, artifact.ErrInvalidPath), errors.Is(err, artifact.ErrInvalidUpload):
		return codeInvalidParameter, err.Error()
	case errors.Is(err, store.ErrInvalidState):
		return codeInvalidState, err.Error()
	case errors.Is(err, artifact.ErrForbidden):
		return codePermissionDenied, err.Error()
	case errors.Is(err, store.ErrUnsupported), errors.Is(err, artifact.ErrUnsupported):
		return codeNotImplemented, err.Error()
	}
	return codeInternal, "internal error: see the server log"
}

// writeError writes MLflow's error body; internal errors are logged with
// their detail, which the client does not see.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := classify(err)
	if code == codeInternal {
		slog.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status, ok := httpStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, wire.ErrorBody{ErrorCode: code, Message: msg})
}
