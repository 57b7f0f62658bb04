package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/artifact"
)

// uploadFile streams one local file into repo at dst.
func uploadFile(c *cli.Context, repo artifact.Repository, src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("log artifact: %w", err)
	}
	defer f.Close()
	if err := repo.Put(c.Context, dst, f); err != nil {
		return fmt.Errorf("log artifact %s: %w", src, err)
	}
	return nil
}
