package openapi

import (
	"strings"
	"testing"
)

// TestTextThatCannotBeStored: ids, titles, genres and cursors holding a
// NUL or bytes that are not UTF-8 get a 422 naming the field, whether the
// NUL comes escaped or the bytes come raw in the JSON body, and nothing
// reaches the stores.
func TestTextThatCannotBeStored(t *testing.T) {
	t.Parallel()
	const bad = "\xff\xfe" // raw bytes that are not UTF-8
	tests := []struct {
		name, method, path, body string
		status                   int
		location                 string // the problem must name it
	}{
		{"title with an escaped NUL", "PUT", "/api/movies/x1", `{"title":"Jaws\u0000"}`, 422, "body.title"},
		{"title with bytes that are not UTF-8", "PUT", "/api/movies/x1", `{"title":"Ja` + bad + `ws"}`, 422, "body.title"},
		{"title of nothing but a NUL", "PUT", "/api/movies/x1", `{"title":"\u0000"}`, 422, "body.title"},
		{"genre with a NUL", "PUT", "/api/movies/x1", `{"title":"Jaws","genres":["Thriller","Hor\u0000ror"]}`, 422, "body.genres[1]"},
		{"genre that is not UTF-8", "PUT", "/api/movies/x1", `{"title":"Jaws","genres":["Thriller","` + bad + `"]}`, 422, "body.genres[1]"},
		{"UTF-8 beyond ASCII is text", "PUT", "/api/movies/x1", `{"title":"Le Fabuleux Destin d'Amélie Poulain","genres":["千と千尋"]}`, 200, ""},
		{"bulk: a title that is not UTF-8", "POST", "/api/movies", `{"movies":[{"id":"x1","title":"A"},{"id":"x2","title":"` + bad + `"}]}`, 422, "body.movies[1].title"},
		{"bulk: a genre with a NUL", "POST", "/api/movies", `{"movies":[{"id":"x1","title":"A","genres":["a","b\u0000"]}]}`, 422, "body.movies[0].genres[1]"},
		{"bulk: an id that is not UTF-8", "POST", "/api/movies", `{"movies":[{"id":"x` + bad + `","title":"A"}]}`, 422, "body.movies[0].id"},
		{"movie id in the path with a NUL", "PUT", "/api/movies/x%00", `{"title":"Jaws"}`, 422, "path.id"},
		{"movie id in the path, not UTF-8", "GET", "/api/movies/x%FF", "", 422, "path.id"},
		{"cursor with a NUL", "GET", "/api/movies?after=m%00", "", 422, "query.after"},
		{"cursor that is not UTF-8", "GET", "/api/movies?after=m%FF", "", 422, "query.after"},
		{"a cursor beyond ASCII is text", "GET", "/api/movies?after=Am%C3%A9lie", "", 200, ""},
		{"user id with a NUL", "GET", "/api/recommendations?user_id=u%00", "", 422, "query.user_id"},
		{"user id in the path, not UTF-8", "GET", "/api/users/u%FF/history", "", 422, "path.id"},
		{"training job id with a NUL", "GET", "/api/admin/train/train-%00", "", 422, "path.id"},
		{"event: user id with an escaped NUL", "POST", "/api/events", `{"user_id":"u\u0000","movie_id":"m1","type":"click"}`, 422, "body.user_id"},
		{"event: user id that is not UTF-8", "POST", "/api/events", `{"user_id":"u` + bad + `","movie_id":"m1","type":"click"}`, 422, "body.user_id"},
		{"event: rec_log_id that is not UTF-8", "POST", "/api/events", `{"user_id":"u1","movie_id":"m1","type":"click","rec_log_id":"` + bad + `"}`, 422, "body.rec_log_id"},
		{"event in a batch: event id with a NUL", "POST", "/api/events", `{"events":[{"event_id":"e\u0000","user_id":"u1","movie_id":"m1","type":"click"}]}`, 422, "body.events[0].event_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api, pub := newAPI(t)
			var args []any
			if tt.body != "" {
				args = append(args, strings.NewReader(tt.body))
			}
			resp := api.Do(tt.method, tt.path, args...)
			if resp.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.Code, tt.status, resp.Body.String())
			}
			if tt.status == 200 {
				return
			}
			if len(pub.events) != 0 {
				t.Fatalf("%d events published", len(pub.events))
			}
			p := decodeProblem(t, resp.Body.String())
			found := false
			for _, e := range p.Errors {
				found = found || e.Location == tt.location
			}
			if !found {
				t.Fatalf("the problem does not name %s: %s", tt.location, resp.Body.String())
			}
		})
	}
	t.Run("nothing of a refused bulk is stored", func(t *testing.T) {
		t.Parallel()
		api, _ := newAPI(t)
		api.Post("/api/movies", strings.NewReader(`{"movies":[{"id":"x1","title":"A"},{"id":"x2","title":"`+bad+`"}]}`))
		if resp := api.Get("/api/movies/x1"); resp.Code != 404 {
			t.Fatalf("x1 of a refused bulk: %d", resp.Code)
		}
	})
	t.Run("text beyond ASCII is stored as sent", func(t *testing.T) {
		t.Parallel()
		api, _ := newAPI(t)
		if resp := api.Put("/api/movies/x1", strings.NewReader(`{"title":"Amélie","genres":["千と千尋"]}`)); resp.Code != 200 {
			t.Fatalf("put: %d %s", resp.Code, resp.Body.String())
		}
		if resp := api.Get("/api/movies/x1"); !strings.Contains(resp.Body.String(), `"title":"Amélie"`) || !strings.Contains(resp.Body.String(), "千と千尋") {
			t.Fatalf("get: %s", resp.Body.String())
		}
	})
}

func TestInvalidUTF8Locations(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		doc  string
		want []string
	}{
		{"{\"a\":\"ok\",\"b\":\"\xff\"}", []string{"body.b"}},
		{"{\"a\":{\"b\":[\"x\",\"y\",\"\xff\",{\"c\":\"\xfe\"}]},\"d\":\"\xff\"}", []string{"body.a.b[2]", "body.a.b[3].c", "body.d"}},
		{"[1,\"\xff\",null,true,{\"k\":\"v\"},\"\xff\"]", []string{"body[1]", "body[5]"}},
		{"{\"k\xff\":\"v\"}", []string{"body.k\ufffd"}},
		{`{"a":"ok","b":"\u00e9"}`, nil},
		{"{\"a\":\"\xff\",", []string{"body.a"}}, // malformed after the fault
	} {
		var got []string
		for _, d := range invalidUTF8([]byte(tt.doc), "body") {
			got = append(got, d.Location)
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%q: %v, want %v", tt.doc, got, tt.want)
		}
	}
}
