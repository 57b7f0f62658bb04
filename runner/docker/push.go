package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"

	"github.com/mlrun/mlrun/runner"
)

// PushImage pushes ref to its registry with the credentials the local
// Docker config holds for it (config.json's auths, credHelpers or
// credsStore, as the docker CLI finds them), and returns the digest the
// registry gave it (sha256:…).
func PushImage(ctx context.Context, cli *client.Client, out io.Writer, ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("%w: image %q: %v", runner.ErrInvalid, ref, err)
	}
	auth, err := registryAuth(reference.Domain(named))
	if err != nil {
		return "", err
	}
	fmt.Fprintf(out, "mlrun: pushing image %s\n", ref)
	rc, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		return "", fmt.Errorf("%w: push image %s: %v", runner.ErrBackendUnavailable, ref, firstLine(err.Error()))
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	digest := ""
	for {
		var m struct {
			Error string `json:"error"`
			Aux   struct {
				Digest string `json:"Digest"`
			} `json:"aux"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("push image %s: %w", ref, err)
		}
		if m.Error != "" {
			return "", fmt.Errorf("%w: Error while pushing to docker registry: %s", runner.ErrBackendUnavailable, strings.TrimSpace(m.Error))
		}
		if m.Aux.Digest != "" {
			digest = m.Aux.Digest
		}
	}
	if digest == "" {
		return "", fmt.Errorf("%w: push image %s: the registry gave no digest", runner.ErrBackendUnavailable, ref)
	}
	return digest, nil
}

// dockerConfig is the part of the docker CLI's config.json that holds
// registry credentials.
type dockerConfig struct {
	Auths map[string]struct {
		Auth          string `json:"auth"`
		IdentityToken string `json:"identitytoken"`
	} `json:"auths"`
	CredsStore  string            `json:"credsStore"`
	CredHelpers map[string]string `json:"credHelpers"`
}

// registryAuth is the X-Registry-Auth value for host from the local
// Docker config ("" when it has none: an anonymous push).
func registryAuth(host string) (string, error) {
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".docker")
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("docker config: %w", err)
	}
	var cfg dockerConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return "", fmt.Errorf("%w: %s: %v", runner.ErrInvalid, filepath.Join(dir, "config.json"), err)
	}
	keys := []string{host, "https://" + host, "http://" + host}
	if host == "docker.io" {
		keys = append([]string{"https://index.docker.io/v1/", "index.docker.io"}, keys...)
	}
	ac := registry.AuthConfig{ServerAddress: keys[0]}
	helper := cfg.CredsStore
	for _, k := range keys {
		if h, ok := cfg.CredHelpers[k]; ok {
			helper = h
			break
		}
	}
	found := false
	if helper != "" {
		user, secret, ok, err := fromHelper(helper, keys[0])
		if err != nil {
			return "", err
		}
		if ok {
			found = true
			if user == "<token>" {
				ac.IdentityToken = secret
			} else {
				ac.Username, ac.Password = user, secret
			}
		}
	}
	for _, k := range keys {
		a, ok := cfg.Auths[k]
		if found || !ok {
			continue
		}
		found = true
		ac.IdentityToken = a.IdentityToken
		if a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return "", fmt.Errorf("%w: docker config: the auth of %s is not base64", runner.ErrInvalid, k)
			}
			ac.Username, ac.Password, _ = strings.Cut(string(raw), ":")
		}
	}
	if !found {
		return "", nil
	}
	return registry.EncodeAuthConfig(ac)
}

// fromHelper asks docker-credential-<helper> for server's credentials
// (the credential helpers' protocol: the server on stdin, JSON out).
func fromHelper(helper, server string) (user, secret string, ok bool, err error) {
	cmd := exec.Command("docker-credential-"+helper, "get")
	cmd.Stdin = strings.NewReader(server)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && strings.Contains(string(out)+string(ee.Stderr), "credentials not found") {
			return "", "", false, nil
		}
		return "", "", false, fmt.Errorf("%w: docker-credential-%s get %s: %v", runner.ErrBackendUnavailable, helper, server, err)
	}
	var c struct{ Username, Secret string }
	if err := json.Unmarshal(out, &c); err != nil {
		return "", "", false, fmt.Errorf("docker-credential-%s: %w", helper, err)
	}
	return c.Username, c.Secret, true, nil
}
