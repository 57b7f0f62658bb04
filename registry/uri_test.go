package registry_test

import (
	"testing"

	"github.com/mlrun/mlrun/registry"
)

func TestParseModelURI(t *testing.T) {
	for uri, want := range map[string]registry.ModelURI{
		"models:/m/1":          {Name: "m", Version: "1"},
		"models:/m/production": {Name: "m", Stage: "Production"},
		"models:/m/Latest":     {Name: "m", Latest: true},
		"models:/m@champion":   {Name: "m", Alias: "champion"},
		"models:/a@b@champion": {Name: "a@b", Alias: "champion"},
		"models:///m/Staging":  {Name: "m", Stage: "Staging"},
	} {
		got, err := registry.ParseModelURI(uri)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", uri, got, err)
		}
	}
	for _, bad := range []string{"models:/m", "models:/m/1/2", "models:/m/bogus", "models:/@x", "models:/m@", "runs:/x/y", "models:/m/1@a"} {
		if _, err := registry.ParseModelURI(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
