// Package auth holds the contract of MLflow's basic-auth app as mlrun
// serves it: users, the permissions READ, EDIT, MANAGE and NO_PERMISSIONS
// on experiments and registered models, the Store of them (MLflow's own
// auth database, in child packages such as auth/sqlite), the app's INI
// configuration and werkzeug's password hashes. Deciding which request
// needs which permission is the server's (server/auth.go).
package auth

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mlrun/mlrun/store"
)

// Permission is one of MLflow's four permissions.
type Permission string

// MLflow's permissions (mlflow/server/auth/permissions.py).
const (
	Read          Permission = "READ"
	Edit          Permission = "EDIT"
	Manage        Permission = "MANAGE"
	NoPermissions Permission = "NO_PERMISSIONS"
)

// Permissions lists them in MLflow's order (its error messages use it).
var Permissions = []Permission{Read, Edit, Manage, NoPermissions}

// ParsePermission checks a permission name (case-sensitive, as MLflow).
func ParsePermission(s string) (Permission, error) {
	for _, p := range Permissions {
		if string(p) == s {
			return p, nil
		}
	}
	return "", store.Invalidf("Invalid permission '%s'. Valid permissions are: ('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')", s)
}

// CanRead reports whether p allows reading.
func (p Permission) CanRead() bool { return p == Read || p == Edit || p == Manage }

// CanUpdate reports whether p allows writing (logging, editing).
func (p Permission) CanUpdate() bool { return p == Edit || p == Manage }

// CanDelete reports whether p allows deleting.
func (p Permission) CanDelete() bool { return p == Manage }

// CanManage reports whether p allows granting permissions.
func (p Permission) CanManage() bool { return p == Manage }

// User is a user with its permission rows.
type User struct {
	ID                         int64
	Username                   string
	PasswordHash               string // werkzeug's format; never sent to a client
	IsAdmin                    bool
	ExperimentPermissions      []ExperimentPermission
	RegisteredModelPermissions []ModelPermission
}

// ExperimentPermission is one row of experiment_permissions.
type ExperimentPermission struct {
	ExperimentID string
	UserID       int64
	Permission   Permission
}

// ModelPermission is one row of registered_model_permissions.
type ModelPermission struct {
	Name       string
	UserID     int64
	Permission Permission
}

// Experiment returns u's permission on an experiment: its row, else def.
func (u *User) Experiment(id string, def Permission) Permission {
	for _, p := range u.ExperimentPermissions {
		if p.ExperimentID == id {
			return p.Permission
		}
	}
	return def
}

// Model returns u's permission on a registered model: its row, else def.
func (u *User) Model(name string, def Permission) Permission {
	for _, p := range u.RegisteredModelPermissions {
		if p.Name == name {
			return p.Permission
		}
	}
	return def
}

// Store keeps users and permissions in MLflow's auth database. Errors use
// store's kinds: ErrNotFound, ErrAlreadyExists, ErrInvalidArgument.
type Store interface {
	// CreateUser adds a user (ErrAlreadyExists if the name is taken).
	CreateUser(ctx context.Context, username, password string, admin bool) (*User, error)
	// GetUser returns a user with its permission rows (ErrNotFound).
	GetUser(ctx context.Context, username string) (*User, error)
	UpdatePassword(ctx context.Context, username, password string) error
	UpdateAdmin(ctx context.Context, username string, admin bool) error
	// DeleteUser removes a user and its permission rows in one
	// transaction.
	DeleteUser(ctx context.Context, username string) error

	// CreateExperimentPermission adds a row (ErrAlreadyExists if there is
	// one; ErrNotFound for an unknown user). The experiment is not checked.
	CreateExperimentPermission(ctx context.Context, expID, username string, p Permission) (*ExperimentPermission, error)
	GetExperimentPermission(ctx context.Context, expID, username string) (*ExperimentPermission, error)
	UpdateExperimentPermission(ctx context.Context, expID, username string, p Permission) error
	DeleteExperimentPermission(ctx context.Context, expID, username string) error
	// SetExperimentPermission adds or replaces a row (a creator's MANAGE).
	SetExperimentPermission(ctx context.Context, expID, username string, p Permission) error

	CreateModelPermission(ctx context.Context, name, username string, p Permission) (*ModelPermission, error)
	GetModelPermission(ctx context.Context, name, username string) (*ModelPermission, error)
	UpdateModelPermission(ctx context.Context, name, username string, p Permission) error
	DeleteModelPermission(ctx context.Context, name, username string) error
	SetModelPermission(ctx context.Context, name, username string, p Permission) error
	// RenameModelPermissions moves every row of a model to its new name.
	RenameModelPermissions(ctx context.Context, oldName, newName string) error
	// DeleteModelPermissions removes every row of a model.
	DeleteModelPermissions(ctx context.Context, name string) error

	Close() error
}

// Config is the [mlflow] section of MLflow's basic_auth.ini.
type Config struct {
	DefaultPermission Permission
	DatabaseURI       string
	AdminUsername     string
	AdminPassword     string
}

// DefaultConfig is the basic_auth.ini MLflow ships.
var DefaultConfig = Config{DefaultPermission: Read, DatabaseURI: "sqlite:///basic_auth.db", AdminUsername: "admin", AdminPassword: "password"}

// DefaultAdminPassword is the shipped admin password; a server warns while
// the admin still has it.
const DefaultAdminPassword = "password"

// LoadConfig reads the file named by MLFLOW_AUTH_CONFIG_PATH, or returns
// DefaultConfig when the variable is unset.
func LoadConfig() (Config, error) {
	path := os.Getenv("MLFLOW_AUTH_CONFIG_PATH")
	if path == "" {
		return DefaultConfig, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("auth config (MLFLOW_AUTH_CONFIG_PATH): %w", err)
	}
	defer f.Close()
	c, err := ParseConfig(f)
	if err != nil {
		return Config{}, fmt.Errorf("auth config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig reads an INI file as Python's configparser does for
// MLflow's keys: section [mlflow], 'key = value' or 'key: value', keys
// case-insensitive, '#' and ';' comment lines. Every key but
// authorization_function is required; that one, if set, must be MLflow's
// Basic function (mlrun supports no other).
func ParseConfig(r io.Reader) (Config, error) {
	sections := map[string]map[string]string{}
	var cur map[string]string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			name := strings.TrimSpace(line[1 : len(line)-1])
			if sections[name] == nil {
				sections[name] = map[string]string{}
			}
			cur = sections[name]
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 || cur == nil {
			return Config{}, fmt.Errorf("line %d: want 'key = value' inside a [section]: %q", n, line)
		}
		cur[strings.ToLower(strings.TrimSpace(line[:i]))] = strings.TrimSpace(line[i+1:])
	}
	if err := sc.Err(); err != nil {
		return Config{}, err
	}
	sec, ok := sections["mlflow"]
	if !ok {
		return Config{}, fmt.Errorf("no [mlflow] section")
	}
	var c Config
	for key, dst := range map[string]*string{"database_uri": &c.DatabaseURI, "admin_username": &c.AdminUsername, "admin_password": &c.AdminPassword} {
		v, ok := sec[key]
		if !ok {
			return Config{}, fmt.Errorf("[mlflow] has no %s", key)
		}
		*dst = v
	}
	dp, ok := sec["default_permission"]
	if !ok {
		return Config{}, fmt.Errorf("[mlflow] has no default_permission")
	}
	p, err := ParsePermission(dp)
	if err != nil {
		return Config{}, fmt.Errorf("default_permission: %w", err)
	}
	c.DefaultPermission = p
	if f, ok := sec["authorization_function"]; ok && f != "mlflow.server.auth:authenticate_request_basic_auth" {
		return Config{}, fmt.Errorf("authorization_function %s: mlrun supports only HTTP Basic (mlflow.server.auth:authenticate_request_basic_auth)", f)
	}
	if c.AdminUsername == "" {
		return Config{}, fmt.Errorf("admin_username is empty")
	}
	return c, nil
}
