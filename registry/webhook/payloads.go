package webhook

import "github.com/mlrun/mlrun/registry"

// The "data" of each event, with MLflow's field names; an absent
// description or run id is null.

// RegisteredModelCreated is registered_model.created's data.
type RegisteredModelCreated struct {
	Name        string            `json:"name"`
	Tags        map[string]string `json:"tags"`
	Description *string           `json:"description"`
}

// ModelVersionCreated is model_version.created's data.
type ModelVersionCreated struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Source      string            `json:"source"`
	RunID       *string           `json:"run_id"`
	Tags        map[string]string `json:"tags"`
	Description *string           `json:"description"`
}

// ModelVersionTagSet is model_version_tag.set's data.
type ModelVersionTagSet struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Key     string `json:"key"`
	Value   string `json:"value"`
}

// ModelVersionTagDeleted is model_version_tag.deleted's data.
type ModelVersionTagDeleted struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Key     string `json:"key"`
}

// ModelVersionAliasCreated is model_version_alias.created's data.
type ModelVersionAliasCreated struct {
	Name    string `json:"name"`
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// ModelVersionAliasDeleted is model_version_alias.deleted's data.
type ModelVersionAliasDeleted struct {
	Name  string `json:"name"`
	Alias string `json:"alias"`
}

// Optional is s, or nil when empty (null in the payload).
func Optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Example is the payload a test delivery of event sends (MLflow's
// examples for the registry's events; for prompts' events, the same
// shapes with a prompt's name).
func Example(event registry.Event) any {
	desc := "An example registered model"
	tags := map[string]string{"example_key": "example_value"}
	switch event.Entity {
	case "registered_model", "prompt":
		name := "example_model"
		if event.Entity == "prompt" {
			name, desc = "example_prompt", "An example prompt"
		}
		return RegisteredModelCreated{Name: name, Tags: tags, Description: &desc}
	case "model_version", "prompt_version":
		mvDesc := "An example model version"
		return ModelVersionCreated{Name: "example_model", Version: "1", Source: "runs:/abcd1234abcd5678/model", RunID: Optional("abcd1234abcd5678"), Tags: tags, Description: &mvDesc}
	case "model_version_tag", "prompt_version_tag", "prompt_tag":
		if event.Action == "deleted" {
			return ModelVersionTagDeleted{Name: "example_model", Version: "1", Key: "example_key"}
		}
		return ModelVersionTagSet{Name: "example_model", Version: "1", Key: "example_key", Value: "example_value"}
	default: // aliases
		if event.Action == "deleted" {
			return ModelVersionAliasDeleted{Name: "example_model", Alias: "example_alias"}
		}
		return ModelVersionAliasCreated{Name: "example_model", Alias: "example_alias", Version: "1"}
	}
}
