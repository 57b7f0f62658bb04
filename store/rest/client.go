package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// DefaultCallTimeout bounds one JSON API call (and the wait for any
// response's headers) when the caller's context sets no deadline.
const DefaultCallTimeout = 120 * time.Second

// Client talks to one tracking server.
type Client struct {
	base    string // scheme://host[:port][/prefix], no trailing slash
	hc      *http.Client
	auth    func(*http.Request)
	timeout time.Duration
}

// Options configure a Client. Zero values come from the environment.
type Options struct {
	// HTTPClient overrides the client built from the environment.
	HTTPClient *http.Client
	Token      string // MLFLOW_TRACKING_TOKEN
	Username   string // MLFLOW_TRACKING_USERNAME
	Password   string // MLFLOW_TRACKING_PASSWORD
	Insecure   bool   // MLFLOW_TRACKING_INSECURE_TLS
	// CallTimeout bounds a JSON call and the wait for response headers;
	// 0 means DefaultCallTimeout. Bodies (artifact transfers) have no
	// whole-request timeout.
	CallTimeout time.Duration
}

// OptionsFromEnv reads MLflow's tracking client variables.
func OptionsFromEnv() Options {
	return Options{
		Token:    os.Getenv("MLFLOW_TRACKING_TOKEN"),
		Username: os.Getenv("MLFLOW_TRACKING_USERNAME"),
		Password: os.Getenv("MLFLOW_TRACKING_PASSWORD"),
		Insecure: strings.EqualFold(os.Getenv("MLFLOW_TRACKING_INSECURE_TLS"), "true"),
	}
}

// New returns a client of the server at uri (http:// or https://).
func New(uri string, opts Options) (*Client, error) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tracking URI %q: want http://host:port or https://host:port", redact(uri))
	}
	if u.User != nil && opts.Username == "" {
		opts.Username = u.User.Username()
		opts.Password, _ = u.User.Password()
	}
	u.User = nil
	if opts.CallTimeout == 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	hc := opts.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if opts.Insecure {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		}
		// No whole-request timeout: an artifact transfer may take long.
		// A server that does not answer is cut by the header timeout, a
		// JSON call by its context (CallTimeout).
		tr.ResponseHeaderTimeout = opts.CallTimeout
		hc = &http.Client{Transport: tr}
	}
	c := &Client{base: strings.TrimRight(u.String(), "/"), hc: hc, timeout: opts.CallTimeout}
	switch {
	case opts.Token != "":
		c.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+opts.Token) }
	case opts.Username != "":
		c.auth = func(r *http.Request) { r.SetBasicAuth(opts.Username, opts.Password) }
	default:
		c.auth = func(*http.Request) {}
	}
	return c, nil
}

// redact hides a password in a URI for messages.
func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	return u.Redacted()
}

// BaseURL returns the server's base URL (without credentials).
func (c *Client) BaseURL() string { return c.base }

// Do sends an authenticated request to path (below the base URL), for
// callers outside this package such as the artifact proxy client.
func (c *Client) Do(ctx context.Context, method, path string, body io.Reader, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	c.auth(req)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}

// call sends one API request: GET with query parameters, other methods
// with a JSON body, and decodes the JSON response into out.
func (c *Client) call(ctx context.Context, method, endpoint string, in, out any) error {
	return c.callPath(ctx, method, "/api/2.0/mlflow"+endpoint, in, out)
}

// callPath is call for a path below the base URL (MLflow 3's
// /api/3.0/mlflow/… endpoints).
func (c *Client) callPath(ctx context.Context, method, path string, in, out any) error {
	endpoint := path
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var body io.Reader
	h := http.Header{}
	if method == http.MethodGet {
		if q := query(in); q != "" {
			path += "?" + q
		}
	} else {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s request: %w", endpoint, err)
		}
		body = bytes.NewReader(b)
		h.Set("Content-Type", "application/json")
	}
	var resp *http.Response
	var err error
	for attempt := 0; ; attempt++ {
		if body != nil {
			body.(*bytes.Reader).Seek(0, io.SeekStart)
		}
		resp, err = c.Do(ctx, method, path, body, h)
		if err != nil {
			return err
		}
		// Retry what MLflow's client retries when the server is busy.
		if (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && attempt < 4 {
			resp.Body.Close()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
			}
			continue
		}
		break
	}
	defer resp.Body.Close()
	return decodeResponse(resp, endpoint, out)
}

// DecodeResponse reads an API response: the JSON body into out on 200,
// else MLflow's error body as a store error of the matching kind.
func decodeResponse(resp *http.Response, endpoint string, out any) error {
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: read response: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb wire.ErrorBody
		if resp.StatusCode == http.StatusNotFound && (json.Unmarshal(b, &eb) != nil || eb.ErrorCode == "") {
			// A web framework's page, not MLflow's error: the server lacks
			// the endpoint (an MLflow too old for it, or not MLflow).
			return store.Errorf(store.ErrUnsupported, "the tracking server has no %s endpoint (404 without MLflow's error body): is it an MLflow release older than this feature?", endpoint)
		}
		return ResponseError(resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: malformed response: %w", endpoint, err)
	}
	return nil
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// ResponseError turns a non-200 answer into an error: MLflow's error body
// becomes the store error kind of its code, with the server's message.
func ResponseError(status int, body []byte) error {
	var eb wire.ErrorBody
	if json.Unmarshal(body, &eb) != nil || eb.ErrorCode == "" {
		// One line: an HTML page's text, whitespace folded.
		msg := strings.Join(strings.Fields(htmlTag.ReplaceAllString(string(body), " ")), " ")
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return fmt.Errorf("tracking server answered %d: %s", status, msg)
	}
	switch eb.ErrorCode {
	case "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND":
		return store.Errorf(store.ErrNotFound, "%s", eb.Message)
	case "RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS":
		return store.Errorf(store.ErrAlreadyExists, "%s", eb.Message)
	case "INVALID_PARAMETER_VALUE", "BAD_REQUEST":
		return store.Errorf(store.ErrInvalidArgument, "%s", eb.Message)
	case "INVALID_STATE":
		return store.Errorf(store.ErrInvalidState, "%s", eb.Message)
	case "NOT_IMPLEMENTED", "ENDPOINT_NOT_FOUND":
		return store.Errorf(store.ErrUnsupported, "%s", eb.Message)
	}
	return fmt.Errorf("tracking server error %s: %s", eb.ErrorCode, eb.Message)
}

// query encodes a request message as query parameters: each JSON field,
// lists as repeated keys.
func query(in any) string {
	b, err := json.Marshal(in)
	if err != nil {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	v := url.Values{}
	for k, x := range m {
		switch x := x.(type) {
		case []any:
			for _, e := range x {
				v.Add(k, fmt.Sprint(e))
			}
		case float64:
			v.Set(k, strings.TrimSuffix(fmt.Sprintf("%.0f", x), ".0"))
		default:
			v.Set(k, fmt.Sprint(x))
		}
	}
	return v.Encode()
}
