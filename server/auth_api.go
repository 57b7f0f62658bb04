package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"

	"github.com/mlrun/mlrun/auth"
	"github.com/mlrun/mlrun/store"
)

// authRoutes registers the basic-auth app's user and permission endpoints
// (only under /api/2.0/mlflow, as MLflow) and its sign-up page.
func (s *Server) authRoutes() {
	const p = "/api/2.0/mlflow"
	for pattern, h := range map[string]http.HandlerFunc{
		"POST " + p + "/users/create":                           s.createUser,
		"GET " + p + "/users/get":                               s.getUser,
		"PATCH " + p + "/users/update-password":                 s.updatePassword,
		"PATCH " + p + "/users/update-admin":                    s.updateAdmin,
		"DELETE " + p + "/users/delete":                         s.deleteUser,
		"POST " + p + "/experiments/permissions/create":         s.experimentPermission("create"),
		"GET " + p + "/experiments/permissions/get":             s.experimentPermission("get"),
		"PATCH " + p + "/experiments/permissions/update":        s.experimentPermission("update"),
		"DELETE " + p + "/experiments/permissions/delete":       s.experimentPermission("delete"),
		"POST " + p + "/registered-models/permissions/create":   s.modelPermission("create"),
		"GET " + p + "/registered-models/permissions/get":       s.modelPermission("get"),
		"PATCH " + p + "/registered-models/permissions/update":  s.modelPermission("update"),
		"DELETE " + p + "/registered-models/permissions/delete": s.modelPermission("delete"),
		"GET /signup": s.signupPage,
	} {
		s.route(pattern, h)
	}
}

// The auth app's JSON: compact, keys sorted, a trailing newline (Flask's
// jsonify); never a password hash.
type userJSON struct {
	ExperimentPermissions      []expPermJSON   `json:"experiment_permissions"`
	ID                         int64           `json:"id"`
	IsAdmin                    bool            `json:"is_admin"`
	RegisteredModelPermissions []modelPermJSON `json:"registered_model_permissions"`
	Username                   string          `json:"username"`
}

type expPermJSON struct {
	ExperimentID string `json:"experiment_id"`
	Permission   string `json:"permission"`
	UserID       int64  `json:"user_id"`
}

type modelPermJSON struct {
	Name       string `json:"name"`
	Permission string `json:"permission"`
	UserID     int64  `json:"user_id"`
}

func toUserJSON(u *auth.User) userJSON {
	out := userJSON{ID: u.ID, IsAdmin: u.IsAdmin, Username: u.Username,
		ExperimentPermissions: []expPermJSON{}, RegisteredModelPermissions: []modelPermJSON{}}
	for _, p := range u.ExperimentPermissions {
		out.ExperimentPermissions = append(out.ExperimentPermissions, expPermJSON{p.ExperimentID, string(p.Permission), p.UserID})
	}
	for _, p := range u.RegisteredModelPermissions {
		out.RegisteredModelPermissions = append(out.RegisteredModelPermissions, modelPermJSON{p.Name, string(p.Permission), p.UserID})
	}
	return out
}

func writeAuthJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "could not encode the response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(append(b, '\n'))
}

// authCall reads a request's parameters and answers with fn's value or
// MLflow's JSON error.
func authCall(w http.ResponseWriter, r *http.Request, fn func(in map[string]any) (any, error)) {
	in, err := requestParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := fn(in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeAuthJSON(w, out)
}

func params2(in map[string]any, a, b string) (string, string, error) {
	x, err := param(in, a)
	if err != nil {
		return "", "", err
	}
	y, err := param(in, b)
	return x, y, err
}

// createUser is users/create: JSON for clients, the form for /signup;
// MLflow dispatches on the exact Content-Type.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	switch r.Header.Get("Content-Type") {
	case "application/json":
		authCall(w, r, func(in map[string]any) (any, error) {
			username, _ := in["username"].(string)
			password, ok := in["password"].(string)
			if _, has := in["username"]; !has {
				return nil, missingParam("username")
			}
			if !ok {
				return nil, missingParam("password")
			}
			u, err := s.opts.Auth.Store.CreateUser(r.Context(), username, password, false)
			if err != nil {
				return nil, err
			}
			return map[string]any{"user": toUserJSON(u)}, nil
		})
	case "application/x-www-form-urlencoded":
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			writeError(w, r, invalidParam("could not read the form"))
			return
		}
		username, password := r.PostFormValue("username"), r.PostFormValue("password")
		_, err := s.opts.Auth.Store.CreateUser(r.Context(), username, password, false)
		msg, to := "Successfully signed up user: "+username, "/"
		if err != nil {
			msg, to = err.Error(), "/signup"
			if errors.Is(err, store.ErrAlreadyExists) {
				msg = "Username has already been taken: " + username
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		signupDone.Execute(w, map[string]string{"Message": msg, "To": to})
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "Invalid content type. Must be one of: application/x-www-form-urlencoded, application/json")
	}
}

var signupDone = template.Must(template.New("done").Parse(`<script>alert({{.Message}}); window.location.href = {{.To}};</script>`))

var signupForm = template.Must(template.New("signup").Parse(`<!doctype html><title>Sign up</title>
<form action="/api/2.0/mlflow/users/create" method="post">
<label>Username <input type="text" name="username" required></label>
<label>Password <input type="password" name="password" required></label>
<input type="submit" value="Sign up"></form>`))

func (s *Server) signupPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	signupForm.Execute(w, nil)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	authCall(w, r, func(in map[string]any) (any, error) {
		name, err := param(in, "username")
		if err != nil {
			return nil, err
		}
		u, err := s.opts.Auth.Store.GetUser(r.Context(), name)
		if err != nil {
			return nil, err
		}
		return map[string]any{"user": toUserJSON(u)}, nil
	})
}

func (s *Server) updatePassword(w http.ResponseWriter, r *http.Request) {
	authCall(w, r, func(in map[string]any) (any, error) {
		name, err := param(in, "username")
		if err != nil {
			return nil, err
		}
		pw, ok := in["password"].(string)
		if !ok {
			return nil, missingParam("password")
		}
		return empty{}, s.opts.Auth.Store.UpdatePassword(r.Context(), name, pw)
	})
}

func (s *Server) updateAdmin(w http.ResponseWriter, r *http.Request) {
	authCall(w, r, func(in map[string]any) (any, error) {
		name, err := param(in, "username")
		if err != nil {
			return nil, err
		}
		var admin bool
		switch v := in["is_admin"].(type) {
		case bool:
			admin = v
		case float64:
			if v != 0 && v != 1 {
				return nil, &apiError{"BAD_REQUEST", fmt.Sprintf("is_admin must be a boolean, got %v", v)}
			}
			admin = v == 1
		case nil:
			return nil, missingParam("is_admin")
		default:
			return nil, &apiError{"BAD_REQUEST", fmt.Sprintf("is_admin must be a boolean, got %v", v)}
		}
		return empty{}, s.opts.Auth.Store.UpdateAdmin(r.Context(), name, admin)
	})
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	authCall(w, r, func(in map[string]any) (any, error) {
		name, err := param(in, "username")
		if err != nil {
			return nil, err
		}
		return empty{}, s.opts.Auth.Store.DeleteUser(r.Context(), name)
	})
}

// permissionOf reads a request's permission (checked before anything
// else, as MLflow).
func permissionOf(in map[string]any) (auth.Permission, error) {
	p, err := param(in, "permission")
	if err != nil {
		return "", err
	}
	return auth.ParsePermission(p)
}

// grants is one permission family's endpoints: the locating parameter,
// the response key and the store's calls (rows as their JSON).
type grants struct {
	param, key string
	create     func(ctx context.Context, id, user string, p auth.Permission) (any, error)
	get        func(ctx context.Context, id, user string) (any, error)
	update     func(ctx context.Context, id, user string, p auth.Permission) error
	delete     func(ctx context.Context, id, user string) error
}

func (s *Server) experimentPermission(op string) http.HandlerFunc {
	st := s.opts.Auth.Store
	return s.permissionEndpoint(op, grants{param: "experiment_id", key: "experiment_permission",
		create: func(ctx context.Context, id, user string, p auth.Permission) (any, error) {
			r, err := st.CreateExperimentPermission(ctx, id, user, p)
			if err != nil {
				return nil, err
			}
			return expPermJSON{r.ExperimentID, string(r.Permission), r.UserID}, nil
		},
		get: func(ctx context.Context, id, user string) (any, error) {
			r, err := st.GetExperimentPermission(ctx, id, user)
			if err != nil {
				return nil, err
			}
			return expPermJSON{r.ExperimentID, string(r.Permission), r.UserID}, nil
		},
		update: st.UpdateExperimentPermission, delete: st.DeleteExperimentPermission})
}

func (s *Server) modelPermission(op string) http.HandlerFunc {
	st := s.opts.Auth.Store
	return s.permissionEndpoint(op, grants{param: "name", key: "registered_model_permission",
		create: func(ctx context.Context, id, user string, p auth.Permission) (any, error) {
			r, err := st.CreateModelPermission(ctx, id, user, p)
			if err != nil {
				return nil, err
			}
			return modelPermJSON{r.Name, string(r.Permission), r.UserID}, nil
		},
		get: func(ctx context.Context, id, user string) (any, error) {
			r, err := st.GetModelPermission(ctx, id, user)
			if err != nil {
				return nil, err
			}
			return modelPermJSON{r.Name, string(r.Permission), r.UserID}, nil
		},
		update: st.UpdateModelPermission, delete: st.DeleteModelPermission})
}

// permissionEndpoint serves one of create, get, update, delete of a
// family: the permission is checked first, then the parameters, as
// MLflow does.
func (s *Server) permissionEndpoint(op string, g grants) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		authCall(w, r, func(in map[string]any) (any, error) {
			ctx := r.Context()
			var perm auth.Permission
			if op == "create" || op == "update" {
				p, err := permissionOf(in)
				if err != nil {
					return nil, err
				}
				perm = p
			}
			id, user, err := params2(in, g.param, "username")
			if err != nil {
				return nil, err
			}
			switch op {
			case "create":
				row, err := g.create(ctx, id, user, perm)
				if err != nil {
					return nil, err
				}
				return map[string]any{g.key: row}, nil
			case "get":
				row, err := g.get(ctx, id, user)
				if err != nil {
					return nil, err
				}
				return map[string]any{g.key: row}, nil
			case "update":
				return empty{}, g.update(ctx, id, user, perm)
			}
			return empty{}, g.delete(ctx, id, user)
		})
	}
}
