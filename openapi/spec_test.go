package openapi

import (
	"bytes"
	"os"
	"testing"
)

// TestSpecIsCurrent fails when openapi.yaml differs from what the code
// generates. Run `make openapi` (or `go run ./cmd/marquee openapi`) and
// commit the result.
func TestSpecIsCurrent(t *testing.T) {
	t.Parallel()
	want, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatalf("read committed spec: %v (generate it with `make openapi`)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("openapi/openapi.yaml is out of date: run `make openapi` and commit the result")
	}
}
