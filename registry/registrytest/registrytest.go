package registrytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// Stores is a tracking store and the registry beside it.
type Stores struct {
	Tracking store.Store
	Registry registry.Store
}

// Opener returns fresh stores for one test.
type Opener func(t *testing.T) Stores

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Stores)
	}{
		{"Models", testModels},
		{"ModelTags", testModelTags},
		{"Versions", testVersions},
		{"Transitions", testTransitions},
		{"Aliases", testAliases},
		{"RenameWithVersionsAndAliases", testRename},
		{"SearchModels", testSearchModels},
		{"SearchVersions", testSearchVersions},
		{"Sources", testSources},
		{"PromptSources", testPromptSources},
		{"LoggedModelVersions", testLoggedModelVersions},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var bg = context.Background()

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func kind(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want kind %v", err, want)
	}
}

func model(t *testing.T, s Stores, name string) *registry.RegisteredModel {
	t.Helper()
	m, err := s.Registry.CreateRegisteredModel(bg, name, []store.Tag{{Key: "owner", Value: "ml"}}, "desc of "+name)
	ok(t, err)
	return m
}

// version registers the run's model/ artifacts as a new version.
func version(t *testing.T, s Stores, name string) *registry.ModelVersion {
	t.Helper()
	r, err := s.Tracking.CreateRun(bg, store.CreateRun{})
	ok(t, err)
	v, err := s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: name, Source: r.Info.ArtifactURI + "/model", RunID: r.Info.RunID, RunLink: "http://ui/#/runs/" + r.Info.RunID})
	ok(t, err)
	return v
}

func testModels(t *testing.T, s Stores) {
	m := model(t, s, "m1")
	if m.Name != "m1" || m.Description != "desc of m1" || m.CreationTimestamp == 0 || len(m.Tags) != 1 || len(m.LatestVersions) != 0 {
		t.Fatalf("created %+v", m)
	}
	_, err := s.Registry.CreateRegisteredModel(bg, "m1", nil, "")
	kind(t, err, store.ErrAlreadyExists)
	_, err = s.Registry.CreateRegisteredModel(bg, " ", nil, "")
	kind(t, err, store.ErrInvalidArgument)
	got, err := s.Registry.GetRegisteredModel(bg, "m1")
	ok(t, err)
	if got.Name != "m1" || got.Tags[0] != (store.Tag{Key: "owner", Value: "ml"}) {
		t.Fatalf("get %+v", got)
	}
	time.Sleep(2 * time.Millisecond)
	up, err := s.Registry.UpdateRegisteredModel(bg, "m1", "new description")
	ok(t, err)
	if up.Description != "new description" || up.LastUpdatedTimestamp <= m.LastUpdatedTimestamp {
		t.Fatalf("updated %+v", up)
	}
	version(t, s, "m1")
	ok(t, s.Registry.DeleteRegisteredModel(bg, "m1"))
	_, err = s.Registry.GetRegisteredModel(bg, "m1")
	kind(t, err, store.ErrNotFound)
	kind(t, s.Registry.DeleteRegisteredModel(bg, "m1"), store.ErrNotFound)
	_, err = s.Registry.UpdateRegisteredModel(bg, "nope", "x")
	kind(t, err, store.ErrNotFound)
	// The name is free again, and versions start over at 1.
	model(t, s, "m1")
	if v := version(t, s, "m1"); v.Version != "1" {
		t.Fatalf("version after re-create %s", v.Version)
	}
}

func testModelTags(t *testing.T, s Stores) {
	model(t, s, "tagged")
	ok(t, s.Registry.SetRegisteredModelTag(bg, "tagged", store.Tag{Key: "k", Value: "v1"}))
	ok(t, s.Registry.SetRegisteredModelTag(bg, "tagged", store.Tag{Key: "k", Value: "v2"}))
	m, _ := s.Registry.GetRegisteredModel(bg, "tagged")
	if !slices.Contains(m.Tags, store.Tag{Key: "k", Value: "v2"}) {
		t.Fatalf("tags %v", m.Tags)
	}
	ok(t, s.Registry.DeleteRegisteredModelTag(bg, "tagged", "k"))
	ok(t, s.Registry.DeleteRegisteredModelTag(bg, "tagged", "k")) // missing: no-op
	kind(t, s.Registry.SetRegisteredModelTag(bg, "nope", store.Tag{Key: "k", Value: "v"}), store.ErrNotFound)
	kind(t, s.Registry.SetRegisteredModelTag(bg, "tagged", store.Tag{Key: "../k", Value: "v"}), store.ErrInvalidArgument)
}

func testVersions(t *testing.T, s Stores) {
	model(t, s, "mv")
	v1, v2, v3 := version(t, s, "mv"), version(t, s, "mv"), version(t, s, "mv")
	if v1.Version != "1" || v2.Version != "2" || v3.Version != "3" || v1.CurrentStage != "None" || v1.Status != "READY" || v1.RunID == "" || !strings.HasSuffix(v1.Source, "/model") || !strings.HasPrefix(v1.RunLink, "http://ui/") {
		t.Fatalf("versions %+v %+v %+v", v1, v2, v3)
	}
	ok(t, s.Registry.DeleteModelVersion(bg, "mv", "2"))
	_, err := s.Registry.GetModelVersion(bg, "mv", "2")
	kind(t, err, store.ErrNotFound)
	kind(t, s.Registry.DeleteModelVersion(bg, "mv", "2"), store.ErrNotFound)
	if v4 := version(t, s, "mv"); v4.Version != "4" {
		t.Fatalf("a deleted number was reused: %s", v4.Version)
	}
	up, err := s.Registry.UpdateModelVersion(bg, "mv", "1", "first")
	ok(t, err)
	if up.Description != "first" {
		t.Fatalf("update %+v", up)
	}
	ok(t, s.Registry.SetModelVersionTag(bg, "mv", "1", store.Tag{Key: "validated", Value: "true"}))
	got, _ := s.Registry.GetModelVersion(bg, "mv", "1")
	if !slices.Contains(got.Tags, store.Tag{Key: "validated", Value: "true"}) {
		t.Fatalf("version tags %v", got.Tags)
	}
	ok(t, s.Registry.DeleteModelVersionTag(bg, "mv", "1", "validated"))
	ok(t, s.Registry.DeleteModelVersionTag(bg, "mv", "1", "validated"))
	uri, err := s.Registry.GetDownloadURI(bg, "mv", "1")
	ok(t, err)
	if uri != v1.Source {
		t.Fatalf("download uri %s, want %s", uri, v1.Source)
	}
	_, err = s.Registry.GetModelVersion(bg, "mv", "x")
	kind(t, err, store.ErrInvalidArgument)
	_, err = s.Registry.GetModelVersion(bg, "mv", "99")
	kind(t, err, store.ErrNotFound)
	_, err = s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "nope", Source: "s3://b/m"})
	kind(t, err, store.ErrNotFound)
	kind(t, s.Registry.SetModelVersionTag(bg, "mv", "2", store.Tag{Key: "k", Value: "v"}), store.ErrNotFound)
}

func stages(vs []*registry.ModelVersion) string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Version+":"+v.CurrentStage)
	}
	return strings.Join(out, ",")
}

func testTransitions(t *testing.T, s Stores) {
	model(t, s, "st")
	for i := 0; i < 4; i++ {
		version(t, s, "st")
	}
	tr := func(v, stage string, archive bool) *registry.ModelVersion {
		t.Helper()
		mv, err := s.Registry.TransitionStage(bg, "st", v, stage, archive)
		ok(t, err)
		return mv
	}
	if v := tr("1", "production", false); v.CurrentStage != "Production" {
		t.Fatalf("canonical stage %s", v.CurrentStage)
	}
	tr("2", "Production", false) // without archiving both stay
	latest, err := s.Registry.GetLatestVersions(bg, "st", []string{"Production"})
	ok(t, err)
	if stages(latest) != "2:Production" {
		t.Fatalf("latest production %s", stages(latest))
	}
	tr("3", "Production", true) // archives 1 and 2
	for v, want := range map[string]string{"1": "Archived", "2": "Archived", "3": "Production", "4": "None"} {
		got, _ := s.Registry.GetModelVersion(bg, "st", v)
		if got.CurrentStage != want {
			t.Fatalf("version %s is %s, want %s", v, got.CurrentStage, want)
		}
	}
	tr("4", "Staging", false)
	all, err := s.Registry.GetLatestVersions(bg, "st", nil)
	ok(t, err)
	if stages(all) != "2:Archived,3:Production,4:Staging" {
		t.Fatalf("latest per stage %s", stages(all))
	}
	m, _ := s.Registry.GetRegisteredModel(bg, "st")
	if stages(m.LatestVersions) != "2:Archived,3:Production,4:Staging" {
		t.Fatalf("model latest_versions %s", stages(m.LatestVersions))
	}
	_, err = s.Registry.TransitionStage(bg, "st", "1", "Shipped", false)
	kind(t, err, store.ErrInvalidArgument)
	_, err = s.Registry.TransitionStage(bg, "st", "1", "Archived", true)
	kind(t, err, store.ErrInvalidArgument)
	_, err = s.Registry.GetLatestVersions(bg, "st", []string{"bogus"})
	kind(t, err, store.ErrInvalidArgument)
	_, err = s.Registry.GetLatestVersions(bg, "nope", nil)
	kind(t, err, store.ErrNotFound)
	_, err = s.Registry.TransitionStage(bg, "st", "9", "Staging", false)
	kind(t, err, store.ErrNotFound)
}

func testAliases(t *testing.T, s Stores) {
	model(t, s, "al")
	version(t, s, "al")
	version(t, s, "al")
	ok(t, s.Registry.SetAlias(bg, "al", "champion", "1"))
	v, err := s.Registry.GetVersionByAlias(bg, "al", "champion")
	ok(t, err)
	if v.Version != "1" || !slices.Equal(v.Aliases, []string{"champion"}) {
		t.Fatalf("by alias %+v", v)
	}
	ok(t, s.Registry.SetAlias(bg, "al", "champion", "2")) // moved
	v, _ = s.Registry.GetVersionByAlias(bg, "al", "champion")
	v1, _ := s.Registry.GetModelVersion(bg, "al", "1")
	if v.Version != "2" || len(v1.Aliases) != 0 {
		t.Fatalf("moved alias: %+v, v1 aliases %v", v, v1.Aliases)
	}
	ok(t, s.Registry.SetAlias(bg, "al", "challenger", "2"))
	m, _ := s.Registry.GetRegisteredModel(bg, "al")
	if fmt.Sprint(m.Aliases) != "[{challenger 2} {champion 2}]" {
		t.Fatalf("model aliases %v", m.Aliases)
	}
	// Deleting the version drops its aliases.
	ok(t, s.Registry.DeleteModelVersion(bg, "al", "2"))
	_, err = s.Registry.GetVersionByAlias(bg, "al", "champion")
	kind(t, err, store.ErrInvalidArgument) // MLflow answers INVALID_PARAMETER_VALUE here
	m, _ = s.Registry.GetRegisteredModel(bg, "al")
	if len(m.Aliases) != 0 {
		t.Fatalf("aliases of a deleted version remain: %v", m.Aliases)
	}
	ok(t, s.Registry.SetAlias(bg, "al", "old", "1"))
	ok(t, s.Registry.DeleteAlias(bg, "al", "old"))
	ok(t, s.Registry.DeleteAlias(bg, "al", "old"))
	for _, bad := range []string{"latest", "LATEST", "v1", "V12", "has space", ""} {
		kind(t, s.Registry.SetAlias(bg, "al", bad, "1"), store.ErrInvalidArgument)
	}
	kind(t, s.Registry.SetAlias(bg, "al", "x", "7"), store.ErrNotFound)
}

func testRename(t *testing.T, s Stores) {
	model(t, s, "old-name")
	version(t, s, "old-name")
	version(t, s, "old-name")
	ok(t, s.Registry.SetAlias(bg, "old-name", "best", "2"))
	ok(t, s.Registry.SetModelVersionTag(bg, "old-name", "2", store.Tag{Key: "k", Value: "v"}))
	_, err := s.Registry.TransitionStage(bg, "old-name", "1", "Production", false)
	ok(t, err)
	m, err := s.Registry.RenameRegisteredModel(bg, "old-name", "new-name")
	ok(t, err)
	if m.Name != "new-name" || fmt.Sprint(m.Aliases) != "[{best 2}]" || stages(m.LatestVersions) != "1:Production,2:None" {
		t.Fatalf("renamed %+v %s", m, stages(m.LatestVersions))
	}
	v, err := s.Registry.GetVersionByAlias(bg, "new-name", "best")
	ok(t, err)
	if v.Name != "new-name" || !slices.Contains(v.Tags, store.Tag{Key: "k", Value: "v"}) {
		t.Fatalf("version after rename %+v", v)
	}
	_, err = s.Registry.GetRegisteredModel(bg, "old-name")
	kind(t, err, store.ErrNotFound)
	model(t, s, "other")
	_, err = s.Registry.RenameRegisteredModel(bg, "other", "new-name")
	kind(t, err, store.ErrAlreadyExists)
	_, err = s.Registry.RenameRegisteredModel(bg, "ghost", "x")
	kind(t, err, store.ErrNotFound)
}

func names(ms []*registry.RegisteredModel) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func testSearchModels(t *testing.T, s Stores) {
	for _, n := range []string{"alpha-model", "beta-model", "gamma"} {
		model(t, s, n)
		time.Sleep(2 * time.Millisecond)
	}
	ok(t, s.Registry.SetRegisteredModelTag(bg, "gamma", store.Tag{Key: "team", Value: "vision"}))
	p, err := s.Registry.CreateRegisteredModel(bg, "a-prompt", []store.Tag{{Key: "mlflow.prompt.is_prompt", Value: "true"}}, "")
	ok(t, err)
	_ = p
	search := func(q registry.SearchModels) []string {
		t.Helper()
		ms, _, err := s.Registry.SearchRegisteredModels(bg, q)
		ok(t, err)
		return names(ms)
	}
	for _, tc := range []struct {
		q    registry.SearchModels
		want string
	}{
		{registry.SearchModels{}, "alpha-model,beta-model,gamma"},
		{registry.SearchModels{Filter: "name LIKE '%-model'"}, "alpha-model,beta-model"},
		{registry.SearchModels{Filter: "name ILIKE 'ALPHA%'"}, "alpha-model"},
		{registry.SearchModels{Filter: "name = 'gamma'"}, "gamma"},
		{registry.SearchModels{Filter: "name != 'gamma'"}, "alpha-model,beta-model"},
		{registry.SearchModels{Filter: "tags.team = 'vision'"}, "gamma"},
		{registry.SearchModels{Filter: "tags.`mlflow.prompt.is_prompt` != 'true'"}, "alpha-model,beta-model,gamma"},
		{registry.SearchModels{Filter: "tags.`mlflow.prompt.is_prompt` = 'true'"}, "a-prompt"},
		{registry.SearchModels{OrderBy: []string{"name DESC"}}, "gamma,beta-model,alpha-model"},
		{registry.SearchModels{OrderBy: []string{"creation_timestamp DESC"}}, "gamma,beta-model,alpha-model"},
		{registry.SearchModels{OrderBy: []string{"timestamp ASC"}}, "alpha-model,beta-model,gamma"},
	} {
		if got := strings.Join(search(tc.q), ","); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.q, got, tc.want)
		}
	}
	var all []string
	tok := ""
	for {
		ms, next, err := s.Registry.SearchRegisteredModels(bg, registry.SearchModels{MaxResults: 2, PageToken: tok})
		ok(t, err)
		all = append(all, names(ms)...)
		if next == "" {
			break
		}
		tok = next
	}
	if strings.Join(all, ",") != "alpha-model,beta-model,gamma" {
		t.Fatalf("paged %v", all)
	}
	for _, q := range []registry.SearchModels{{Filter: "bogus = 'x'"}, {Filter: "name = x"}, {MaxResults: 1001}, {OrderBy: []string{"version_number"}}, {PageToken: "!!"}} {
		_, _, err := s.Registry.SearchRegisteredModels(bg, q)
		kind(t, err, store.ErrInvalidArgument)
	}
}

func testSearchVersions(t *testing.T, s Stores) {
	model(t, s, "sv")
	model(t, s, "other")
	a, b, c := version(t, s, "sv"), version(t, s, "sv"), version(t, s, "other")
	ok(t, s.Registry.SetModelVersionTag(bg, "sv", "2", store.Tag{Key: "validated", Value: "true"}))
	search := func(filter string, order ...string) string {
		t.Helper()
		vs, _, err := s.Registry.SearchModelVersions(bg, registry.SearchVersions{Filter: filter, OrderBy: order})
		ok(t, err)
		var out []string
		for _, v := range vs {
			out = append(out, v.Name+"/"+v.Version)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		filter string
		order  []string
		want   string
	}{
		{"name = 'sv'", []string{"version_number ASC"}, "sv/1,sv/2"},
		{"name = 'sv'", nil, "sv/2,sv/1"},
		{"name = 'sv' AND tags.validated = 'true'", nil, "sv/2"},
		{"run_id IN ('" + a.RunID + "', '" + c.RunID + "')", []string{"name"}, "other/1,sv/1"},
		{"run_id = '" + b.RunID + "'", nil, "sv/2"},
		{"version_number > 1", nil, "sv/2"},
		{"source_path LIKE '%/model'", []string{"name", "version_number"}, "other/1,sv/1,sv/2"},
		{"name LIKE 's%' AND version_number <= 1", nil, "sv/1"},
	} {
		if got := search(tc.filter, tc.order...); got != tc.want {
			t.Errorf("%q %v: got %s, want %s", tc.filter, tc.order, got, tc.want)
		}
	}
	ok(t, s.Registry.DeleteModelVersion(bg, "sv", "1"))
	if got := search("name = 'sv'"); got != "sv/2" {
		t.Fatalf("deleted versions are searchable: %s", got)
	}
	for _, f := range []string{"version_number = '1'", "foo.x = 'y'", "run_id > 'a'"} {
		_, _, err := s.Registry.SearchModelVersions(bg, registry.SearchVersions{Filter: f})
		kind(t, err, store.ErrInvalidArgument)
	}
}

func testSources(t *testing.T, s Stores) {
	model(t, s, "src")
	r, err := s.Tracking.CreateRun(bg, store.CreateRun{})
	ok(t, err)
	if strings.HasPrefix(r.Info.ArtifactURI, "/") {
		// A local path inside the run's artifacts is accepted; outside, not.
		_, err = s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "src", Source: r.Info.ArtifactURI + "/model", RunID: r.Info.RunID})
		ok(t, err)
		_, err = s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "src", Source: "/etc", RunID: r.Info.RunID})
		kind(t, err, store.ErrInvalidArgument)
		_, err = s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "src", Source: r.Info.ArtifactURI + "/model"})
		kind(t, err, store.ErrInvalidArgument)
	}
	for _, bad := range []string{"s3://bucket/../etc", "mlflow-artifacts:/1/%2e%2e/x", "http://h/a/%252e%252e/b", ""} {
		_, err := s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "src", Source: bad})
		kind(t, err, store.ErrInvalidArgument)
	}
	_, err = s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "src", Source: "s3://bucket/models/m1"})
	ok(t, err)
}

// testPromptSources: a prompt's version (tagged mlflow.prompt.is_prompt,
// as MLflow's client tags it) takes the placeholder source MLflow's
// register_prompt sends, never a local path or one with '..'; a model's
// version still may not use that placeholder.
func testPromptSources(t *testing.T, s Stores) {
	prompt := []store.Tag{{Key: registry.PromptTag, Value: "true"}, {Key: "mlflow.prompt.text", Value: "Hello {{name}}"}}
	_, err := s.Registry.CreateRegisteredModel(bg, "greeting", prompt[:1], "")
	ok(t, err)
	v, err := s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "greeting", Source: "dummy-source", Tags: prompt})
	ok(t, err)
	if v.Version != "1" || v.Source != "dummy-source" {
		t.Fatalf("prompt version %+v", v)
	}
	for _, bad := range []string{"file:///etc/passwd", "/etc/passwd", "prompts/../../etc", "%2e%2e/x", "a/%252e%252e/b", ""} {
		_, err := s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "greeting", Source: bad, Tags: prompt})
		kind(t, err, store.ErrInvalidArgument)
	}
	model(t, s, "not-a-prompt")
	_, err = s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "not-a-prompt", Source: "dummy-source"})
	kind(t, err, store.ErrInvalidArgument)
}

// Registry is registry.Store, named here so tests can assert a store is one.
type Registry = registry.Store

// testLoggedModelVersions: a version registered from an MLflow 3 logged
// model (source models:/<model_id>) keeps the link both ways: the
// version names the model (model_id, its files, its run) and the model
// lists the version in its mlflow.modelVersions tag.
func testLoggedModelVersions(t *testing.T, s Stores) {
	lms, isLM := s.Tracking.(store.LoggedModels)
	if !isLM {
		t.Fatal("the tracking store keeps no logged models")
	}
	r, err := s.Tracking.CreateRun(bg, store.CreateRun{ExperimentID: "0"})
	ok(t, err)
	lm, err := lms.CreateLoggedModel(bg, store.LoggedModel{ExperimentID: "0", Name: "clf", SourceRunID: r.Info.RunID})
	ok(t, err)
	model(t, s, "from-logged")
	v, err := s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "from-logged", Source: "models:/" + lm.ModelID})
	ok(t, err)
	if v.ModelID != lm.ModelID || v.RunID != r.Info.RunID || v.Source != "models:/"+lm.ModelID {
		t.Fatalf("version %+v", v)
	}
	uri, err := s.Registry.GetDownloadURI(bg, "from-logged", v.Version)
	ok(t, err)
	if uri != lm.ArtifactURI {
		t.Fatalf("download URI %s, want the logged model's %s", uri, lm.ArtifactURI)
	}
	tag := func() string {
		got, err := lms.GetLoggedModel(bg, lm.ModelID)
		ok(t, err)
		for _, tg := range got.Tags {
			if tg.Key == "mlflow.modelVersions" {
				return tg.Value
			}
		}
		return ""
	}
	// As MLflow's store writes it (Python's json.dumps), byte for byte.
	if got := tag(); got != `[{"name": "from-logged", "version": 1}]` {
		t.Fatalf("mlflow.modelVersions = %q", got)
	}
	// MLflow's client adds its own entry (the version a string); the next
	// registration appends to both.
	_, err = lms.SetLoggedModelTags(bg, lm.ModelID, []store.Tag{{Key: "mlflow.modelVersions", Value: `[{"name": "from-logged", "version": 1}, {"name": "from-logged", "version": "1"}]`}})
	ok(t, err)
	_, err = s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "from-logged", Source: "models:/" + lm.ModelID})
	ok(t, err)
	if got := tag(); got != `[{"name": "from-logged", "version": 1}, {"name": "from-logged", "version": "1"}, {"name": "from-logged", "version": 2}]` {
		t.Fatalf("mlflow.modelVersions after a second registration = %q", got)
	}
	_, err = s.Registry.CreateModelVersion(bg, registry.CreateVersion{Name: "from-logged", Source: "models:/m-00000000000000000000000000000000"})
	kind(t, err, store.ErrNotFound)
}
