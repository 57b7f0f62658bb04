package store

import (
	"fmt"
	"math/rand/v2"
)

var (
	nameAdjectives = []string{
		"agreeable", "bold", "brave", "bright", "calm", "clever", "crisp", "dapper", "eager", "fair",
		"gentle", "glad", "grand", "honest", "jolly", "keen", "kind", "lucky", "merry", "nimble",
		"polite", "proud", "quick", "quiet", "rare", "sharp", "shy", "silent", "smooth", "steady",
		"sunny", "swift", "tidy", "vivid", "warm", "wise", "witty", "zesty",
	}
	nameNouns = []string{
		"ant", "bat", "bear", "bee", "cat", "crab", "crow", "deer", "dove", "duck", "eel", "elk",
		"finch", "fox", "frog", "goat", "gull", "hare", "hawk", "heron", "ibis", "jay", "koi",
		"lark", "lynx", "mole", "moth", "newt", "owl", "panda", "robin", "seal", "shrew", "snail",
		"squid", "swan", "toad", "trout", "wolf", "wren", "yak",
	}
)

// RandomRunName returns a run name in MLflow's adjective-noun-NNN style.
func RandomRunName() string {
	return fmt.Sprintf("%s-%s-%d", nameAdjectives[rand.IntN(len(nameAdjectives))],
		nameNouns[rand.IntN(len(nameNouns))], rand.IntN(1000))
}
