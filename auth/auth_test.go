package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/auth"
	"github.com/mlrun/mlrun/store"
)

func TestPasswordHashes(t *testing.T) {
	h, err := auth.HashPassword("s3cret:with colon")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	if len(parts) != 3 || parts[0] != "pbkdf2:sha256:260000" || len(parts[1]) != 16 || len(parts[2]) != 64 {
		t.Fatalf("hash %q is not werkzeug's pbkdf2:sha256:260000$<16>$<64 hex> form", h)
	}
	if !auth.CheckPassword(h, "s3cret:with colon") || auth.CheckPassword(h, "s3cret") {
		t.Fatal("a hash of ours does not verify as it should")
	}
	if h2, _ := auth.HashPassword("s3cret:with colon"); h2 == h {
		t.Fatal("two hashes of one password share a salt")
	}
	// Hashes written by werkzeug itself (python3 -c 'from werkzeug.security
	// import generate_password_hash as g; print(g("pw", method=...))').
	for hash, pw := range map[string]string{
		"scrypt:32768:8:1$4t5fBdtgjVwcNJau$6b9d993c3cb1cce7538805c69e6265b87b1688e886d23fced906bce94678b509ec8576485b456077b27e75a08ed765e0a260b50e584bf59e84986be5492a8c5c": "pw",
	} {
		if !auth.CheckPassword(hash, pw) {
			t.Errorf("werkzeug's %s does not verify", hash[:20])
		}
		if auth.CheckPassword(hash, pw+"x") {
			t.Errorf("werkzeug's %s verifies a wrong password", hash[:20])
		}
	}
	for _, bad := range []string{"", "plain", "pbkdf2:sha256:260000$salt", "md5$a$b", "pbkdf2:sha256:x$a$b", "scrypt:99999999999:8:1$a$b", "pbkdf2:sha256:99999999999$a$b"} {
		if auth.CheckPassword(bad, "") {
			t.Errorf("malformed hash %q verified", bad)
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := auth.ParseConfig(strings.NewReader("# MLflow's basic_auth.ini\n[mlflow]\ndefault_permission = EDIT\nDATABASE_URI: sqlite:///auth.db\nadmin_username = root\nadmin_password = pw=with=equals\n\n[other]\nx = 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c != (auth.Config{DefaultPermission: auth.Edit, DatabaseURI: "sqlite:///auth.db", AdminUsername: "root", AdminPassword: "pw=with=equals"}) {
		t.Fatalf("config %+v", c)
	}
	for text, want := range map[string]string{
		"[other]\nx = 1\n": "no [mlflow] section",
		"[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:///a.db\nadmin_username = admin\n":                                            "no admin_password",
		"[mlflow]\ndefault_permission = WRITE\ndatabase_uri = sqlite:///a.db\nadmin_username = a\nadmin_password = b\n":                           "Invalid permission 'WRITE'",
		"[mlflow]\ndefault_permission = READ\ndatabase_uri = x\nadmin_username = a\nadmin_password = b\nauthorization_function = m:custom_auth\n": "only HTTP Basic",
		"key without section = 1\n": "inside a [section]",
	} {
		if _, err := auth.ParseConfig(strings.NewReader(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %q", text, err, want)
		}
	}
}

func TestPermissions(t *testing.T) {
	for _, c := range []struct {
		p                         auth.Permission
		read, update, del, manage bool
	}{{auth.Read, true, false, false, false}, {auth.Edit, true, true, false, false}, {auth.Manage, true, true, true, true}, {auth.NoPermissions, false, false, false, false}} {
		if c.p.CanRead() != c.read || c.p.CanUpdate() != c.update || c.p.CanDelete() != c.del || c.p.CanManage() != c.manage {
			t.Errorf("%s: wrong flags", c.p)
		}
	}
	if _, err := auth.ParsePermission("read"); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("lower-case permission: %v", err)
	}
	u := &auth.User{ExperimentPermissions: []auth.ExperimentPermission{{ExperimentID: "1", Permission: auth.Edit}}}
	if u.Experiment("1", auth.Read) != auth.Edit || u.Experiment("2", auth.Read) != auth.Read {
		t.Fatal("row over default")
	}
}

// BenchmarkCheckPassword is what verifying one request's credentials
// costs without mlrun's cache (MLflow's app pays it on every request).
func BenchmarkCheckPassword(b *testing.B) {
	for name, hash := range map[string]string{
		"pbkdf2-260000":    func() string { h, _ := auth.HashPassword("pw"); return h }(),
		"scrypt-werkzeug3": "scrypt:32768:8:1$4t5fBdtgjVwcNJau$6b9d993c3cb1cce7538805c69e6265b87b1688e886d23fced906bce94678b509ec8576485b456077b27e75a08ed765e0a260b50e584bf59e84986be5492a8c5c",
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if !auth.CheckPassword(hash, "pw") {
					b.Fatal("no match")
				}
			}
		})
	}
}
