package main

import (
	"flag"
	"os"

	"github.com/marquee-recsys/marquee/openapi"
)

func writeSpec(args []string) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	out := fs.String("o", openapi.SpecPath, "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := openapi.Spec()
	if err != nil {
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}
