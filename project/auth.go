package project

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// gitAuth returns the URL to give go-git (credentials removed) and the
// authentication for it:
//   - https: a user and password (or token) from the URL, else from
//     MLRUN_GIT_USERNAME and MLRUN_GIT_PASSWORD;
//   - ssh (ssh:// or git@host:org/repo.git): ssh-agent when SSH_AUTH_SOCK
//     is set, else the IdentityFile ~/.ssh/config gives the host, else the
//     first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa (HostName, Port and User
//     also come from ~/.ssh/config, see sshConfig); host
//     keys checked against known_hosts ($SSH_KNOWN_HOSTS, ~/.ssh/known_hosts,
//     /etc/ssh/ssh_known_hosts).
//
// An ssh host that does not resolve (after ~/.ssh/config's HostName) is
// reported as such, wrapping the *net.DNSError, before any key is looked
// for: "no ssh credentials" would send the user looking in the wrong place.
func gitAuth(ctx context.Context, remote string) (string, transport.AuthMethod, error) {
	if strings.HasPrefix(remote, "http://") || strings.HasPrefix(remote, "https://") {
		u, err := url.Parse(remote)
		if err != nil {
			return "", nil, invalidf("git URL %s does not parse", Redact(remote))
		}
		var auth *http.BasicAuth
		if u.User != nil {
			pw, has := u.User.Password()
			if has {
				auth = &http.BasicAuth{Username: u.User.Username(), Password: pw}
			} else {
				auth = &http.BasicAuth{Username: "git", Password: u.User.Username()} // a token alone
			}
			u.User = nil
		} else if name := os.Getenv("MLRUN_GIT_USERNAME"); name != "" || os.Getenv("MLRUN_GIT_PASSWORD") != "" {
			auth = &http.BasicAuth{Username: name, Password: os.Getenv("MLRUN_GIT_PASSWORD")}
		}
		if auth == nil {
			return u.String(), nil, nil
		}
		return u.String(), auth, nil
	}
	if strings.HasPrefix(remote, "ssh://") || strings.HasPrefix(remote, "git+ssh://") || (looksRemote(remote) && !strings.Contains(remote, "://")) {
		if err := resolveSSHHost(ctx, remote); err != nil {
			return "", nil, err
		}
		auth, err := sshAuth(remote)
		return remote, auth, err
	}
	return remote, nil, nil
}

// sshHost returns the host (or ssh_config alias) of an ssh remote.
func sshHost(remote string) string {
	if strings.Contains(remote, "://") {
		if u, err := url.Parse(remote); err == nil {
			return u.Hostname()
		}
		return ""
	}
	host, _, _ := strings.Cut(remote, ":")
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = host[at+1:]
	}
	return host
}

// resolveSSHHost checks that the host an ssh remote connects to (the
// HostName ~/.ssh/config gives its alias, else the host itself) resolves.
// Only a definite "no such host" is an error: a resolver that cannot be
// reached leaves the verdict to the connection itself.
func resolveSSHHost(ctx context.Context, remote string) error {
	alias := sshHost(remote)
	host := alias
	if h := (sshConfig{}).Get(alias, "HostName"); h != "" {
		host = h
	}
	if host == "" || net.ParseIP(host) != nil {
		return nil
	}
	_, err := net.DefaultResolver.LookupHost(ctx, host)
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		if host != alias {
			return fmt.Errorf("ssh host %s (HostName of %s in ~/.ssh/config) does not resolve: %w", host, alias, err)
		}
		return fmt.Errorf("ssh host %s does not resolve (check the URL, or add a Host entry to ~/.ssh/config): %w", host, err)
	}
	return nil
}

// sshUser returns the user of an ssh remote: from the URL, else the
// User of ~/.ssh/config for its host, else the current user.
func sshUser(remote string) string {
	if u, err := url.Parse(remote); err == nil && u.User != nil && strings.Contains(remote, "://") {
		return u.User.Username()
	}
	if at := strings.Index(remote, "@"); at > 0 && !strings.Contains(remote[:at], "/") {
		return remote[:at]
	}
	if name := (sshConfig{}).Get(sshHost(remote), "User"); name != "" {
		return name
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "git"
}

func sshAuth(remote string) (transport.AuthMethod, error) {
	name := sshUser(remote)
	hostKeys, err := gitssh.NewKnownHostsCallback()
	if err != nil {
		return nil, fmt.Errorf("ssh known_hosts: %w (add the server with ssh-keyscan, or set SSH_KNOWN_HOSTS)", err)
	}
	if os.Getenv("SSH_AUTH_SOCK") != "" {
		a, err := gitssh.NewSSHAgentAuth(name)
		if err == nil {
			a.HostKeyCallback = hostKeys
			return a, nil
		}
	}
	home, _ := os.UserHomeDir()
	var keys []string
	if p := (sshConfig{}).Get(sshHost(remote), "IdentityFile"); p != "" {
		keys = append(keys, expandHome(p))
	}
	for _, k := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		keys = append(keys, filepath.Join(home, ".ssh", k))
	}
	for _, p := range keys {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		a, err := gitssh.NewPublicKeysFromFile(name, p, os.Getenv("MLRUN_SSH_KEY_PASSPHRASE"))
		if err != nil {
			return nil, fmt.Errorf("ssh key %s: %w", p, err)
		}
		a.HostKeyCallback = hostKeys
		return a, nil
	}
	return nil, errors.New("no ssh credentials: start ssh-agent (SSH_AUTH_SOCK) or put a key in ~/.ssh/id_ed25519")
}
