package store

import (
	"errors"
	"fmt"
)

// Error kinds. Every error a Store returns for a caller mistake matches one
// of these with errors.Is; anything else is an internal failure.
var (
	// ErrNotFound: the experiment, run, tag or key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a name that must be unique is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalidArgument: the request itself is wrong (bad value, bad
	// filter, changed param, limits exceeded, inactive run).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrInvalidState: the object is in a state that forbids the change
	// (e.g. renaming a deleted experiment). MLflow reports it as a 500.
	ErrInvalidState = errors.New("invalid state")
	// ErrUnsupported: this store cannot do that (e.g. MLflow 3 logged
	// models on a database at MLflow 2.17.2's schema).
	ErrUnsupported = errors.New("unsupported")
)

// Error is a detailed error whose message is shown to users as is and
// whose Is matches its Kind.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Is reports whether target is e's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundf is Errorf(ErrNotFound, ...).
func NotFoundf(format string, args ...any) error { return Errorf(ErrNotFound, format, args...) }

// Invalidf is Errorf(ErrInvalidArgument, ...).
func Invalidf(format string, args ...any) error {
	return Errorf(ErrInvalidArgument, format, args...)
}
