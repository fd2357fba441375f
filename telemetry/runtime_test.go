package telemetry

import (
	"encoding/json"
	"net/http/httptest"
	"runtime"
	"testing"
)

func TestRuntimeHandlerServesTheSchedulerAndGCAtFullResolution(t *testing.T) {
	runtime.GC()
	rr := httptest.NewRecorder()
	RuntimeHandler().ServeHTTP(rr, httptest.NewRequest("GET", "/debug/runtime", nil))
	var r RuntimeReading
	if err := json.Unmarshal(rr.Body.Bytes(), &r); err != nil {
		t.Fatalf("not JSON: %v: %s", err, rr.Body)
	}
	if r.Values["/gc/cycles/total:gc-cycles"] < 1 {
		t.Errorf("no GC cycle counted after runtime.GC: %v", r.Values)
	}
	for _, name := range []string{"/sched/latencies:seconds", "/sched/pauses/total/gc:seconds"} {
		h := r.Histograms[name]
		if len(h) == 0 || h[len(h)-1][1] < 1 {
			t.Errorf("%s: no sample: %v", name, h)
			continue
		}
		for i := 1; i < len(h); i++ {
			if h[i][0] <= h[i-1][0] || h[i][1] < h[i-1][1] {
				t.Errorf("%s is not cumulative by increasing bounds at %d: %v", name, i, h)
			}
		}
	}
}
