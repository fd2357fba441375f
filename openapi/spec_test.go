package openapi

import (
	"bytes"
	"os"
	"testing"
)

// TestSpecIsCurrent fails when openapi.yaml or its 3.0 form differs from
// what the code generates. Run `make openapi` (or `go run ./cmd/marquee
// openapi`), then `make sdk` to regenerate the client SDKs, and commit the
// result.
func TestSpecIsCurrent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file   string
		render func() ([]byte, error)
	}{
		{"openapi.yaml", Spec},
		{"openapi-3.0.yaml", Spec30},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			want, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatalf("read committed spec: %v (generate it with `make openapi`)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("openapi/%s is out of date: run `make sdk` (or `make openapi`) and commit the result", tc.file)
			}
		})
	}
}
