package openapi

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/marquee-recsys/marquee/domain"
)

// withSchema is what Huma's link transformer makes of a body: its fields
// after a $schema field.
type withSchema struct {
	Schema string `json:"$schema"`
	Recommendations
}

// encodingJSON is the body as Huma's default JSON format writes it.
func encodingJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	err := huma.DefaultJSONFormat.Marshal(&buf, v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// FuzzRecommendationsJSON: the hand-written JSON of a served list is, byte
// for byte, what encoding/json writes, with and without $schema, whatever
// the strings hold (quotes, control characters, invalid UTF-8, U+2028),
// the scores (tiny, huge, negative, not finite) and the times.
func FuzzRecommendationsJSON(f *testing.F) {
	f.Add("user_123", "interstellar-2014", "Interstellar", 0.87, 0.41, int64(0), int64(0), "http://127.0.0.1:8080/schemas/Recommendations.json")
	f.Add(`a"b\c`, "line\nbreak\t\x01\x1f\b\f", "\xff\xfe bad utf-8 \u2028\u2029 é 🎬 <&>", -1e-9, 1e21, int64(1e9), int64(123456789), "")
	f.Add("", "", "", 0.0, math.Inf(1), int64(-62135596801), int64(0), "x")
	f.Add("u", "m", "", 1e20, 2e-6, int64(253402300800), int64(0), "y")
	f.Add("u", "m", "", 123456789.0, math.NaN(), int64(253402300799), int64(999999999), "s")
	f.Fuzz(func(t *testing.T, user, movie, title string, score, share float64, secs, nanos int64, schema string) {
		at := time.Unix(secs, nanos).UTC()
		r := Recommendations{UserID: user, Tier: title, SourceTier: movie, ModelVersion: title, RecLogID: user,
			GeneratedAt: at, ServedAt: at.Add(time.Millisecond),
			Items: []RecItem{
				{Rank: 1, MovieID: movie, Title: title, Score: score, Because: []Reason{{MovieID: movie, Title: title, Share: share}, {MovieID: user, Share: score}}},
				{Rank: 2, MovieID: user, Score: share},
			}}
		for _, r := range []Recommendations{r, {UserID: user, Items: []RecItem{}, GeneratedAt: at, ServedAt: at}, {GeneratedAt: at, ServedAt: at}} {
			got, gotErr := r.appendJSON(nil, schema)
			var want []byte
			var wantErr error
			if schema == "" {
				want, wantErr = encodingJSON(r)
			} else {
				want, wantErr = encodingJSON(withSchema{Schema: schema, Recommendations: r})
			}
			if (gotErr != nil) != (wantErr != nil) {
				t.Fatalf("error %v, encoding/json's %v", gotErr, wantErr)
			}
			if gotErr == nil && !bytes.Equal(got, want) {
				t.Fatalf("wrote\n%s\nencoding/json writes\n%s", got, want)
			}
		}
	})
}

// TestHumaHasOneCreateHook: Config replaces huma.DefaultConfig's create
// hooks with schemaLinks, which installs the one they hold (the schema
// link transformer); a Huma that adds another must be looked at.
func TestHumaHasOneCreateHook(t *testing.T) {
	if n := len(huma.DefaultConfig(Title, Version).CreateHooks); n != 1 {
		t.Fatalf("huma.DefaultConfig has %d create hooks; Config replaces them with schemaLinks, which installs only the schema link transformer", n)
	}
}

// TestSelfEncodingAnswersAsHumaWould: GET /api/recommendations answers the
// same bytes and the same Link header as Huma's default configuration, and
// a problem answer still goes through encoding/json.
func TestSelfEncodingAnswersAsHumaWould(t *testing.T) {
	t.Parallel()
	items := []domain.ScoredMovie{{MovieID: "m1", Score: 0.9, Title: `One "quoted" <title>`}, {MovieID: "m2", Score: 1e-7}}
	deps := Deps{Recommender: listRecommender{items: items}, Now: func() time.Time { return now }}
	_, fast := humatest.New(t, Config())
	Register(fast, deps)
	def := Config()
	def.Formats, def.CreateHooks = huma.DefaultFormats, huma.DefaultConfig(Title, Version).CreateHooks
	_, slow := humatest.New(t, def)
	Register(slow, deps)
	for _, path := range []string{"/api/recommendations?user_id=user_1&n=2", "/api/recommendations?user_id=user_1&n=1"} {
		a, b := fast.Get(path, "Host: marquee.example"), slow.Get(path, "Host: marquee.example")
		if a.Code != http.StatusOK || a.Body.String() != b.Body.String() || a.Header().Get("Link") != b.Header().Get("Link") {
			t.Fatalf("%s: self-encoded %d %s (Link %q)\nHuma's %d %s (Link %q)", path, a.Code, a.Body, a.Header().Get("Link"),
				b.Code, b.Body, b.Header().Get("Link"))
		}
		var got map[string]any
		if err := json.Unmarshal(a.Body.Bytes(), &got); err != nil || got["$schema"] != "https://marquee.example/schemas/Recommendations.json" {
			t.Fatalf("%s: $schema %v (%v)", path, got["$schema"], err)
		}
	}
	// The equality above would hold too if the hand-written path were never
	// taken: the configured transformers must hand this body to it.
	op := fast.OpenAPI().Paths["/api/recommendations"].Get
	ctx := humatest.NewContext(op, httptest.NewRequest(http.MethodGet, "/api/recommendations?user_id=user_1", nil), httptest.NewRecorder())
	out, err := fast.Transform(ctx, "200", Recommendations{UserID: "user_1", Items: []RecItem{}})
	if e, ok := out.(encoded); err != nil || !ok || e.schema == "" {
		t.Fatalf("the transformers made %T (%v) of a Recommendations body, want an encoded one with its $schema", out, err)
	}
	bad := fast.Get("/api/recommendations?user_id=no%20spaces")
	if bad.Code != http.StatusUnprocessableEntity || bad.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("invalid user: %d %s %s", bad.Code, bad.Header().Get("Content-Type"), bad.Body)
	}
}
