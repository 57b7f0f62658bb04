package sqlstore

// HeadRevision is the alembic revision of the schema mlrun creates: the
// head of MLflow 3.6.0's migrations (its database is in
// shared/testdata/mlflow-3.6).
const HeadRevision = "bf29a5ff90ea"

// MLflow2Revision is MLflow 2.17.2's head, the oldest revision mlrun
// opens.
const MLflow2Revision = "f5a4f2784254"

// Chain is MLflow's revision chain from MLflow2Revision to HeadRevision,
// oldest first (mlflow/store/db_migrations/versions/). mlrun opens a
// database at any of them; mlrun db upgrade brings it to the last.
var Chain = []string{
	MLflow2Revision, "0584bdc529eb", "400f98739977", "6953534de441", "bda7b8c39065",
	"cbc13b556ace", "770bee3ae1dd", "a1b2c3d4e5f6", "de4033877273", "1a0cddfcaa16",
	"534353b11cbc", "71994744cf8e", "3da73c924c2f", HeadRevision,
}
