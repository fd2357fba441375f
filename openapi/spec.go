package openapi

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// SpecPath is where the generated contract is committed, relative to the
// repository root.
const SpecPath = "openapi/openapi.yaml"

// Spec30Path is where the OpenAPI 3.0 form of the contract is committed,
// for client generators that do not read 3.1 yet (the Go SDK's
// oapi-codegen among them).
const Spec30Path = "openapi/openapi-3.0.yaml"

// Spec renders the OpenAPI 3.1 document of every operation.
func Spec() ([]byte, error) {
	return specAPI().OpenAPI().YAML()
}

// Spec30 renders the same document downgraded to OpenAPI 3.0 by Huma
// (type arrays become nullable, examples become example, and so on).
func Spec30() ([]byte, error) {
	return specAPI().OpenAPI().DowngradeYAML()
}

func specAPI() huma.API {
	api := humago.New(http.NewServeMux(), Config())
	Register(api, Deps{})
	return api
}
