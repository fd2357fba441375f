package main

import (
	"flag"
	"os"
	"strings"

	"github.com/marquee-recsys/marquee/openapi"
)

// writeSpec writes the OpenAPI 3.1 contract to -o and its 3.0 form (for
// generators that need it) beside it, or to -o30; -o30= skips the 3.0 form.
func writeSpec(args []string) error {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	out := fs.String("o", openapi.SpecPath, "output file of the OpenAPI 3.1 contract")
	out30 := fs.String("o30", "", "output file of the OpenAPI 3.0 form (default: beside -o, named NAME-3.0.yaml; -o30= skips it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	skip30 := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "o30" && f.Value.String() == "" {
			skip30 = true
		}
	})
	if *out30 == "" {
		ext := ".yaml"
		if i := strings.LastIndexByte(*out, '.'); i > strings.LastIndexByte(*out, '/') {
			ext = (*out)[i:]
		}
		*out30 = strings.TrimSuffix(*out, ext) + "-3.0" + ext
	}
	b, err := openapi.Spec()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	if skip30 {
		return nil
	}
	b, err = openapi.Spec30()
	if err != nil {
		return err
	}
	return os.WriteFile(*out30, b, 0o644)
}
