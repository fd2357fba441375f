package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/marquee-recsys/marquee/ports"
)

// replyError is an error reply from the server, as go-redis types them.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

func TestWrap(t *testing.T) {
	t.Parallel()
	var _ goredis.Error = replyError("")
	tests := []struct {
		name            string
		err             error
		wantUnavailable bool
	}{
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errors.New("connection refused"))}, true},
		{"read timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{"connection lost", io.EOF, true},
		{"deadline", fmt.Errorf("dial: %w", context.DeadlineExceeded), true},
		{"closed client", goredis.ErrClosed, true},
		{"loading", replyError("LOADING Redis is loading the dataset in memory"), true},
		{"busy script", replyError("BUSY Redis is busy running a script"), true},
		{"read-only replica", replyError("READONLY You can't write against a read only replica."), true},
		{"out of memory", replyError("OOM command not allowed when used memory > 'maxmemory'."), true},
		{"cluster down", replyError("CLUSTERDOWN The cluster is down"), true},
		{"canceled", context.Canceled, false},
		{"wrong type", replyError("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{"script error", replyError("ERR user_script:3: Script attempted to access nonexistent global variable"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := wrap("get", tt.err)
			if errors.Is(got, ports.ErrUnavailable) != tt.wantUnavailable {
				t.Errorf("wrap(%v) = %v; unavailable: %v, want %v", tt.err, got, !tt.wantUnavailable, tt.wantUnavailable)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("wrap(%v) = %v lost the cause", tt.err, got)
			}
		})
	}
}
