package registrytest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// RunWebhooks runs the suite of registry.Webhooks against the stores open
// returns (the stores on a database).
func RunWebhooks(t *testing.T, open Opener) {
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, open(t)) })
}

// testWebhooks: a webhook is checked and kept with its events (each once)
// and its secret, which only WebhookSecret and ActiveWebhooks return;
// listing pages newest first; an update changes what it names; disabled
// and deleted webhooks receive nothing; each refusal has its kind.
func testWebhooks(t *testing.T, s Stores) {
	wh, isWH := s.Registry.(registry.Webhooks)
	if !isWH {
		t.Fatal("the registry does not keep webhooks")
	}
	mk := func(name string, events []registry.Event, secret string) *registry.Webhook {
		t.Helper()
		time.Sleep(2 * time.Millisecond) // distinct creation times: lists are newest first
		w, err := wh.CreateWebhook(bg, registry.Webhook{Name: name, URL: "https://hooks.example.com/" + name, Events: events, Secret: secret, Description: "d-" + name})
		ok(t, err)
		return w
	}
	a := mk("a", []registry.Event{registry.ModelVersionCreated, registry.ModelVersionAliasCreated, registry.ModelVersionCreated}, "a-secret")
	b := mk("b", []registry.Event{registry.ModelVersionCreated}, "")
	c := mk("c", []registry.Event{registry.RegisteredModelCreated}, "c-secret")

	got, err := wh.GetWebhook(bg, a.ID)
	ok(t, err)
	if got.Name != "a" || got.Description != "d-a" || got.URL != "https://hooks.example.com/a" || got.Status != registry.StatusActive ||
		got.Secret != "" || len(got.Events) != 2 || got.CreationTimestamp == 0 || got.LastUpdatedTimestamp != got.CreationTimestamp {
		t.Fatalf("webhook a: %+v", got)
	}
	if secret, err := wh.WebhookSecret(bg, a.ID); err != nil || secret != "a-secret" {
		t.Fatalf("a's secret: %q %v", secret, err)
	}
	if secret, err := wh.WebhookSecret(bg, b.ID); err != nil || secret != "" {
		t.Fatalf("b's secret: %q %v", secret, err)
	}

	active := func(e registry.Event) string {
		t.Helper()
		hooks, err := wh.ActiveWebhooks(bg, e)
		ok(t, err)
		var names []string
		for _, h := range hooks {
			names = append(names, h.Name+":"+h.Secret)
		}
		return strings.Join(names, ",")
	}
	if got := active(registry.ModelVersionCreated); got != "a:a-secret,b:" {
		t.Errorf("active for model_version.created: %s", got)
	}
	if got := active(registry.ModelVersionTagSet); got != "" {
		t.Errorf("active for model_version_tag.set: %s", got)
	}

	page, next, err := wh.ListWebhooks(bg, 2, "")
	ok(t, err)
	if len(page) != 2 || page[0].Name != "c" || page[1].Name != "b" || next == "" {
		t.Fatalf("first page: %v next %q", page, next)
	}
	page, next, err = wh.ListWebhooks(bg, 2, next)
	ok(t, err)
	if len(page) != 1 || page[0].Name != "a" || next != "" || page[0].Secret != "" {
		t.Fatalf("second page: %v next %q", page, next)
	}

	disabled, name := registry.StatusDisabled, "b2"
	up, err := wh.UpdateWebhook(bg, b.ID, registry.WebhookUpdate{Name: &name, Status: &disabled, Events: []registry.Event{registry.ModelVersionTagSet}})
	ok(t, err)
	if up.Name != "b2" || up.Status != registry.StatusDisabled || len(up.Events) != 1 || up.Events[0] != registry.ModelVersionTagSet || up.URL != b.URL || up.LastUpdatedTimestamp < b.LastUpdatedTimestamp {
		t.Fatalf("updated b: %+v", up)
	}
	if got := active(registry.ModelVersionCreated) + "|" + active(registry.ModelVersionTagSet); got != "a:a-secret|" {
		t.Errorf("after disabling b: %s", got)
	}
	newSecret := "c-secret-2"
	_, err = wh.UpdateWebhook(bg, c.ID, registry.WebhookUpdate{Secret: &newSecret})
	ok(t, err)
	if got := active(registry.RegisteredModelCreated); got != "c:c-secret-2" {
		t.Errorf("after c's new secret: %s", got)
	}

	for _, tc := range []struct {
		name string
		w    registry.Webhook
		want string
	}{
		{"no name", registry.Webhook{URL: "https://x.example", Events: []registry.Event{registry.ModelVersionCreated}}, "name cannot be empty"},
		{"no events", registry.Webhook{Name: "n", URL: "https://x.example"}, "events cannot be empty"},
		{"a pair MLflow does not fire", registry.Webhook{Name: "n", URL: "https://x.example", Events: []registry.Event{{Entity: "registered_model", Action: "deleted"}}}, "Invalid action 'deleted' for entity 'registered_model'"},
		{"an unknown entity", registry.Webhook{Name: "n", URL: "https://x.example", Events: []registry.Event{{Entity: "experiment", Action: "created"}}}, "Invalid webhook entity 'experiment'"},
		{"a bad status", registry.Webhook{Name: "n", URL: "https://x.example", Status: "PAUSED", Events: []registry.Event{registry.ModelVersionCreated}}, "Invalid webhook status 'PAUSED'"},
		{"a long URL", registry.Webhook{Name: "n", URL: "https://x.example/" + strings.Repeat("p", 500), Events: []registry.Event{registry.ModelVersionCreated}}, "longer than 500"},
	} {
		if _, err := wh.CreateWebhook(bg, tc.w); !errorsIsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want INVALID_PARAMETER_VALUE saying %q", tc.name, err, tc.want)
		}
	}
	empty := ""
	if _, err := wh.UpdateWebhook(bg, a.ID, registry.WebhookUpdate{Name: &empty}); !errorsIsInvalid(err) {
		t.Errorf("update to an empty name: %v", err)
	}
	if got, _ := wh.GetWebhook(bg, a.ID); got.Name != "a" {
		t.Errorf("a refused update changed the webhook: %+v", got)
	}

	ok(t, wh.DeleteWebhook(bg, a.ID))
	if _, err := wh.GetWebhook(bg, a.ID); !isNotFound(err) || !strings.Contains(err.Error(), "Webhook with ID '"+a.ID+"' not found.") {
		t.Errorf("get a deleted webhook: %v", err)
	}
	for _, err := range []error{wh.DeleteWebhook(bg, a.ID), func() error { _, err := wh.UpdateWebhook(bg, a.ID, registry.WebhookUpdate{Name: &name}); return err }(),
		func() error { _, err := wh.WebhookSecret(bg, "nope"); return err }()} {
		if !isNotFound(err) {
			t.Errorf("a deleted or unknown webhook: %v", err)
		}
	}
	if got := active(registry.ModelVersionCreated); got != "" {
		t.Errorf("active after deleting a: %s", got)
	}
	all, _, err := wh.ListWebhooks(bg, 0, "")
	ok(t, err)
	if names := webhookNames(all); !slices.Equal(names, []string{"c", "b2"}) {
		t.Errorf("left: %v", names)
	}
}

func webhookNames(hooks []*registry.Webhook) []string {
	var names []string
	for _, h := range hooks {
		names = append(names, h.Name)
	}
	return names
}

func errorsIsInvalid(err error) bool { return errors.Is(err, store.ErrInvalidArgument) }
func isNotFound(err error) bool      { return errors.Is(err, store.ErrNotFound) }
