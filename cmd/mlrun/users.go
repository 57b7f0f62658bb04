package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/store/rest"
)

// authClient is a client of a basic-auth server's user and permission
// endpoints, as the tracking URI and MLFLOW_TRACKING_USERNAME/PASSWORD
// name them (MLflow's AuthServiceClient).
type authClient struct {
	c *rest.Client
}

func newAuthClient(c *cli.Context) (*authClient, error) {
	uri := c.String("tracking-uri")
	if !isHTTP(uri) {
		return nil, fmt.Errorf("users and permissions live on a tracking server: set --tracking-uri or MLFLOW_TRACKING_URI to http(s)://host:port of an 'mlrun server --app-name basic-auth'")
	}
	rc, err := rest.New(uri, rest.OptionsFromEnv())
	if err != nil {
		return nil, err
	}
	return &authClient{c: rc}, nil
}

// call sends one request (GET: in as the query) and decodes the answer.
func (a *authClient) call(c *cli.Context, method, endpoint string, in map[string]any, out any) error {
	path := "/api/2.0/mlflow" + endpoint
	var body io.Reader
	h := http.Header{}
	if method == http.MethodGet {
		q := url.Values{}
		for k, v := range in {
			q.Set(k, fmt.Sprint(v))
		}
		path += "?" + q.Encode()
	} else {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
		h.Set("Content-Type", "application/json")
	}
	resp, err := a.c.Do(c.Context, method, path, body, h)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code    string `json:"error_code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &e) == nil && e.Code != "" {
			return fmt.Errorf("%s (%s)", e.Message, e.Code)
		}
		msg := strings.TrimSpace(string(b))
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			msg = "not authenticated: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
		case http.StatusNotFound:
			msg = "this server has no user endpoints: start it with --app-name basic-auth"
		}
		return fmt.Errorf("%s %s: %d %s", method, endpoint, resp.StatusCode, msg)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// passwordOf takes --password, else one line of standard input.
func passwordOf(c *cli.Context) (string, error) {
	if c.IsSet("password") {
		return c.String("password"), nil
	}
	fmt.Fprint(c.App.ErrWriter, "Password: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no password: give --password or type it on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func usersCommand() *cli.Command {
	pw := &cli.StringFlag{Name: "password", Usage: "the password (else read from standard input)"}
	one := func(name, usage string, flags []cli.Flag, fn func(c *cli.Context, a *authClient, user string) error) *cli.Command {
		return &cli.Command{
			Name: name, Usage: usage, ArgsUsage: "USERNAME", Flags: append([]cli.Flag{trackingFlag}, flags...),
			Action: func(c *cli.Context) error {
				user := c.Args().First()
				if user == "" {
					return fmt.Errorf("users %s: give a USERNAME", name)
				}
				a, err := newAuthClient(c)
				if err != nil {
					return err
				}
				return fn(c, a, user)
			},
		}
	}
	return &cli.Command{
		Name:  "users",
		Usage: "manage the users of a basic-auth server (as its admin)",
		Subcommands: []*cli.Command{
			one("create", "create a user", []cli.Flag{pw, &cli.BoolFlag{Name: "admin", Usage: "make the user an admin"}}, func(c *cli.Context, a *authClient, user string) error {
				p, err := passwordOf(c)
				if err != nil {
					return err
				}
				if err := a.call(c, "POST", "/users/create", map[string]any{"username": user, "password": p}, nil); err != nil {
					return err
				}
				if c.Bool("admin") {
					if err := a.call(c, "PATCH", "/users/update-admin", map[string]any{"username": user, "is_admin": true}, nil); err != nil {
						return err
					}
				}
				fmt.Fprintf(c.App.Writer, "Created user %s\n", user)
				return nil
			}),
			one("get", "show a user and its permissions", []cli.Flag{jsonFlag}, func(c *cli.Context, a *authClient, user string) error {
				var out struct {
					User struct {
						ID      int64  `json:"id"`
						Name    string `json:"username"`
						IsAdmin bool   `json:"is_admin"`
						Exps    []struct {
							ID         string `json:"experiment_id"`
							Permission string `json:"permission"`
						} `json:"experiment_permissions"`
						Models []struct {
							Name       string `json:"name"`
							Permission string `json:"permission"`
						} `json:"registered_model_permissions"`
					} `json:"user"`
				}
				if err := a.call(c, "GET", "/users/get", map[string]any{"username": user}, &out); err != nil {
					return err
				}
				if c.Bool("json") {
					return json.NewEncoder(c.App.Writer).Encode(out)
				}
				tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "username\t%s\nid\t%d\nadmin\t%v\n", out.User.Name, out.User.ID, out.User.IsAdmin)
				for _, p := range out.User.Exps {
					fmt.Fprintf(tw, "experiment %s\t%s\n", p.ID, p.Permission)
				}
				for _, p := range out.User.Models {
					fmt.Fprintf(tw, "model %s\t%s\n", p.Name, p.Permission)
				}
				return tw.Flush()
			}),
			one("update-password", "change a user's password", []cli.Flag{pw}, func(c *cli.Context, a *authClient, user string) error {
				p, err := passwordOf(c)
				if err != nil {
					return err
				}
				return a.call(c, "PATCH", "/users/update-password", map[string]any{"username": user, "password": p}, nil)
			}),
			one("update-admin", "make a user an admin or not", []cli.Flag{&cli.BoolFlag{Name: "admin", Value: true, Usage: "--admin=false takes it away"}}, func(c *cli.Context, a *authClient, user string) error {
				return a.call(c, "PATCH", "/users/update-admin", map[string]any{"username": user, "is_admin": c.Bool("admin")}, nil)
			}),
			one("delete", "delete a user and its permissions", nil, func(c *cli.Context, a *authClient, user string) error {
				return a.call(c, "DELETE", "/users/delete", map[string]any{"username": user}, nil)
			}),
		},
	}
}

func permissionsCommand() *cli.Command {
	flags := func(withPermission bool) []cli.Flag {
		f := []cli.Flag{trackingFlag,
			&cli.StringFlag{Name: "experiment-id", Aliases: []string{"x"}, Usage: "on this experiment"},
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "on this registered model"},
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Required: true, Usage: "for this user"},
		}
		if withPermission {
			f = append(f, &cli.StringFlag{Name: "permission", Aliases: []string{"p"}, Required: true, Usage: "READ, EDIT, MANAGE or NO_PERMISSIONS"})
		}
		return f
	}
	// target returns the endpoint family and the locating parameter.
	target := func(c *cli.Context) (string, map[string]any, error) {
		x, m := c.String("experiment-id"), c.String("model")
		in := map[string]any{"username": c.String("username")}
		if p := c.String("permission"); p != "" {
			in["permission"] = p
		}
		switch {
		case x != "" && m == "":
			in["experiment_id"] = x
			return "/experiments/permissions/", in, nil
		case m != "" && x == "":
			in["name"] = m
			return "/registered-models/permissions/", in, nil
		}
		return "", nil, fmt.Errorf("permissions: give one of --experiment-id ID or --model NAME")
	}
	cmd := func(name, usage, method string, withPermission bool) *cli.Command {
		return &cli.Command{
			Name: name, Usage: usage, Flags: flags(withPermission),
			Action: func(c *cli.Context) error {
				family, in, err := target(c)
				if err != nil {
					return err
				}
				a, err := newAuthClient(c)
				if err != nil {
					return err
				}
				var out map[string]map[string]any
				if err := a.call(c, method, family+name, in, &out); err != nil {
					return err
				}
				for _, v := range out {
					fmt.Fprintf(c.App.Writer, "%s\n", v["permission"])
				}
				return nil
			},
		}
	}
	return &cli.Command{
		Name:  "permissions",
		Usage: "grant users READ, EDIT, MANAGE or NO_PERMISSIONS on experiments and registered models (basic-auth server)",
		Subcommands: []*cli.Command{
			cmd("create", "grant a permission", "POST", true),
			cmd("get", "show a user's permission", "GET", false),
			cmd("update", "change a granted permission", "PATCH", true),
			cmd("delete", "take a granted permission away (the default applies again)", "DELETE", false),
		},
	}
}
