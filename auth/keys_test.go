package auth

import (
	"encoding/hex"
	"strings"
	"testing"
)

// Secrets of the tests: long enough, of the allowed characters.
const (
	secretA = "0123456789abcdef0123456789abcdef"
	secretB = "Zm9vYmFyYmF6cXV4cXV1eHF1dXpmb29iYXI="
	secretC = "c-long_base64url.secret~with+all/chars="
)

func TestParseKeys(t *testing.T) {
	t.Parallel()
	hashB := HashSecret(secretB)
	tests := []struct {
		name    string
		in      string
		want    []Key // hash not compared; Limit compared when set
		wantErr []string
	}{
		{name: "one key", in: "ingest-bot:ingest:" + secretA, want: []Key{{Name: "ingest-bot", Scopes: ScopeIngest}}},
		{name: "several, commas and lines, comments and blanks", in: "# the web frontend\nweb:read:" + secretA + " ,\n\n ops:read+admin:" + secretB + ",svc:ingest+read:" + secretC + "\n",
			want: []Key{{Name: "web", Scopes: ScopeRead}, {Name: "ops", Scopes: ScopeRead | ScopeAdmin}, {Name: "svc", Scopes: ScopeIngest | ScopeRead}}},
		{name: "own rate limits", in: "a:read:" + secretA + ":50/10,b:read:" + secretB + ":2.5,c:admin:" + secretC + ":off",
			want: []Key{{Name: "a", Scopes: ScopeRead, Limit: &Limit{Rate: 50, Burst: 10}}, {Name: "b", Scopes: ScopeRead, Limit: &Limit{Rate: 2.5, Burst: 5}},
				{Name: "c", Scopes: ScopeAdmin, Limit: &Limit{}}}},
		{name: "a hash instead of the secret", in: "h:read:sha256=" + hex.EncodeToString(hashB[:]), want: []Key{{Name: "h", Scopes: ScopeRead}}},
		{name: "short secret", in: "web:read:short-secret-123", wantErr: []string{`key 1 ("web")`, "16 characters", "at least 32"}},
		{name: "unknown scope", in: "web:write:" + secretA, wantErr: []string{`key 1 ("web")`, `unknown scope "write"`}},
		{name: "repeated scope", in: "web:read+read:" + secretA, wantErr: []string{"listed twice"}},
		{name: "no scope", in: "web::" + secretA, wantErr: []string{`unknown scope ""`}},
		{name: "duplicate names", in: "web:read:" + secretA + ",web:ingest:" + secretB, wantErr: []string{`key "web" is configured twice`}},
		{name: "duplicate secrets", in: "web:read:" + secretA + ",svc:ingest:" + secretA, wantErr: []string{`keys "web" and "svc" have the same secret`}},
		{name: "a secret and its hash", in: "web:read:" + secretB + ",svc:ingest:sha256=" + hex.EncodeToString(hashB[:]), wantErr: []string{"the same secret"}},
		{name: "bad hash", in: "h:read:sha256=abcd", wantErr: []string{"64 hex digits"}},
		{name: "bad characters", in: "web:read:" + secretA + "!", wantErr: []string{"may hold only"}},
		{name: "too few fields", in: secretA, wantErr: []string{"key 1:", "1 fields"}},
		{name: "too many fields", in: "a:read:" + secretA + ":1/2:x", wantErr: []string{"5 fields"}},
		{name: "bad name", in: "my key:read:" + secretA, wantErr: []string{"name must be"}},
		{name: "bad rate", in: "a:read:" + secretA + ":fast", wantErr: []string{`key 1 ("a"): rate limit`}},
		{name: "bad burst", in: "a:read:" + secretA + ":5/0", wantErr: []string{"burst must be a positive integer"}},
		{name: "every problem at once", in: "a:write:" + secretA + ",b:read:tiny", wantErr: []string{`key 1 ("a")`, `key 2 ("b")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKeys(tt.in)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error; keys %v", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				for _, s := range []string{secretA, secretB, "short-secret-123", "tiny"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error quotes a secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d keys, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Name != w.Name || g.Scopes != w.Scopes || (w.Limit == nil) != (g.Limit == nil) || (w.Limit != nil && *w.Limit != *g.Limit) {
					t.Errorf("key %d = %+v (limit %v), want %+v (limit %v)", i, g, g.Limit, w, w.Limit)
				}
			}
		})
	}
}

func TestParseKeysFile(t *testing.T) {
	t.Parallel()
	lines := "# Marquee's keys\n\nweb:read:" + secretA + "\n  # ops\nops:read+admin:" + secretB + ":100/20\n"
	keys, err := ParseKeysFile([]byte(lines))
	if err != nil || len(keys) != 2 || keys[1].Scopes != ScopeRead|ScopeAdmin || *keys[1].Limit != (Limit{Rate: 100, Burst: 20}) {
		t.Fatalf("lines: %v, %v", keys, err)
	}
	hashC := HashSecret(secretC)
	js := `[
	  {"name": "web", "scopes": ["read"], "secret": "` + secretA + `"},
	  {"name": "ops", "scopes": ["read", "admin"], "sha256": "` + hex.EncodeToString(hashC[:]) + `", "rate": 5, "burst": 1},
	  {"name": "bench", "scopes": ["ingest"], "secret": "` + secretB + `", "unlimited": true}
	]`
	keys, err = ParseKeysFile([]byte(js))
	if err != nil || len(keys) != 3 || *keys[1].Limit != (Limit{Rate: 5, Burst: 1}) || !keys[2].Limit.Unlimited() {
		t.Fatalf("json: %v, %v", keys, err)
	}
	r, _ := NewKeyring(keys...)
	if k, ok := r.Lookup(secretC); !ok || k.Name != "ops" {
		t.Fatalf("the key given by its hash is not found: %v %v", k, ok)
	}
	for _, bad := range []struct{ in, want string }{
		{`[{"name": "x", "scopes": ["read"]}]`, `exactly one of "secret" and "sha256"`},
		{`[{"name": "x", "scopes": [], "secret": "` + secretA + `"}]`, "no scopes"},
		{`[{"name": "x", "scopes": ["read"], "secret": "` + secretA + `", "rate": 1, "unlimited": true}]`, `"unlimited" excludes`},
		{`[{"name": "x", "scopes": ["read"], "secret": "` + secretA + `", "burst": 3}]`, `"burst" needs "rate"`},
		{`[{"name": "x", "scopes": ["read"], "secret": "` + secretA + `", "role": "x"}]`, "unknown field"},
		{`[{"name": "x", "scopes": ["read"], "secret": "too-short"}]`, `key 1 ("x"): secret is 9 characters`},
		{`[{"name": "x", "scopes": ["read"], "secret": "` + secretA + `"}`, "JSON keys file"},
	} {
		if _, err := ParseKeysFile([]byte(bad.in)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want %q", bad.in, err, bad.want)
		} else if strings.Contains(err.Error(), secretA) || strings.Contains(err.Error(), "too-short") {
			t.Errorf("error quotes a secret: %v", err)
		}
	}
}

func TestKeyringLookup(t *testing.T) {
	t.Parallel()
	keys, err := ParseKeys("web:read:" + secretA + ",ops:admin:" + secretB)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		secret, name string
	}{
		{secretA, "web"}, {secretB, "ops"}, {secretA + "x", ""}, {secretA[:31], ""}, {"", ""},
		{strings.Repeat("a", 10_000), ""},
	} {
		k, ok := r.Lookup(tc.secret)
		if ok != (tc.name != "") || k.Name != tc.name {
			t.Errorf("Lookup(%.40q) = %q, %v; want %q", tc.secret, k.Name, ok, tc.name)
		}
	}
	if _, ok := (*Keyring)(nil).Lookup(secretA); ok {
		t.Fatal("a nil keyring found a key")
	}
	if _, err := NewKeyring(keys[0], keys[0]); err == nil {
		t.Fatal("NewKeyring took a key twice")
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	s, err := ParseScopes("admin+ingest")
	if err != nil || s != ScopeAdmin|ScopeIngest || s.String() != "ingest+admin" || !s.Has(ScopeAdmin) || s.Has(ScopeRead) {
		t.Fatalf("ParseScopes: %v %v", s, err)
	}
	if Scope(0).String() != "none" || AllScopes.String() != "ingest+read+admin" {
		t.Fatal(Scope(0).String(), AllScopes.String())
	}
	req := Requirement(ScopeRead | ScopeAdmin)
	if len(req) != 2 || strings.Join(req[0][SchemeBearer], ",") != "read,admin" || strings.Join(req[1][SchemeAPIKey], ",") != "read,admin" {
		t.Fatalf("Requirement: %v", req)
	}
	if p := Public(); p == nil || len(p) != 0 {
		t.Fatalf("Public must be an empty, non-nil list (security: []): %#v", p)
	}
}
