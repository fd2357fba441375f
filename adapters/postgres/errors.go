package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/marquee-recsys/marquee/ports"
)

// ErrNoVector means the server lacks the pgvector extension (or it is too
// old). Open's error wraps it; deploy/local/postgres.sh installs it.
var ErrNoVector = errors.New("the pgvector extension (vector ≥ 0.5) is not available on the server")

// wrap prefixes err with the operation and, when it says the database
// cannot be reached or did not answer in time, wraps ports.ErrUnavailable
// as well, so that the tier walk can skip the tier and the consumer retry.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, ports.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// unavailable reports whether err is a connectivity problem or a timeout
// rather than a fault of the statement. Any failure to open a connection
// counts, a refused login or a missing database included: the service is
// not usable now, and degrading beats failing every request.
func unavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"), // insufficient resources (too many connections, disk full)
			pgErr.Code == "57014",               // query_canceled: statement_timeout
			pgErr.Code == "57P01",               // admin_shutdown
			pgErr.Code == "57P02",               // crash_shutdown
			pgErr.Code == "57P03":               // cannot_connect_now (starting up, recovery)
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// isCode reports whether err is a server error with SQLSTATE code.
func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// connStringReason says why pgx could not parse a connection string,
// without quoting any of it: pgconn's error holds the string (its
// password masked on a best-effort basis only), and the errors it wraps
// quote parts of it (net/url's the URL, strconv's a number, the
// keyword/value parser a word), so the reason is rebuilt from pgconn's
// message and the inner error's own reason, with every quoted fragment
// and every value after a colon elided.
func connStringReason(err error) string {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return "the connection string cannot be parsed"
	}
	bare := *pe
	bare.ConnString = ""
	msg := strings.TrimPrefix(bare.Error(), "cannot parse ``: ")
	inner := pe.Unwrap()
	if inner != nil {
		msg = strings.TrimSuffix(msg, " ("+inner.Error()+")")
	}
	msg, _, _ = strings.Cut(msg, ": ") // "unknown target_session_attrs value: <value>"
	if inner == nil {
		return elideQuoted(msg)
	}
	var ue *url.Error
	var ne *strconv.NumError
	var pathErr *fs.PathError
	switch {
	case errors.As(inner, &ue):
		inner = ue.Err
	case errors.As(inner, &ne):
		inner = ne.Err
	case errors.As(inner, &pathErr):
		inner = fmt.Errorf("%s: %w", pathErr.Op, pathErr.Err)
	}
	return elideQuoted(msg + " (" + inner.Error() + ")")
}

var quoted = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`|'[^']*'")

// elideQuoted replaces every quoted fragment of s with "…".
func elideQuoted(s string) string { return quoted.ReplaceAllLiteralString(s, `"…"`) }
