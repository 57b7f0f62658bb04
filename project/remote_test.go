package project_test

import "github.com/go-git/go-git/v5/config"

func remoteConfig(url string) *config.RemoteConfig {
	return &config.RemoteConfig{Name: "origin", URLs: []string{url}}
}
