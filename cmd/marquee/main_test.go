package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/marquee-recsys/marquee/openapi"
)

func TestOpenAPICommandWritesTheSpec(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "spec.yaml")
	if err := run([]string{"openapi", "-o", out}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := openapi.Spec()
	if !bytes.Equal(got, want) {
		t.Fatal("marquee openapi wrote something other than openapi.Spec()")
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	if err := run([]string{"frobnicate"}); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestServeRejectsBadConfiguration(t *testing.T) {
	t.Setenv("MARQUEE_CACHE_TTL", "forever")
	if err := run([]string{"serve"}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("MARQUEE_CACHE_TTL")) {
		t.Fatalf("err = %v, want one naming MARQUEE_CACHE_TTL", err)
	}
}
