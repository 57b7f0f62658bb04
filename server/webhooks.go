package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/registry/webhook"
	"github.com/mlrun/mlrun/store"
)

// webhookRoutes registers MLflow 3's webhook endpoints.
func (s *Server) webhookRoutes(prefix string) {
	for pattern, h := range map[string]http.HandlerFunc{
		"POST " + prefix + "/webhooks":                   s.createWebhook,
		"GET " + prefix + "/webhooks":                    s.listWebhooks,
		"GET " + prefix + "/webhooks/{webhook_id}":       s.getWebhook,
		"PATCH " + prefix + "/webhooks/{webhook_id}":     s.updateWebhook,
		"DELETE " + prefix + "/webhooks/{webhook_id}":    s.deleteWebhook,
		"POST " + prefix + "/webhooks/{webhook_id}/test": s.testWebhook,
	} {
		s.route(pattern, s.limitBody(h))
	}
}

// The proto enums of webhooks.proto, by number.
var (
	webhookEntities = []string{"ENTITY_UNSPECIFIED", "REGISTERED_MODEL", "MODEL_VERSION", "MODEL_VERSION_TAG", "MODEL_VERSION_ALIAS",
		"PROMPT", "PROMPT_VERSION", "PROMPT_TAG", "PROMPT_VERSION_TAG", "PROMPT_ALIAS"}
	webhookActions  = []string{"ACTION_UNSPECIFIED", "CREATED", "UPDATED", "DELETED", "SET"}
	webhookStatuses = []string{"STATUS_UNSPECIFIED", registry.StatusActive, registry.StatusDisabled}
)

// enumName is a proto enum in JSON: its name (any case) or its number.
type enumName string

func (e *enumName) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*e = enumName(strings.ToUpper(s))
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*e = enumName("#" + strconv.Itoa(n))
	return nil
}

// of resolves a number against names ("" when unknown).
func (e enumName) of(names []string) string {
	if n, ok := strings.CutPrefix(string(e), "#"); ok {
		i, _ := strconv.Atoi(n)
		if i > 0 && i < len(names) {
			return names[i]
		}
		return n
	}
	return string(e)
}

type webhookEventJSON struct {
	Entity enumName `json:"entity"`
	Action enumName `json:"action"`
}

type webhookRequest struct {
	Name        string             `json:"name"`
	Description string             `json:"description"`
	URL         string             `json:"url"`
	Events      []webhookEventJSON `json:"events"`
	Secret      string             `json:"secret"`
	Status      enumName           `json:"status"`
	MaxResults  wire.Int64         `json:"max_results"`
	PageToken   string             `json:"page_token"`
	Event       *webhookEventJSON  `json:"event"` // test
}

type webhookJSON struct {
	WebhookID            string              `json:"webhook_id"`
	Name                 string              `json:"name"`
	Description          string              `json:"description,omitempty"`
	URL                  string              `json:"url"`
	Events               []map[string]string `json:"events"`
	Status               string              `json:"status"`
	CreationTimestamp    int64               `json:"creation_timestamp"`
	LastUpdatedTimestamp int64               `json:"last_updated_timestamp"`
}

func toWebhookJSON(w *registry.Webhook) webhookJSON {
	out := webhookJSON{WebhookID: w.ID, Name: w.Name, Description: w.Description, URL: w.URL, Status: w.Status,
		CreationTimestamp: w.CreationTimestamp, LastUpdatedTimestamp: w.LastUpdatedTimestamp, Events: []map[string]string{}}
	for _, e := range w.Events {
		out.Events = append(out.Events, map[string]string{"entity": strings.ToUpper(e.Entity), "action": strings.ToUpper(e.Action)})
	}
	return out
}

func parseEvents(in []webhookEventJSON) ([]registry.Event, error) {
	var out []registry.Event
	for _, e := range in {
		ev, err := parseEvent(e)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

func parseEvent(e webhookEventJSON) (registry.Event, error) {
	return registry.ParseEvent(e.Entity.of(webhookEntities), e.Action.of(webhookActions))
}

func (s *Server) webhooks() (registry.Webhooks, error) {
	wh, ok := s.opts.Registry.(registry.Webhooks)
	if !ok {
		return nil, &apiError{codeNotImplemented, "this server's model registry does not keep webhooks"}
	}
	return wh, nil
}

// checkWebhookURL applies the deliverer's URL rules (MLflow's defaults
// when the server delivers nothing).
func (s *Server) checkWebhookURL(u string) error {
	if s.opts.Webhooks != nil {
		return s.opts.Webhooks.CheckURL(u)
	}
	return webhook.Options{}.CheckURL(u)
}

func (s *Server) webhookCall(w http.ResponseWriter, r *http.Request, fn func(registry.Webhooks, *webhookRequest) (any, error)) {
	handle(w, r, func(req *webhookRequest) (any, error) {
		wh, err := s.webhooks()
		if err != nil {
			return nil, err
		}
		return fn(wh, req)
	})
}

type webhookResponse struct {
	Webhook webhookJSON `json:"webhook"`
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	s.webhookCall(w, r, func(wh registry.Webhooks, req *webhookRequest) (any, error) {
		if err := require("name", req.Name, "url", req.URL); err != nil {
			return nil, err
		}
		if len(req.Events) == 0 {
			return nil, store.Invalidf("Missing value for required parameter 'events'. See the API docs for more information about request parameters.")
		}
		events, err := parseEvents(req.Events)
		if err != nil {
			return nil, err
		}
		if err := s.checkWebhookURL(req.URL); err != nil {
			return nil, err
		}
		hook, err := wh.CreateWebhook(r.Context(), registry.Webhook{Name: req.Name, Description: req.Description, URL: req.URL,
			Events: events, Secret: req.Secret, Status: req.Status.of(webhookStatuses)})
		if err != nil {
			return nil, err
		}
		return webhookResponse{toWebhookJSON(hook)}, nil
	})
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	s.webhookCall(w, r, func(wh registry.Webhooks, req *webhookRequest) (any, error) {
		hooks, next, err := wh.ListWebhooks(r.Context(), int(req.MaxResults), req.PageToken)
		if err != nil {
			return nil, err
		}
		out := struct {
			Webhooks      []webhookJSON `json:"webhooks"`
			NextPageToken string        `json:"next_page_token,omitempty"`
		}{Webhooks: []webhookJSON{}, NextPageToken: next}
		for _, h := range hooks {
			out.Webhooks = append(out.Webhooks, toWebhookJSON(h))
		}
		return out, nil
	})
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	s.webhookCall(w, r, func(wh registry.Webhooks, _ *webhookRequest) (any, error) {
		hook, err := wh.GetWebhook(r.Context(), r.PathValue("webhook_id"))
		if err != nil {
			return nil, err
		}
		return webhookResponse{toWebhookJSON(hook)}, nil
	})
}

// updateWebhook changes the fields given: as in MLflow, an empty string or
// list leaves a field as it is (a secret cannot be removed, only replaced).
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	s.webhookCall(w, r, func(wh registry.Webhooks, req *webhookRequest) (any, error) {
		var u registry.WebhookUpdate
		set := func(v string) *string {
			if v == "" {
				return nil
			}
			return &v
		}
		u.Name, u.Description, u.URL, u.Secret = set(req.Name), set(req.Description), set(req.URL), set(req.Secret)
		if st := req.Status.of(webhookStatuses); st != "" {
			u.Status = &st
		}
		if len(req.Events) > 0 {
			events, err := parseEvents(req.Events)
			if err != nil {
				return nil, err
			}
			u.Events = events
		}
		if u.URL != nil {
			if err := s.checkWebhookURL(*u.URL); err != nil {
				return nil, err
			}
		}
		hook, err := wh.UpdateWebhook(r.Context(), r.PathValue("webhook_id"), u)
		if err != nil {
			return nil, err
		}
		return webhookResponse{toWebhookJSON(hook)}, nil
	})
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	s.webhookCall(w, r, func(wh registry.Webhooks, _ *webhookRequest) (any, error) {
		return empty{}, wh.DeleteWebhook(r.Context(), r.PathValue("webhook_id"))
	})
}

// testWebhook sends the example payload of the event asked (else the
// webhook's first) to the webhook now, signed with its secret (which the
// store gives only through WebhookSecret), and reports the answer; a
// disabled webhook is tested too.
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) {
	s.webhookCall(w, r, func(wh registry.Webhooks, req *webhookRequest) (any, error) {
		hook, err := wh.GetWebhook(r.Context(), r.PathValue("webhook_id"))
		if err != nil {
			return nil, err
		}
		if len(hook.Events) == 0 {
			return nil, store.Invalidf("Webhook %s has no events to test.", hook.ID)
		}
		event := hook.Events[0]
		if req.Event != nil {
			if event, err = parseEvent(*req.Event); err != nil {
				return nil, err
			}
		}
		if hook.Secret, err = wh.WebhookSecret(r.Context(), hook.ID); err != nil {
			return nil, err
		}
		d := s.opts.Webhooks
		if d == nil {
			d = webhook.New(webhook.Options{Workers: 1})
			defer d.Close()
		}
		res := d.Test(r.Context(), hook, event)
		type result struct {
			Success        bool   `json:"success"`
			ResponseStatus int    `json:"response_status,omitempty"`
			ResponseBody   string `json:"response_body,omitempty"`
			ErrorMessage   string `json:"error_message,omitempty"`
		}
		return struct {
			Result result `json:"result"`
		}{result{res.Success, res.ResponseStatus, res.ResponseBody, res.Error}}, nil
	})
}

// deliver sends a registry event to the webhooks subscribed to it, when
// the server delivers webhooks and its registry keeps them; it returns at
// once.
func (s *Server) deliver(ctx context.Context, event registry.Event, payload any) {
	wh, ok := s.opts.Registry.(registry.Webhooks)
	if s.opts.Webhooks == nil || !ok {
		return
	}
	s.opts.Webhooks.Deliver(context.WithoutCancel(ctx), wh, event, payload)
}

// isPrompt reports whether a registered model is one of MLflow's prompts,
// whose changes fire prompt events instead of the registry's.
func (s *Server) isPrompt(ctx context.Context, name string) bool {
	if s.opts.Webhooks == nil {
		return false
	}
	m, err := s.opts.Registry.GetRegisteredModel(ctx, name)
	if err != nil {
		return false
	}
	return hasPromptTag(m.Tags)
}

func hasPromptTag(tags []store.Tag) bool {
	for _, t := range tags {
		if t.Key == registry.PromptTag && strings.EqualFold(t.Value, "true") {
			return true
		}
	}
	return false
}
