package openapi

import (
	"encoding/json"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

// FuzzEventsBody feeds arbitrary bodies to the event decoder and
// validator: they must never panic, and whatever they accept must be an
// event the domain accepts.
func FuzzEventsBody(f *testing.F) {
	for _, seed := range []string{
		`{"user_id":"u1","movie_id":"m1","type":"click"}`,
		`{"events":[{"user_id":"u1","movie_id":"m1","type":"rating","value":4,"timestamp":"2026-11-29T11:00:00Z"}]}`,
		`{"events":[1,"x",null,{}]}`,
		`{"events":null}`,
		`[]`, `null`, `{"value":1e400}`,
	} {
		f.Add([]byte(seed))
	}
	d := Deps{Weights: domain.DefaultWeights()}
	f.Fuzz(func(t *testing.T, body []byte) {
		var b EventsBody
		if err := json.Unmarshal(body, &b); err != nil {
			return
		}
		inputs := b.Batch
		if !b.isBatch {
			raw, _ := json.Marshal(b.Single)
			inputs = []json.RawMessage{raw}
		}
		for _, raw := range inputs {
			var in EventIn
			if json.Unmarshal(raw, &in) != nil {
				continue
			}
			ev, err := toInteraction(in, d, now)
			if err != nil {
				continue
			}
			again, err := domain.NewInteraction(domain.EventInput{EventID: ev.EventID, UserID: string(ev.UserID), MovieID: string(ev.MovieID),
				Type: string(ev.Type), Value: ev.Value, Timestamp: &ev.Time, RecLogID: ev.RecLogID}, d.Weights, now)
			if err != nil || again.Weight != ev.Weight {
				t.Fatalf("accepted event %+v does not revalidate: %v", ev, err)
			}
		}
	})
}
