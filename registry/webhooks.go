package registry

import (
	"context"
	"slices"
	"strings"

	"github.com/mlrun/mlrun/store"
)

// Webhook is a registration for registry events (MLflow 3's webhooks):
// each event it names is POSTed to URL, signed with Secret when it has one.
type Webhook struct {
	ID          string
	Name        string
	Description string
	URL         string
	Events      []Event
	Status      string // StatusActive or StatusDisabled
	// Secret signs deliveries (X-MLflow-Signature); never returned by the
	// API. Stores keep it encrypted.
	Secret               string
	CreationTimestamp    int64
	LastUpdatedTimestamp int64
}

// PromptTag marks a registered model that is one of MLflow's prompts
// (and a version created as one of a prompt's); PromptTextTag holds a
// prompt version's template, PromptTypeTag its kind (text or chat).
const (
	PromptTag     = "mlflow.prompt.is_prompt"
	PromptTextTag = "mlflow.prompt.text"
	PromptTypeTag = "_mlflow_prompt_type"
)

// Webhook statuses.
const (
	StatusActive   = "ACTIVE"
	StatusDisabled = "DISABLED"
)

// Event is an entity and an action, as MLflow names them in lower case
// ("model_version", "created"); its String is "model_version.created".
type Event struct{ Entity, Action string }

func (e Event) String() string { return e.Entity + "." + e.Action }

// Events of the registry (and of prompts, which MLflow keeps as
// registered models tagged mlflow.prompt.is_prompt).
var (
	RegisteredModelCreated   = Event{"registered_model", "created"}
	ModelVersionCreated      = Event{"model_version", "created"}
	ModelVersionTagSet       = Event{"model_version_tag", "set"}
	ModelVersionTagDeleted   = Event{"model_version_tag", "deleted"}
	ModelVersionAliasCreated = Event{"model_version_alias", "created"}
	ModelVersionAliasDeleted = Event{"model_version_alias", "deleted"}
	PromptCreated            = Event{"prompt", "created"}
	PromptVersionCreated     = Event{"prompt_version", "created"}
	PromptTagSet             = Event{"prompt_tag", "set"}
	PromptTagDeleted         = Event{"prompt_tag", "deleted"}
	PromptVersionTagSet      = Event{"prompt_version_tag", "set"}
	PromptVersionTagDeleted  = Event{"prompt_version_tag", "deleted"}
	PromptAliasCreated       = Event{"prompt_alias", "created"}
	PromptAliasDeleted       = Event{"prompt_alias", "deleted"}
)

// validActions lists, per entity, the actions a webhook may subscribe to
// (MLflow's VALID_ENTITY_ACTIONS).
var validActions = map[string][]string{
	"registered_model":    {"created"},
	"model_version":       {"created"},
	"model_version_tag":   {"set", "deleted"},
	"model_version_alias": {"created", "deleted"},
	"prompt":              {"created"},
	"prompt_version":      {"created"},
	"prompt_tag":          {"set", "deleted"},
	"prompt_version_tag":  {"set", "deleted"},
	"prompt_alias":        {"created", "deleted"},
}

// ParseEvent checks an entity and an action (any case) and returns the
// event; an unknown entity or action, or a pair MLflow does not fire, is
// INVALID_PARAMETER_VALUE.
func ParseEvent(entity, action string) (Event, error) {
	e := Event{strings.ToLower(entity), strings.ToLower(action)}
	actions, ok := validActions[e.Entity]
	switch {
	case !ok:
		names := make([]string, 0, len(validActions))
		for n := range validActions {
			names = append(names, n)
		}
		slices.Sort(names)
		return Event{}, store.Invalidf("Invalid webhook entity '%s'. Valid entities are: %s", entity, strings.Join(names, ", "))
	case !slices.Contains(actions, e.Action):
		return Event{}, store.Invalidf("Invalid action '%s' for entity '%s'. Valid actions are: %s", e.Action, e.Entity, strings.Join(actions, ", "))
	}
	return e, nil
}

// WebhookUpdate is a change to a webhook: nil fields stay as they are.
type WebhookUpdate struct {
	Name, Description, URL, Secret, Status *string
	Events                                 []Event // nil: unchanged
}

// Webhooks is an optional registry capability: MLflow 3's webhooks, kept
// in MLflow's tables (webhooks, webhook_events).
type Webhooks interface {
	// CreateWebhook checks and stores w (its ID and times are set) and
	// returns it.
	CreateWebhook(ctx context.Context, w Webhook) (*Webhook, error)
	// GetWebhook returns a webhook; an unknown id is RESOURCE_DOES_NOT_EXIST.
	GetWebhook(ctx context.Context, id string) (*Webhook, error)
	// ListWebhooks pages through the webhooks, newest first.
	ListWebhooks(ctx context.Context, maxResults int, pageToken string) ([]*Webhook, string, error)
	UpdateWebhook(ctx context.Context, id string, u WebhookUpdate) (*Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
	// ActiveWebhooks returns the active webhooks subscribed to event, with
	// their secrets.
	ActiveWebhooks(ctx context.Context, event Event) ([]*Webhook, error)
	// WebhookSecret returns a webhook's secret ("" for none).
	WebhookSecret(ctx context.Context, id string) (string, error)
}

// CheckWebhook validates what a webhook is made of, as MLflow's store does
// (the URL's scheme and address are checked again at each delivery).
func CheckWebhook(w *Webhook) error {
	switch {
	case strings.TrimSpace(w.Name) == "":
		return store.Invalidf("Webhook name cannot be empty.")
	case len(w.Name) > 256:
		return store.Invalidf("Webhook name is longer than 256 characters.")
	case len(w.Description) > 1000:
		return store.Invalidf("Webhook description is longer than 1000 characters.")
	case strings.TrimSpace(w.URL) == "":
		return store.Invalidf("Webhook URL cannot be empty.")
	case len(w.URL) > 500:
		return store.Invalidf("Webhook URL is longer than 500 characters.")
	case len(w.Events) == 0:
		return store.Invalidf("Webhook events cannot be empty")
	case len(w.Secret) > 500:
		return store.Invalidf("Webhook secret is longer than 500 characters.")
	}
	if w.Status != StatusActive && w.Status != StatusDisabled {
		return store.Invalidf("Invalid webhook status '%s': use ACTIVE or DISABLED.", w.Status)
	}
	for _, e := range w.Events {
		if _, err := ParseEvent(e.Entity, e.Action); err != nil {
			return err
		}
	}
	return nil
}

// WebhookNotFound is the error of an unknown webhook id.
func WebhookNotFound(id string) error {
	return store.NotFoundf("Webhook with ID '%s' not found.", id)
}
