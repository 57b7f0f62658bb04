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

// PromptVersionCreated is prompt_version.created's data: the template
// (null when the version has none) and the version's own tags, without
// the ones that make it a prompt's.
type PromptVersionCreated struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Template    *string           `json:"template"`
	Tags        map[string]string `json:"tags"`
	Description *string           `json:"description"`
}

// PromptTagSet is prompt_tag.set's data.
type PromptTagSet struct {
	Name  string `json:"name"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

// PromptTagDeleted is prompt_tag.deleted's data.
type PromptTagDeleted struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Optional is s, or nil when empty (null in the payload).
func Optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Example is the payload a test delivery of event sends: MLflow's
// example of each event's data.
func Example(event registry.Event) any {
	tags := map[string]string{"example_key": "example_value"}
	describe := func(s string) *string { return &s }
	switch event {
	case registry.RegisteredModelCreated:
		return RegisteredModelCreated{Name: "example_model", Tags: tags, Description: describe("An example registered model")}
	case registry.ModelVersionCreated:
		return ModelVersionCreated{Name: "example_model", Version: "1", Source: "runs:/abcd1234abcd5678/model", RunID: Optional("abcd1234abcd5678"), Tags: tags, Description: describe("An example model version")}
	case registry.ModelVersionTagSet:
		return ModelVersionTagSet{Name: "example_model", Version: "1", Key: "example_key", Value: "example_value"}
	case registry.ModelVersionTagDeleted:
		return ModelVersionTagDeleted{Name: "example_model", Version: "1", Key: "example_key"}
	case registry.ModelVersionAliasCreated:
		return ModelVersionAliasCreated{Name: "example_model", Alias: "example_alias", Version: "1"}
	case registry.ModelVersionAliasDeleted:
		return ModelVersionAliasDeleted{Name: "example_model", Alias: "example_alias"}
	case registry.PromptCreated:
		return RegisteredModelCreated{Name: "example_prompt", Tags: tags, Description: describe("An example prompt")}
	case registry.PromptVersionCreated:
		return PromptVersionCreated{Name: "example_prompt", Version: "1", Template: describe("Hello {{name}}!"), Tags: tags, Description: describe("An example prompt version")}
	case registry.PromptTagSet:
		return PromptTagSet{Name: "example_prompt", Key: "example_key", Value: "example_value"}
	case registry.PromptTagDeleted:
		return PromptTagDeleted{Name: "example_prompt", Key: "example_key"}
	case registry.PromptVersionTagSet:
		return ModelVersionTagSet{Name: "example_prompt", Version: "1", Key: "example_key", Value: "example_value"}
	case registry.PromptVersionTagDeleted:
		return ModelVersionTagDeleted{Name: "example_prompt", Version: "1", Key: "example_key"}
	case registry.PromptAliasCreated:
		return ModelVersionAliasCreated{Name: "example_prompt", Alias: "example_alias", Version: "1"}
	case registry.PromptAliasDeleted:
		return ModelVersionAliasDeleted{Name: "example_prompt", Alias: "example_alias"}
	}
	return map[string]any{}
}
