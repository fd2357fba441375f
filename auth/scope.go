// Package auth is Marquee's access control at the HTTP edge: API keys with
// scopes, kept only as SHA-256 hashes and compared in constant time;
// token-bucket rate limits per key (and per client address for requests
// without one); and the Huma middleware that applies both to every
// operation from the security requirement the operation declares in the
// OpenAPI contract, so the contract and the enforcement cannot disagree.
package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Scope is a set of permissions a key holds or an operation requires.
type Scope uint8

// The scopes. They are independent: admin does not imply read, so an
// operator's key that should also see analytics is given admin+read.
const (
	// ScopeIngest sends interactions (POST /api/events).
	ScopeIngest Scope = 1 << iota
	// ScopeRead reads recommendations, the catalog, histories and analytics.
	ScopeRead
	// ScopeAdmin writes the catalog and runs training and archiving.
	ScopeAdmin

	// AllScopes is every scope.
	AllScopes = ScopeIngest | ScopeRead | ScopeAdmin
)

var scopeNames = []struct {
	s    Scope
	name string
}{{ScopeIngest, "ingest"}, {ScopeRead, "read"}, {ScopeAdmin, "admin"}}

// ScopeNames lists the name of every scope.
func ScopeNames() []string {
	out := make([]string, len(scopeNames))
	for i, n := range scopeNames {
		out[i] = n.name
	}
	return out
}

// ParseScope reads one scope name.
func ParseScope(name string) (Scope, error) {
	for _, n := range scopeNames {
		if n.name == name {
			return n.s, nil
		}
	}
	return 0, fmt.Errorf("unknown scope %q (want %s)", name, strings.Join(ScopeNames(), ", "))
}

// ParseScopes reads scope names joined by '+', such as "read+admin".
// Every name must be known and none repeated.
func ParseScopes(list string) (Scope, error) {
	var s Scope
	for name := range strings.SplitSeq(list, "+") {
		one, err := ParseScope(strings.TrimSpace(name))
		if err != nil {
			return 0, err
		}
		if s&one != 0 {
			return 0, fmt.Errorf("scope %q listed twice", name)
		}
		s |= one
	}
	return s, nil
}

// Has reports whether s holds every scope of want.
func (s Scope) Has(want Scope) bool { return s&want == want }

// Names lists the scopes of s.
func (s Scope) Names() []string {
	var out []string
	for _, n := range scopeNames {
		if s&n.s != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// String joins the names of the scopes with '+', the configuration's form.
func (s Scope) String() string {
	if s == 0 {
		return "none"
	}
	return strings.Join(s.Names(), "+")
}

// Requirement is the OpenAPI security requirement of an operation that
// needs scope: a key sent as a bearer token or in X-API-Key, holding the
// scope. (OpenAPI 3.1 lets a requirement list the roles it needs for any
// scheme type.)
func Requirement(scope Scope) []map[string][]string {
	names := scope.Names()
	return []map[string][]string{
		{SchemeBearer: names},
		{SchemeAPIKey: slices.Clone(names)},
	}
}

// RequirementAny is the security requirement of an operation that a key
// holding any one of scopes may call: one alternative per scope and
// scheme (OpenAPI ORs the alternatives of a requirement).
func RequirementAny(scopes ...Scope) []map[string][]string {
	var out []map[string][]string
	for _, scheme := range []string{SchemeBearer, SchemeAPIKey} {
		for _, s := range scopes {
			out = append(out, map[string][]string{scheme: s.Names()})
		}
	}
	return out
}

// Public is the security requirement of an operation anyone may call: an
// empty list, which overrides the document's default requirement.
func Public() []map[string][]string { return []map[string][]string{} }

// The names of the security schemes in the OpenAPI contract.
const (
	SchemeBearer = "bearer"
	SchemeAPIKey = "apiKey"
	// HeaderAPIKey is the alternative to Authorization: Bearer.
	HeaderAPIKey = "X-API-Key"
)
