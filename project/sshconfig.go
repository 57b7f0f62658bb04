package project

import (
	"os"
	"path/filepath"
	"strings"

	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/kevinburke/ssh_config"
)

// sshConfig reads OpenSSH client configuration for a host alias: the
// user's ~/.ssh/config (under $HOME, where mlrun also looks for keys and
// known_hosts), then /etc/ssh/ssh_config, the first value winning as in
// ssh(1). It is what lets git@alias:org/repo.git reach a server whose
// HostName, Port, User or IdentityFile are set in the user's config.
//
// go-git's own reader finds the home folder through the password database
// and ignores $HOME; mlrun installs this one instead (see init) so that
// every ssh setting comes from the same place.
type sshConfig struct{}

func init() {
	gitssh.DefaultSSHConfig = sshConfig{}
}

// Get returns the value of key for host alias, or "" when no file sets it.
// Files are read on each call: they are small, and a long-running server
// sees edits without a restart.
func (sshConfig) Get(alias, key string) string {
	for _, p := range sshConfigFiles() {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		cfg, err := ssh_config.DecodeBytes(b)
		if err != nil {
			continue // a config ssh(1) itself would reject: ignore it, as go-git does
		}
		if v, err := cfg.Get(alias, key); err == nil && v != "" {
			return v
		}
	}
	return ""
}

func sshConfigFiles() []string {
	var files []string
	if home, err := os.UserHomeDir(); err == nil {
		files = append(files, filepath.Join(home, ".ssh", "config"))
	}
	return append(files, "/etc/ssh/ssh_config")
}

// expandHome turns a leading ~/ of an ssh_config path into the home folder.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}
