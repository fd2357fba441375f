package marquee

import (
	"context"
	"net/http"
)

// WithAPIKey makes the client send key with every request, as
// Authorization: Bearer <key>. Marquee needs a key holding the scope each
// operation lists (ingest to send events, read for recommendations, the
// catalog, histories and analytics, admin for the rest), and answers 401
// without a valid one and 403 when it lacks the scope; only a node in its
// embedded development mode runs open.
//
//	c, err := marquee.NewClientWithResponses(url, marquee.WithAPIKey(os.Getenv("MARQUEE_API_KEY")))
func WithAPIKey(key string) ClientOption {
	return WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+key)
		return nil
	})
}
