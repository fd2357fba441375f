package openapi

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// SpecPath is where the generated contract is committed, relative to the
// repository root.
const SpecPath = "openapi/openapi.yaml"

// Spec renders the OpenAPI 3.1 document of every operation.
func Spec() ([]byte, error) {
	api := humago.New(http.NewServeMux(), Config())
	Register(api, Deps{})
	return api.OpenAPI().YAML()
}
