package docker_test

import (
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
)

func imageRemoveOptions() image.RemoveOptions {
	return image.RemoveOptions{Force: true, PruneChildren: true}
}

func containerRemoveOptions() container.RemoveOptions { return container.RemoveOptions{Force: true} }
