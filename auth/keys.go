package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MinSecretLength is the shortest secret a key may have: 32 characters,
// which `openssl rand -hex 16` (128 random bits) produces; `openssl rand
// -base64 32` (256 bits) is the recommended way to make one.
const MinSecretLength = 32

// maxSecretLength bounds what is hashed per request; a longer credential
// cannot be a configured key.
const maxSecretLength = 256

// hashPrefix marks a secret given as its SHA-256 (64 hex digits), so that
// a keys file can hold no secret at all.
const hashPrefix = "sha256="

var (
	namePattern   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9_.~+/=-]+$`)
)

// Key is a configured API key: a name (for logs and errors), the scopes it
// holds, an optional rate limit of its own, and the SHA-256 of its secret.
// The secret itself is not kept.
//
// SHA-256 rather than bcrypt or argon2: those exist to slow down guessing
// of low-entropy passwords from a stolen hash. Keys are at least 32
// characters of random text, so no amount of guessing finds one from its
// hash, while a deliberately slow hash would cost every request tens of
// milliseconds and hand attackers a cheap way to burn CPU.
type Key struct {
	Name   string
	Scopes Scope
	// Limit is the key's own rate limit; nil means the default one.
	Limit *Limit
	hash  [sha256.Size]byte
}

// HashSecret is the SHA-256 of a secret, the form keys are stored in
// (`sha256=` followed by it in hex is accepted in place of a secret).
func HashSecret(secret string) [sha256.Size]byte { return sha256.Sum256([]byte(secret)) }

// entryError names a bad key entry by position and, once known, by name;
// never by its secret.
func entryError(pos int, name string, format string, args ...any) error {
	where := fmt.Sprintf("key %d", pos)
	if name != "" {
		where += fmt.Sprintf(" (%q)", name)
	}
	return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
}

// ParseKeys reads key entries of the form
//
//	name:scope[+scope...]:secret[:rate[/burst]|:off]
//
// separated by commas or new lines; blank lines and lines starting with '#'
// are ignored. The secret is 32 to 256 characters of A–Z a–z 0–9 and
// "-_.~+/=" (hex, base64 or base64url), or "sha256=" and the hex SHA-256
// of one. The rate is requests per second, the burst how many may come at
// once (default: twice the rate); "off" exempts the key from rate limits.
// Errors say which entry is wrong and why, never what its secret is.
func ParseKeys(text string) ([]Key, error) {
	var keys []Key
	var errs []error
	pos := 0
	for line := range strings.SplitSeq(text, "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		for entry := range strings.SplitSeq(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			pos++
			k, err := parseEntry(pos, entry)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			keys = append(keys, k)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return keys, checkUnique(keys)
}

func parseEntry(pos int, entry string) (Key, error) {
	f := strings.Split(entry, ":")
	if len(f) < 3 || len(f) > 4 {
		return Key{}, entryError(pos, "", "want name:scopes:secret or name:scopes:secret:rate/burst, got %d fields separated by ':'", len(f))
	}
	k := Key{Name: strings.TrimSpace(f[0])}
	if !namePattern.MatchString(k.Name) {
		return Key{}, entryError(pos, "", "name must be 1 to 64 of A-Z a-z 0-9 _ . -")
	}
	var errs []error
	scopes, err := ParseScopes(strings.TrimSpace(f[1]))
	if err != nil {
		errs = append(errs, entryError(pos, k.Name, "%v", err))
	}
	k.Scopes = scopes
	if k.hash, err = secretHash(strings.TrimSpace(f[2])); err != nil {
		errs = append(errs, entryError(pos, k.Name, "%v", err))
	}
	if len(f) == 4 {
		l, err := ParseLimit(strings.TrimSpace(f[3]))
		if err != nil {
			errs = append(errs, entryError(pos, k.Name, "rate limit: %v", err))
		}
		k.Limit = &l
	}
	return k, errors.Join(errs...)
}

// secretHash validates a secret (or a sha256= hash) and returns its hash.
// Its errors describe the secret without quoting it.
func secretHash(s string) ([sha256.Size]byte, error) {
	var h [sha256.Size]byte
	if hexed, ok := strings.CutPrefix(s, hashPrefix); ok {
		b, err := hex.DecodeString(hexed)
		if err != nil || len(b) != sha256.Size {
			return h, fmt.Errorf("a secret given as %s... must be 64 hex digits", hashPrefix)
		}
		copy(h[:], b)
		return h, nil
	}
	switch {
	case len(s) < MinSecretLength:
		return h, fmt.Errorf("secret is %d characters; want at least %d random ones (openssl rand -base64 32)", len(s), MinSecretLength)
	case len(s) > maxSecretLength:
		return h, fmt.Errorf("secret is %d characters; want at most %d", len(s), maxSecretLength)
	case !secretPattern.MatchString(s):
		return h, errors.New("secret may hold only A-Z a-z 0-9 and -_.~+/= (hex, base64 or base64url)")
	}
	return HashSecret(s), nil
}

// jsonKey is one key of a JSON keys file.
type jsonKey struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	Secret string   `json:"secret"`
	SHA256 string   `json:"sha256"`
	Rate   *float64 `json:"rate"`
	Burst  *int     `json:"burst"`
	// Unlimited exempts the key from rate limits.
	Unlimited bool `json:"unlimited"`
}

// ParseKeysFile reads a keys file: the entries of ParseKeys one per line,
// or a JSON array of {"name", "scopes": [...], "secret" or "sha256",
// "rate", "burst", "unlimited"} objects.
func ParseKeysFile(data []byte) ([]Key, error) {
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '[' {
		return ParseKeys(string(data))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var in []jsonKey
	if err := dec.Decode(&in); err != nil {
		// encoding/json errors quote no values, only offsets and types.
		return nil, fmt.Errorf("JSON keys file: %w", err)
	}
	var keys []Key
	var errs []error
	for i, j := range in {
		k, err := j.key(i + 1)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		keys = append(keys, k)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return keys, checkUnique(keys)
}

func (j jsonKey) key(pos int) (Key, error) {
	if !namePattern.MatchString(j.Name) {
		return Key{}, entryError(pos, "", "name must be 1 to 64 of A-Z a-z 0-9 _ . -")
	}
	k := Key{Name: j.Name}
	var errs []error
	if len(j.Scopes) == 0 {
		errs = append(errs, entryError(pos, j.Name, "no scopes (want some of %s)", strings.Join(ScopeNames(), ", ")))
	} else if s, err := ParseScopes(strings.Join(j.Scopes, "+")); err != nil {
		errs = append(errs, entryError(pos, j.Name, "%v", err))
	} else {
		k.Scopes = s
	}
	var err error
	switch {
	case (j.Secret == "") == (j.SHA256 == ""):
		errs = append(errs, entryError(pos, j.Name, `want exactly one of "secret" and "sha256"`))
	case j.Secret != "":
		k.hash, err = secretHash(j.Secret)
	default:
		k.hash, err = secretHash(hashPrefix + j.SHA256)
	}
	if err != nil {
		errs = append(errs, entryError(pos, j.Name, "%v", err))
	}
	switch {
	case j.Unlimited && (j.Rate != nil || j.Burst != nil):
		errs = append(errs, entryError(pos, j.Name, `"unlimited" excludes "rate" and "burst"`))
	case j.Unlimited:
		k.Limit = &Limit{}
	case j.Rate != nil:
		spec := strconv.FormatFloat(*j.Rate, 'g', -1, 64)
		if j.Burst != nil {
			spec += "/" + strconv.Itoa(*j.Burst)
		}
		l, err := ParseLimit(spec)
		if err != nil {
			errs = append(errs, entryError(pos, j.Name, "rate limit: %v", err))
		}
		k.Limit = &l
	case j.Burst != nil:
		errs = append(errs, entryError(pos, j.Name, `"burst" needs "rate"`))
	}
	return k, errors.Join(errs...)
}

// checkUnique refuses two keys with one name or one secret: a shared
// secret would make the name (and scopes) of a request ambiguous.
func checkUnique(keys []Key) error {
	var errs []error
	names := map[string]bool{}
	hashes := map[[sha256.Size]byte]string{}
	for _, k := range keys {
		if names[k.Name] {
			errs = append(errs, fmt.Errorf("key %q is configured twice", k.Name))
		}
		names[k.Name] = true
		if other, ok := hashes[k.hash]; ok {
			errs = append(errs, fmt.Errorf("keys %q and %q have the same secret", other, k.Name))
		}
		hashes[k.hash] = k.Name
	}
	return errors.Join(errs...)
}

// Keyring is the set of configured keys.
type Keyring struct {
	keys []Key
}

// NewKeyring holds keys (which must be unique, as ParseKeys returns them).
func NewKeyring(keys ...Key) (*Keyring, error) {
	if err := checkUnique(keys); err != nil {
		return nil, err
	}
	return &Keyring{keys: keys}, nil
}

// Len is the number of keys.
func (r *Keyring) Len() int {
	if r == nil {
		return 0
	}
	return len(r.keys)
}

// Lookup returns the key whose secret is secret. It hashes the candidate
// and compares the hash with every key's in constant time, always all of
// them, so neither the time taken nor which key matched tells an attacker
// anything about the secrets.
func (r *Keyring) Lookup(secret string) (Key, bool) {
	if r == nil || len(secret) == 0 || len(secret) > maxSecretLength {
		return Key{}, false
	}
	h := HashSecret(secret)
	found := -1
	for i := range r.keys {
		if subtle.ConstantTimeCompare(h[:], r.keys[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Key{}, false
	}
	return r.keys[found], true
}
