package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// decode reads a request message into v as MLflow's handlers read one
// (_get_request_message): a GET's query string when it has one (a
// repeated field's key may repeat), else the JSON body; DELETE and PATCH
// take the JSON body over the same fields in the query; POST and PUT the
// JSON body alone. Unknown fields are ignored, but a struct field's name
// must be written as it is (see exactKeys); a body that is a JSON string
// holding JSON (old clients) is decoded twice; a missing body is {}.
// The permission check reads the same fields the same way
// (requestParams): what it checks is what the handler acts on.
func decode(r *http.Request, v any) error {
	switch r.Method {
	case http.MethodGet, http.MethodDelete, http.MethodPatch:
		if err := decodeQuery(r, v); err != nil {
			return err
		}
		if !readsBody(r) {
			return nil
		}
	case http.MethodPost, http.MethodPut:
		if !readsBody(r) {
			return invalidParam(fmt.Sprintf("Bad Request. Content-Type must be one of [application/json], got '%s'", r.Header.Get("Content-Type")))
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return invalidParam(fmt.Sprintf("request body is larger than the limit of %d bytes", mbe.Limit))
		}
		return invalidParam("could not read the request body: " + err.Error())
	}
	if body, err = message(body); err != nil || len(body) == 0 {
		return err
	}
	if err := exactKeys(body, reflect.TypeOf(v)); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return invalidParam("malformed JSON in the request body: " + jsonErr(err))
	}
	return nil
}

// readsBody reports whether decode reads r's body: a POST's or PUT's of
// type application/json; a GET's without a query string, as MLflow's
// handlers do; a DELETE's or PATCH's when it has one.
func readsBody(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut:
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return mt == "application/json"
	case http.MethodGet:
		return len(r.URL.Query()) == 0 && r.ContentLength != 0
	}
	return r.ContentLength != 0
}

// readsQuery reports whether decode reads r's query string: every
// request's but a POST's or PUT's of JSON (whose handlers take the body
// alone) and a GET's without one.
func readsQuery(r *http.Request) bool {
	return !((r.Method == http.MethodPost || r.Method == http.MethodPut) && readsBody(r))
}

// message is a request body as a JSON message: trimmed, and a JSON string
// holding the JSON (what older clients post) unwrapped.
func message(body []byte) ([]byte, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '"' {
		var inner string
		if err := json.Unmarshal(body, &inner); err != nil {
			return nil, invalidParam("malformed JSON in the request body: " + err.Error())
		}
		body = bytes.TrimSpace([]byte(inner))
	}
	return body, nil
}

func jsonErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field '%s' should be of type %s, got JSON %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// decodeQuery maps query parameters onto v's JSON fields: slice fields
// take every value of a repeated key, others the first one.
func decodeQuery(r *http.Request, v any) error {
	q := r.URL.Query()
	if len(q) == 0 {
		return nil
	}
	fields := map[string]bool{} // json name → repeated
	collect(reflect.TypeOf(v).Elem(), fields)
	m := map[string]any{}
	for k, vals := range q {
		repeated, ok := fields[k]
		if !ok {
			continue
		}
		if repeated {
			m[k] = vals
		} else {
			m[k] = vals[0]
		}
	}
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, v); err != nil {
		return invalidParam("invalid query parameter: " + jsonErr(err))
	}
	return nil
}

func collect(t reflect.Type, fields map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			collect(f.Type, fields)
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type.Kind() == reflect.Slice
	}
}

// require checks that each named value is present and not "".
func require(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return missingParam(pairs[i])
		}
	}
	return nil
}

// streamer is a response that writes itself: as it is produced (a long
// history, a search page), or without encoding/json (a run); handle
// calls stream instead of encoding it.
type streamer interface {
	stream(w http.ResponseWriter, r *http.Request)
}

// arrayStream writes a JSON object whose first field is an array, one
// element at a time as they are produced, in 32 KiB writes; the status
// and headers go out with the first element.
type arrayStream struct {
	w       http.ResponseWriter
	open    string // the object's start up to the array's '['
	buf     []byte
	started bool
}

// add appends one element (appendTo appends its JSON to a buffer).
func (a *arrayStream) add(appendTo func([]byte) []byte) error {
	if !a.started {
		a.w.Header().Set("Content-Type", "application/json")
		a.w.WriteHeader(http.StatusOK)
		a.buf = append(make([]byte, 0, 40<<10), a.open...)
		a.started = true
	} else {
		a.buf = append(a.buf, ',')
	}
	a.buf = appendTo(a.buf)
	if len(a.buf) >= 32<<10 {
		_, err := a.w.Write(a.buf)
		a.buf = a.buf[:0]
		return err
	}
	return nil
}

// finish ends the response after the last element: err, the producer's
// error, is the response when nothing was sent yet; empty is the whole
// response when there were no elements; otherwise the array is closed and
// tail (more fields, from their ',') and the object's '}' end it.
func (a *arrayStream) finish(r *http.Request, err error, empty any, tail []byte) {
	switch {
	case err != nil && !a.started:
		writeError(a.w, r, err)
	case err != nil:
		// The status is sent: break the response rather than end it
		// as if it were whole.
		panic(http.ErrAbortHandler)
	case !a.started:
		writeJSON(a.w, http.StatusOK, empty)
	default:
		a.buf = append(append(append(a.buf, ']'), tail...), '}')
		a.w.Write(a.buf)
	}
}

// writeJSON writes v as the response body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error_code": "INTERNAL_ERROR", "message": "could not encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
