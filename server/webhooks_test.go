package server_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry/webhook"
	"github.com/mlrun/mlrun/server"
)

// received is one delivery a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint on loopback that records what it gets
// and answers 200, but 503 to the first delivery whose body holds
// failOnce (when set).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	failOnce string
	arrived  chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{arrived: make(chan struct{}, 100)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Clone(), b})
		status := 200
		if rc.failOnce != "" && strings.Contains(string(b), rc.failOnce) {
			status, rc.failOnce = 503, ""
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, "thanks")
		rc.arrived <- struct{}{}
	}))
	t.Cleanup(rc.Close)
	return rc
}

// wait returns the first n deliveries, failing the test after 10 s.
func (rc *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	for {
		rc.mu.Lock()
		got := append([]received(nil), rc.got...)
		rc.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-rc.arrived:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d deliveries arrived, want %d", len(got), n)
		}
	}
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// hooksServer starts a server that delivers webhooks to loopback over
// http (what MLflow allows with MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https
// and MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true), retrying after 10 ms.
func hooksServer(t *testing.T) (*testutil.Server, *webhook.Deliverer) {
	d := webhook.New(webhook.Options{AllowedSchemes: []string{"http", "https"}, AllowPrivate: true, Backoff: 10 * time.Millisecond})
	t.Cleanup(d.Close)
	return testutil.StartServer(t, true, func(o *server.Options) { o.Webhooks = d }), d
}

func callJSON(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	status, b, _ := send(t, req)
	var m map[string]any
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		t.Fatalf("%s %s: %d %s", method, url, status, b)
	}
	return status, m
}

// TestWebhooksDeliverRegistryEvents: a webhook made through MLflow's REST
// API receives the registry events it subscribed to, signed as MLflow
// signs them, with MLflow's payloads; not the others, nor a prompt's
// (prompt events, not subscribed), nor anything once disabled; a 503 is
// retried with the same delivery id.
func TestWebhooksDeliverRegistryEvents(t *testing.T) {
	srv, _ := hooksServer(t)
	rc := newReceiver(t)
	api := srv.URL + "/api/2.0/mlflow"
	code, resp := callJSON(t, "POST", api+"/webhooks", `{"name":"deploy","url":"`+rc.URL+`/hook","secret":"s3cr3t","description":"to CI",
		"events":[{"entity":"MODEL_VERSION","action":"CREATED"},{"entity":"model_version_alias","action":"created"},{"entity":4,"action":3}]}`)
	if code != 200 {
		t.Fatalf("create webhook: %d %v", code, resp)
	}
	hook := resp["webhook"].(map[string]any)
	id, _ := hook["webhook_id"].(string)
	events, _ := json.Marshal(hook["events"])
	if id == "" || hook["status"] != "ACTIVE" || hook["name"] != "deploy" || hook["description"] != "to CI" || hook["secret"] != nil ||
		string(events) != `[{"action":"CREATED","entity":"MODEL_VERSION"},{"action":"CREATED","entity":"MODEL_VERSION_ALIAS"},{"action":"DELETED","entity":"MODEL_VERSION_ALIAS"}]` {
		t.Fatalf("the webhook as created: %v", hook)
	}
	// The secret is kept encrypted (a Fernet token), never in clear.
	db, err := sql.Open("sqlite3", filepath.Join(srv.Dir, "mlflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored string
	if err := db.QueryRow(`SELECT secret FROM webhooks WHERE webhook_id = ?`, id).Scan(&stored); err != nil || !strings.HasPrefix(stored, "gAAAAA") || strings.Contains(stored, "s3cr3t") {
		t.Fatalf("the stored secret: %q %v", stored, err)
	}

	// Deliveries run in parallel: the 503 goes to model_version.created's,
	// whichever arrives first.
	rc.mu.Lock()
	rc.failOnce = `"entity":"model_version","action":"created"`
	rc.mu.Unlock()
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/registered-models/create", `{"name":"wine"}`},
		{"POST", "/model-versions/create", `{"name":"wine","source":"s3://bucket/wine/model","run_id":"","description":"first"}`},
		{"POST", "/registered-models/alias", `{"name":"wine","alias":"champion","version":"1"}`},
		{"POST", "/model-versions/set-tag", `{"name":"wine","version":"1","key":"k","value":"v"}`},
		{"DELETE", "/registered-models/alias", `{"name":"wine","alias":"champion"}`},
		{"POST", "/registered-models/create", `{"name":"a-prompt","tags":[{"key":"mlflow.prompt.is_prompt","value":"true"}]}`},
		{"POST", "/model-versions/create", `{"name":"a-prompt","source":"s3://bucket/p","tags":[{"key":"mlflow.prompt.is_prompt","value":"true"}]}`},
		{"POST", "/registered-models/alias", `{"name":"a-prompt","alias":"prod","version":"1"}`},
	} {
		if code, resp := callJSON(t, c.method, api+c.path, c.body); code != 200 {
			t.Fatalf("%s %s: %d %v", c.method, c.path, code, resp)
		}
	}
	got := rc.wait(t, 4) // version created (twice: a 503, then 200), alias created, alias deleted
	time.Sleep(200 * time.Millisecond)
	if n := rc.count(); n != 4 {
		t.Fatalf("%d deliveries, want 4 (registered_model.created, the tag and the prompt's events are not subscribed or not fired)", n)
	}
	type payload struct {
		Entity, Action, Timestamp string
		Data                      map[string]any
	}
	var kinds []string
	for i, g := range got {
		var p payload
		if err := json.Unmarshal(g.body, &p); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, p.Entity+"."+p.Action)
		id, ts, sig := g.header.Get("X-MLflow-Delivery-Id"), g.header.Get("X-MLflow-Timestamp"), g.header.Get("X-MLflow-Signature")
		mac := hmac.New(sha256.New, []byte("s3cr3t"))
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(g.body)
		if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); sig != want || len(id) != 36 || g.header.Get("Content-Type") != "application/json" {
			t.Errorf("delivery %d: id %q timestamp %q signature %q, want %q", i, id, ts, sig, want)
		}
		if _, err := time.Parse(time.RFC3339Nano, p.Timestamp); err != nil || !strings.HasSuffix(p.Timestamp, "+00:00") {
			t.Errorf("delivery %d: timestamp %q", i, p.Timestamp)
		}
		data, _ := json.Marshal(p.Data)
		switch p.Entity + "." + p.Action {
		case "model_version.created":
			if string(data) != `{"description":"first","name":"wine","run_id":null,"source":"s3://bucket/wine/model","tags":{},"version":"1"}` {
				t.Errorf("model_version.created's data: %s", data)
			}
		case "model_version_alias.created":
			if string(data) != `{"alias":"champion","name":"wine","version":"1"}` {
				t.Errorf("alias created's data: %s", data)
			}
		case "model_version_alias.deleted":
			if string(data) != `{"alias":"champion","name":"wine"}` {
				t.Errorf("alias deleted's data: %s", data)
			}
		}
	}
	// Deliveries run in parallel: their order is not the events'.
	slices.Sort(kinds)
	if strings.Join(kinds, ",") != "model_version.created,model_version.created,model_version_alias.created,model_version_alias.deleted" {
		t.Errorf("deliveries: %v", kinds)
	}
	ids := map[string]int{}
	for _, g := range got {
		ids[g.header.Get("X-MLflow-Delivery-Id")]++
	}
	if len(ids) != 3 {
		t.Errorf("delivery ids %v: the retried one should come twice, the others once", ids)
	}

	// Disabled: nothing more. The list and get never show the secret.
	if code, resp := callJSON(t, "PATCH", api+"/webhooks/"+id, `{"status":"DISABLED"}`); code != 200 || resp["webhook"].(map[string]any)["status"] != "DISABLED" {
		t.Fatalf("disable: %d %v", code, resp)
	}
	callJSON(t, "POST", api+"/model-versions/create", `{"name":"wine","source":"s3://bucket/wine/model2"}`)
	time.Sleep(300 * time.Millisecond)
	if n := rc.count(); n != 4 {
		t.Errorf("a disabled webhook got a delivery (%d)", n)
	}
	if code, resp := callJSON(t, "GET", api+"/webhooks?max_results=10", ""); code != 200 || len(resp["webhooks"].([]any)) != 1 || strings.Contains(asJSON(resp), "s3cr3t") {
		t.Errorf("list: %d %v", code, resp)
	}

	// The test endpoint sends the first event's example, signed, and
	// reports the answer (a disabled webhook too).
	code, resp = callJSON(t, "POST", api+"/webhooks/"+id+"/test", `{}`)
	res, _ := resp["result"].(map[string]any)
	if code != 200 || res["success"] != true || res["response_status"] != float64(200) || res["response_body"] != "thanks" {
		t.Fatalf("test: %d %v", code, resp)
	}
	last := rc.wait(t, 5)[4]
	if !strings.Contains(string(last.body), `"example_model"`) || last.header.Get("X-MLflow-Signature") == "" {
		t.Errorf("the test delivery: %s %v", last.body, last.header)
	}
	code, resp = callJSON(t, "POST", api+"/webhooks/"+id+"/test", `{"event":{"entity":"MODEL_VERSION_ALIAS","action":"DELETED"}}`)
	if code != 200 || !strings.Contains(string(rc.wait(t, 6)[5].body), `"action":"deleted"`) {
		t.Errorf("test of a chosen event: %d %v", code, resp)
	}

	if code, _ := callJSON(t, "DELETE", api+"/webhooks/"+id, ""); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if code, resp := callJSON(t, "GET", api+"/webhooks/"+id, ""); code != 404 || resp["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
		t.Errorf("get after delete: %d %v", code, resp)
	}
}

// TestWebhooksDeliverPromptEvents: a prompt's changes (a registered
// model tagged mlflow.prompt.is_prompt, as MLflow's register_prompt makes
// it) fire MLflow's prompt events instead of the registry's, with their
// payloads: the template out of the version's tags, the tags that make it
// a prompt left out; a model's changes still fire the model's events, and
// its tags none. The test endpoint sends each prompt event's example.
func TestWebhooksDeliverPromptEvents(t *testing.T) {
	srv, _ := hooksServer(t)
	rc := newReceiver(t)
	api := srv.URL + "/api/2.0/mlflow"
	var events []string
	for _, e := range []string{"PROMPT.CREATED", "PROMPT_VERSION.CREATED", "PROMPT_TAG.SET", "PROMPT_TAG.DELETED", "PROMPT_VERSION_TAG.SET",
		"PROMPT_VERSION_TAG.DELETED", "PROMPT_ALIAS.CREATED", "PROMPT_ALIAS.DELETED", "MODEL_VERSION.CREATED", "MODEL_VERSION_TAG.SET"} {
		entity, action, _ := strings.Cut(e, ".")
		events = append(events, `{"entity":"`+entity+`","action":"`+action+`"}`)
	}
	code, resp := callJSON(t, "POST", api+"/webhooks", `{"name":"prompts","url":"`+rc.URL+`/hook","events":[`+strings.Join(events, ",")+`]}`)
	if code != 200 {
		t.Fatalf("create webhook: %d %v", code, resp)
	}
	id := resp["webhook"].(map[string]any)["webhook_id"].(string)
	isPrompt := `{"key":"mlflow.prompt.is_prompt","value":"true"}`
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/registered-models/create", `{"name":"greet","description":"greets","tags":[` + isPrompt + `,{"key":"team","value":"nlp"}]}`},
		{"POST", "/model-versions/create", `{"name":"greet","source":"dummy-source","description":"first","tags":[` + isPrompt +
			`,{"key":"mlflow.prompt.text","value":"Hello {{name}}!"},{"key":"_mlflow_prompt_type","value":"text"},{"key":"lang","value":"en"}]}`},
		{"POST", "/registered-models/set-tag", `{"name":"greet","key":"owner","value":"ann"}`},
		{"DELETE", "/registered-models/delete-tag", `{"name":"greet","key":"owner"}`},
		{"POST", "/model-versions/set-tag", `{"name":"greet","version":"1","key":"reviewed","value":"yes"}`},
		{"DELETE", "/model-versions/delete-tag", `{"name":"greet","version":"1","key":"reviewed"}`},
		{"POST", "/registered-models/alias", `{"name":"greet","alias":"production","version":"1"}`},
		{"DELETE", "/registered-models/alias", `{"name":"greet","alias":"production"}`},
		{"POST", "/registered-models/create", `{"name":"wine"}`},
		{"POST", "/registered-models/set-tag", `{"name":"wine","key":"owner","value":"ann"}`},
		{"POST", "/model-versions/create", `{"name":"wine","source":"s3://bucket/wine/model"}`},
	} {
		if code, resp := callJSON(t, c.method, api+c.path, c.body); code != 200 {
			t.Fatalf("%s %s: %d %v", c.method, c.path, code, resp)
		}
	}
	want := map[string]string{
		"prompt.created":             `{"description":"greets","name":"greet","tags":{"team":"nlp"}}`,
		"prompt_version.created":     `{"description":"first","name":"greet","tags":{"lang":"en"},"template":"Hello {{name}}!","version":"1"}`,
		"prompt_tag.set":             `{"key":"owner","name":"greet","value":"ann"}`,
		"prompt_tag.deleted":         `{"key":"owner","name":"greet"}`,
		"prompt_version_tag.set":     `{"key":"reviewed","name":"greet","value":"yes","version":"1"}`,
		"prompt_version_tag.deleted": `{"key":"reviewed","name":"greet","version":"1"}`,
		"prompt_alias.created":       `{"alias":"production","name":"greet","version":"1"}`,
		"prompt_alias.deleted":       `{"alias":"production","name":"greet"}`,
		"model_version.created":      `{"description":null,"name":"wine","run_id":null,"source":"s3://bucket/wine/model","tags":{},"version":"1"}`,
	}
	got := rc.wait(t, len(want))
	time.Sleep(200 * time.Millisecond)
	if n := rc.count(); n != len(want) {
		t.Fatalf("%d deliveries, want %d", n, len(want))
	}
	for _, g := range got {
		var p struct {
			Entity, Action string
			Data           map[string]any
		}
		if err := json.Unmarshal(g.body, &p); err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(p.Data)
		kind := p.Entity + "." + p.Action
		if w, ok := want[kind]; !ok || string(data) != w {
			t.Errorf("%s's data: %s, want %s", kind, data, w)
		}
		delete(want, kind)
	}
	if len(want) != 0 {
		t.Errorf("not delivered: %v", want)
	}

	code, resp = callJSON(t, "POST", api+"/webhooks/"+id+"/test", `{"event":{"entity":"PROMPT_VERSION","action":"CREATED"}}`)
	if res, _ := resp["result"].(map[string]any); code != 200 || res["success"] != true {
		t.Fatalf("test: %d %v", code, resp)
	}
	body := string(rc.wait(t, 10)[9].body)
	if !strings.Contains(body, `"template":"Hello {{name}}!"`) || !strings.Contains(body, `"name":"example_prompt"`) || !strings.Contains(body, `"entity":"prompt_version"`) {
		t.Errorf("the test delivery of prompt_version.created: %s", body)
	}
}

// TestWebhookRefusals: MLflow's defaults take https URLs to public
// addresses only; bad events, statuses and URLs are 400 with the reason,
// and nothing is kept.
func TestWebhookRefusals(t *testing.T) {
	srv := testutil.StartServer(t, true) // MLflow's default rules
	api := srv.URL + "/api/2.0/mlflow"
	for _, tc := range []struct{ body, want string }{
		{`{"name":"n","url":"http://hooks.example.com/x","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}`, "Invalid webhook URL scheme 'http': allowed schemes are https"},
		{`{"name":"n","url":"https://127.0.0.1:8443/x","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}`, "127.0.0.1 is not a public address"},
		{`{"name":"n","url":"https://169.254.169.254/latest/meta-data","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}`, "169.254.169.254 is not a public address"},
		{`{"name":"n","url":"https://localhost/x","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}`, "localhost is not a public address"},
		{`{"name":"n","url":"https://u:p@hooks.example.com/x","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}`, "credentials in the URL"},
		{`{"name":"n","url":"https://hooks.example.com/x","events":[]}`, "Missing value for required parameter 'events'"},
		{`{"name":"n","url":"https://hooks.example.com/x","events":[{"entity":"REGISTERED_MODEL","action":"DELETED"}]}`, "Invalid action 'deleted' for entity 'registered_model'"},
		{`{"name":"n","url":"https://hooks.example.com/x","status":"PAUSED","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}`, "Invalid webhook status 'PAUSED'"},
		{`{"url":"https://hooks.example.com/x","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}`, "Missing value for required parameter 'name'"},
	} {
		code, resp := callJSON(t, "POST", api+"/webhooks", tc.body)
		if msg, _ := resp["message"].(string); code != 400 || resp["error_code"] != "INVALID_PARAMETER_VALUE" || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %v, want 400 saying %q", tc.body, code, resp, tc.want)
		}
	}
	if code, resp := callJSON(t, "GET", api+"/webhooks", ""); code != 200 || len(resp["webhooks"].([]any)) != 0 {
		t.Errorf("a refusal kept something: %v", resp)
	}
	code, resp := callJSON(t, "POST", api+"/webhooks", `{"name":"ok","url":"https://hooks.example.com/x","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}`)
	if code != 200 {
		t.Fatalf("a good webhook: %d %v", code, resp)
	}
	id := resp["webhook"].(map[string]any)["webhook_id"].(string)
	if code, resp := callJSON(t, "PATCH", api+"/webhooks/"+id, `{"url":"https://10.0.0.8/x"}`); code != 400 || !strings.Contains(asJSON(resp), "10.0.0.8 is not a public address") {
		t.Errorf("update to a private address: %d %v", code, resp)
	}
	if code, resp := callJSON(t, "GET", api+"/webhooks/"+id, ""); code != 200 || resp["webhook"].(map[string]any)["url"] != "https://hooks.example.com/x" {
		t.Errorf("after a refused update: %d %v", code, resp)
	}
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
