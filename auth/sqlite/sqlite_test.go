package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/auth"
	authsqlite "github.com/mlrun/mlrun/auth/sqlite"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
)

// MLflowDB writes the MLflow-written basic_auth.db of testdata (kept as
// its SQL dump) into a new file and returns its path.
func mlflowDB(t *testing.T) string {
	t.Helper()
	dump, err := os.ReadFile("testdata/basic_auth.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "basic_auth.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(dump)); err != nil {
		t.Fatal(err)
	}
	return path
}

func schema(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	space := regexp.MustCompile(`\s+`)
	for rows.Next() {
		var name, ddl string
		rows.Scan(&name, &ddl)
		ddl = space.ReplaceAllString(ddl, " ")
		ddl = strings.ReplaceAll(strings.ReplaceAll(ddl, "( ", "("), " )", ")")
		b.WriteString(name + ": " + ddl + "\n")
	}
	return b.String()
}

// TestOpensMLflowDatabase opens the MLflow-written database: every user
// logs in with its password (werkzeug 3's scrypt and pbkdf2 forms, 2.2's
// pbkdf2:sha256:260000), the rows are read, and writes land in MLflow's
// tables.
func TestOpensMLflowDatabase(t *testing.T) {
	ctx := context.Background()
	path := mlflowDB(t)
	st, err := authsqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for name, pw := range map[string]string{"admin": "password", "alice": "alice-pw", "bob": "bob:pw with colon", "carol": "carol-pw"} {
		u, err := st.GetUser(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if !auth.CheckPassword(u.PasswordHash, pw) || auth.CheckPassword(u.PasswordHash, pw+"!") {
			t.Errorf("%s: werkzeug's hash %s… does not verify as it should", name, u.PasswordHash[:22])
		}
		if u.IsAdmin != (name == "admin") {
			t.Errorf("%s: is_admin %v", name, u.IsAdmin)
		}
	}
	bob, _ := st.GetUser(ctx, "bob")
	if bob.Experiment("1", auth.Manage) != auth.Read || bob.Experiment("2", auth.Read) != auth.Edit || bob.Experiment("3", auth.NoPermissions) != auth.NoPermissions {
		t.Fatalf("bob's rows: %+v", bob.ExperimentPermissions)
	}
	carol, _ := st.GetUser(ctx, "carol")
	if carol.Model("wine-model", auth.Edit) != auth.Read || carol.Experiment("0", auth.Read) != auth.NoPermissions {
		t.Fatalf("carol's rows: %+v %+v", carol.ExperimentPermissions, carol.RegisteredModelPermissions)
	}
	// Writes.
	if _, err := st.CreateUser(ctx, "dave", "dave-pw", false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, "dave", "x", false); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate user: %v", err)
	}
	if _, err := st.CreateExperimentPermission(ctx, "1", "dave", auth.Edit); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateExperimentPermission(ctx, "1", "dave", auth.Read); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate row: %v", err)
	}
	if _, err := st.CreateExperimentPermission(ctx, "1", "nobody", auth.Read); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("row for an unknown user: %v", err)
	}
	if err := st.UpdateExperimentPermission(ctx, "9", "dave", auth.Read); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a missing row: %v", err)
	}
	// Renames carry every row; a delete removes every row; deleting a
	// user holding rows removes them too (MLflow fails there).
	if err := st.RenameModelPermissions(ctx, "wine-model", "wine"); err != nil {
		t.Fatal(err)
	}
	alice, _ := st.GetUser(ctx, "alice")
	if alice.Model("wine", auth.Read) != auth.Manage || alice.Model("wine-model", auth.Read) != auth.Read {
		t.Fatalf("after rename: %+v", alice.RegisteredModelPermissions)
	}
	if err := st.DeleteModelPermissions(ctx, "wine"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetModelPermission(ctx, "wine", "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("carol's row survived the model's delete: %v", err)
	}
	if err := st.DeleteUser(ctx, "bob"); err != nil {
		t.Fatalf("delete a user holding rows: %v", err)
	}
	db, _ := sql.Open("sqlite3", path)
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM experiment_permissions WHERE user_id = 3`).Scan(&n)
	if n != 0 {
		t.Fatalf("bob's %d rows are left", n)
	}
	var hash string
	db.QueryRow(`SELECT password_hash FROM users WHERE username = 'dave'`).Scan(&hash)
	if !strings.HasPrefix(hash, "pbkdf2:sha256:260000$") {
		t.Fatalf("dave's hash %q is not werkzeug's pbkdf2 form", hash)
	}
}

// TestNewDatabaseIsMLflows: a database mlrun creates has exactly MLflow's
// schema and revision (so MLflow's auth app opens it), and its hashes
// verify with werkzeug itself.
func TestNewDatabaseIsMLflows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	st, err := authsqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, "erin", "erin:pw", false)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := schema(t, path), schema(t, mlflowDB(t)); got != want {
		t.Fatalf("schema differs from MLflow's:\n%s\nwant\n%s", got, want)
	}
	testutil.Require(t, "python3", "apt-get install python3 python3-werkzeug")
	out, err := exec.Command("python3", "-c", "import sys; from werkzeug.security import check_password_hash as c; print(c(sys.argv[1], 'erin:pw'), c(sys.argv[1], 'erin'))", u.PasswordHash).CombinedOutput()
	if err != nil {
		t.Fatalf("werkzeug (apt-get install python3-werkzeug): %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) != "True False" {
		t.Fatalf("werkzeug's check_password_hash on mlrun's hash: %s", out)
	}
	// An older or foreign revision is refused by name.
	db, _ := sql.Open("sqlite3", path)
	db.Exec(`UPDATE alembic_version SET version_num = 'abc123'`)
	db.Close()
	if _, err := authsqlite.Open(ctx, path); err == nil || !strings.Contains(err.Error(), "abc123") || !strings.Contains(err.Error(), authsqlite.Revision) {
		t.Fatalf("foreign revision: %v", err)
	}
}
