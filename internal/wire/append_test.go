package wire

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/store"
)

// TestAppendFloatIsFloatsJSON: AppendFloat writes what encoding/json
// writes for a float64 (Float's own strings for NaN and ±Inf), for the
// edges of its format switch and for 200,000 random bit patterns.
func TestAppendFloatIsFloatsJSON(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99999e-7, 1e-7, -1e-7, 1e21, 9.99e20, 1e22, 1.5e-300, 5e-324,
		math.MaxFloat64, -math.MaxFloat64, 123456789.125, 1e20, 2.5e-10}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		vals = append(vals, math.Float64frombits(r.Uint64()))
	}
	for _, v := range vals {
		got := string(AppendFloat(nil, v))
		var want string
		switch {
		case math.IsNaN(v):
			want = `"NaN"`
		case math.IsInf(v, 1):
			want = `"Infinity"`
		case math.IsInf(v, -1):
			want = `"-Infinity"`
		default:
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			want = string(b)
		}
		if got != want {
			t.Fatalf("AppendFloat(%v) = %s, encoding/json: %s", v, got, want)
		}
	}
}

// TestAppendHistoryPointIsMetricsJSON: a point written by
// AppendHistoryPoint is Metric's JSON, key escaping included.
func TestAppendHistoryPointIsMetricsJSON(t *testing.T) {
	for _, key := range []string{"loss", `a<b>&"c"\u2028`, "ключ"} {
		for _, v := range []float64{math.NaN(), math.Inf(-1), 0.25, -3e-9} {
			k, _ := json.Marshal(key)
			got := string(AppendHistoryPoint(nil, k, v, -17, 1<<60))
			want, _ := json.Marshal(Metric{Key: key, Value: Float(v), Timestamp: -17, Step: 1 << 60})
			if got != string(want) {
				t.Fatalf("got %s, want %s", got, want)
			}
		}
	}
}

// TestAppendRunIsRunsJSON: AppendRun writes json.Marshal(FromRun(r)),
// byte for byte, for runs with and without each part, and for 20,000
// runs of random strings (HTML characters, control characters, invalid
// UTF-8, U+2028), numbers and special values.
func TestAppendRunIsRunsJSON(t *testing.T) {
	end := int64(1700000000999)
	zero := int64(0)
	runs := []*store.Run{
		{},
		{Info: store.RunInfo{RunID: "0123456789abcdef0123456789abcdef", ExperimentID: "0"}},
		{Info: store.RunInfo{RunID: "a", RunName: "r", ExperimentID: "1", UserID: "u", Status: store.StatusFinished, StartTime: -5, EndTime: &end, ArtifactURI: "s3://b/p", LifecycleStage: "active"},
			Metrics: []store.Metric{{Key: "m", Value: math.NaN()}, {Key: "n", Value: math.Inf(1), Timestamp: 3, Step: -1, RunID: "x", DatasetName: "d", DatasetDigest: "g", ModelID: "mm"}},
			Params:  []store.Param{{Key: "p", Value: ""}},
			Tags:    []store.Tag{{Key: "t", Value: "v"}}},
		{Info: store.RunInfo{EndTime: &zero}, Tags: []store.Tag{{Key: "only", Value: "tags"}}},
		{Params: []store.Param{{Key: "p", Value: "1"}}, Metrics: []store.Metric{}},
		{Inputs: []store.DatasetInput{{Tags: []store.Tag{{Key: "mlflow.data.context", Value: "train"}}, Dataset: store.Dataset{Name: "d", Digest: "1", SourceType: "local", Source: "{}"}}},
			ModelInputs: []string{"m-1"}, Outputs: []store.ModelOutput{{ModelID: "m-2", Step: 4}}},
		{ModelInputs: []string{"m-1"}},
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "Z", "0", " ", "<", ">", "&", `"`, `\`, "\n", "\t", "\x00", "\x1f", "\x7f", "é", "ключ", "\u2028", "\u2029", "\xff", "\xc3", "💡", "/", "'"}
	str := func() string {
		var b strings.Builder
		for range rnd.IntN(6) {
			b.WriteString(alphabet[rnd.IntN(len(alphabet))])
		}
		return b.String()
	}
	num := func() float64 {
		switch rnd.IntN(4) {
		case 0:
			return math.Float64frombits(rnd.Uint64())
		case 1:
			return float64(rnd.IntN(100))
		case 2:
			return []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0}[rnd.IntN(4)]
		}
		return rnd.NormFloat64()
	}
	for range 20000 {
		r := &store.Run{Info: store.RunInfo{RunID: str(), RunName: str(), ExperimentID: str(), UserID: str(), Status: store.RunStatus(str()),
			StartTime: rnd.Int64() - rnd.Int64(), ArtifactURI: str(), LifecycleStage: str()}}
		if rnd.IntN(2) == 0 {
			e := rnd.Int64()
			r.Info.EndTime = &e
		}
		for range rnd.IntN(4) {
			r.Metrics = append(r.Metrics, store.Metric{Key: str(), Value: num(), Timestamp: rnd.Int64(), Step: -rnd.Int64(), RunID: str(), ModelID: str()})
		}
		for range rnd.IntN(4) {
			r.Params = append(r.Params, store.Param{Key: str(), Value: str()})
		}
		for range rnd.IntN(4) {
			r.Tags = append(r.Tags, store.Tag{Key: str(), Value: str()})
		}
		runs = append(runs, r)
	}
	for _, r := range runs {
		want, err := json.Marshal(FromRun(r))
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendRun([]byte("prefix"), r); string(got) != "prefix"+string(want) {
			t.Fatalf("AppendRun(%+v)\n got %s\nwant %s", r, got[len("prefix"):], want)
		}
	}
}
