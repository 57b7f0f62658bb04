package docker

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-units"

	"github.com/mlrun/mlrun/runner"
)

// runOptions are the docker run options mlrun understands, from -A and
// --backend-config.
type runOptions struct {
	network    string
	user       string
	env        []string
	volumes    []string
	memory     int64
	nanoCPUs   int64
	shmSize    int64
	gpus       string
	privileged bool
	addHosts   []string
}

// parseArgs reads -A NAME[=VALUE] options, MLflow's --docker-args.
func (o *runOptions) parseArgs(args []string) error {
	for _, a := range args {
		name, value, hasValue := strings.Cut(a, "=")
		if err := o.set(strings.TrimLeft(name, "-"), value, hasValue); err != nil {
			return err
		}
	}
	return nil
}

// parseConfig reads --backend-config: a path to a .json file, or JSON.
// Keys are the option names; lists are allowed for env and volumes.
func (o *runOptions) parseConfig(cfg string) error {
	if cfg == "" {
		return nil
	}
	data := []byte(cfg)
	if strings.HasSuffix(cfg, ".json") {
		b, err := os.ReadFile(cfg)
		if err != nil {
			return fmt.Errorf("%w: --backend-config %s: %v", runner.ErrInvalid, cfg, err)
		}
		data = b
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%w: --backend-config is not a JSON object: %v", runner.ErrInvalid, err)
	}
	for k, v := range m {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				if err := o.set(k, fmt.Sprint(e), true); err != nil {
					return err
				}
			}
		case bool:
			if err := o.set(k, strconv.FormatBool(v), true); err != nil {
				return err
			}
		default:
			if err := o.set(k, fmt.Sprint(v), true); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *runOptions) set(name, value string, hasValue bool) error {
	need := func() error {
		if !hasValue || value == "" {
			return fmt.Errorf("%w: docker option %s needs a value (-A %s=VALUE)", runner.ErrInvalid, name, name)
		}
		return nil
	}
	var err error
	switch name {
	case "network", "net":
		err = need()
		o.network = value
	case "user", "u":
		err = need()
		o.user = value
	case "env", "e":
		err = need()
		o.env = append(o.env, value)
	case "volume", "volumes", "v":
		err = need()
		if err == nil && !strings.Contains(value, ":") {
			err = fmt.Errorf("%w: docker volume %q: want HOST:CONTAINER[:ro]", runner.ErrInvalid, value)
		}
		o.volumes = append(o.volumes, value)
	case "memory", "m":
		if err = need(); err == nil {
			if o.memory, err = units.RAMInBytes(value); err != nil {
				err = fmt.Errorf("%w: docker option memory=%s: %v", runner.ErrInvalid, value, err)
			}
		}
	case "cpus":
		if err = need(); err == nil {
			f, perr := strconv.ParseFloat(value, 64)
			if perr != nil || f <= 0 {
				err = fmt.Errorf("%w: docker option cpus=%s is not a positive number", runner.ErrInvalid, value)
			}
			o.nanoCPUs = int64(f * 1e9)
		}
	case "shm-size":
		if err = need(); err == nil {
			if o.shmSize, err = units.RAMInBytes(value); err != nil {
				err = fmt.Errorf("%w: docker option shm-size=%s: %v", runner.ErrInvalid, value, err)
			}
		}
	case "gpus":
		err = need()
		o.gpus = value
	case "privileged":
		o.privileged = !hasValue || value == "true"
	case "add-host":
		err = need()
		o.addHosts = append(o.addHosts, value)
	default:
		return fmt.Errorf("%w: unsupported docker option -A %s (supported: network, gpus, memory, cpus, shm-size, user, env, volume, privileged, add-host)", runner.ErrInvalid, name)
	}
	return err
}

// apply sets the options on a container's configuration.
func (o *runOptions) apply(cfg *container.Config, hc *container.HostConfig) {
	if o.user != "" {
		cfg.User = o.user
	}
	cfg.Env = append(cfg.Env, o.env...)
	hc.Binds = append(hc.Binds, o.volumes...)
	if o.network != "" {
		hc.NetworkMode = container.NetworkMode(o.network)
	}
	hc.Memory = o.memory
	hc.NanoCPUs = o.nanoCPUs
	hc.ShmSize = o.shmSize
	hc.Privileged = o.privileged
	hc.ExtraHosts = append(hc.ExtraHosts, o.addHosts...)
	if o.gpus != "" {
		req := container.DeviceRequest{Driver: "", Capabilities: [][]string{{"gpu"}}}
		if o.gpus == "all" {
			req.Count = -1
		} else if n, err := strconv.Atoi(o.gpus); err == nil {
			req.Count = n
		} else {
			req.DeviceIDs = strings.Split(strings.TrimPrefix(o.gpus, "device="), ",")
		}
		hc.DeviceRequests = append(hc.DeviceRequests, req)
	}
}
