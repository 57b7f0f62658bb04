package testutil

import (
	"context"
	"database/sql"
	"testing"

	"github.com/mlrun/mlrun/store/sqlite"
)

// MLflow3Upgrade applies what MLflow 3's migrations add for logged models
// (revisions 400f98739977 and 6953534de441, DDL from shared/spec/stores.md)
// to an mlrun database, as `mlflow db upgrade` would.
const MLflow3Upgrade = `
CREATE TABLE logged_models (
  model_id VARCHAR(36) NOT NULL, experiment_id INTEGER NOT NULL, name VARCHAR(500) NOT NULL,
  artifact_location VARCHAR(1000) NOT NULL, creation_timestamp_ms BIGINT NOT NULL,
  last_updated_timestamp_ms BIGINT NOT NULL, status INTEGER NOT NULL, lifecycle_stage VARCHAR(32),
  model_type VARCHAR(500), source_run_id VARCHAR(32), status_message VARCHAR(1000),
  CONSTRAINT logged_models_pk PRIMARY KEY (model_id),
  CONSTRAINT fk_logged_models_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id) ON DELETE CASCADE,
  CONSTRAINT logged_models_lifecycle_stage_check CHECK (lifecycle_stage IN ('active', 'deleted')));
CREATE TABLE logged_model_params (model_id VARCHAR(36) NOT NULL, experiment_id INTEGER NOT NULL,
  param_key VARCHAR(255) NOT NULL, param_value TEXT NOT NULL,
  CONSTRAINT logged_model_params_pk PRIMARY KEY (model_id, param_key),
  CONSTRAINT fk_logged_model_params_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id),
  CONSTRAINT fk_logged_model_params_model_id FOREIGN KEY(model_id) REFERENCES logged_models (model_id) ON DELETE CASCADE);
CREATE TABLE logged_model_tags (model_id VARCHAR(36) NOT NULL, experiment_id INTEGER NOT NULL,
  tag_key VARCHAR(255) NOT NULL, tag_value TEXT NOT NULL,
  CONSTRAINT logged_model_tags_pk PRIMARY KEY (model_id, tag_key),
  CONSTRAINT fk_logged_model_tags_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id),
  CONSTRAINT fk_logged_model_tags_model_id FOREIGN KEY(model_id) REFERENCES logged_models (model_id) ON DELETE CASCADE);
ALTER TABLE inputs ADD COLUMN step BIGINT DEFAULT '0' NOT NULL;
UPDATE alembic_version SET version_num = '6953534de441';
`

// NewMLflow3DB creates an mlrun database at path (new experiments under
// artifactRoot, "" for ./mlruns) and upgrades it as MLflow
// 3's migrations would for logged models (MLflow3Upgrade).
func NewMLflow3DB(t testing.TB, path, artifactRoot string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{ArtifactRoot: artifactRoot})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(MLflow3Upgrade); err != nil {
		t.Fatal(err)
	}
}
