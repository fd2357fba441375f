package auth

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func TestParseLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Limit
		bad  bool
	}{
		{in: "off", want: Limit{}},
		{in: "100", want: Limit{Rate: 100, Burst: 200}},
		{in: "100/5", want: Limit{Rate: 100, Burst: 5}},
		{in: "0.1", want: Limit{Rate: 0.1, Burst: 1}},
		{in: " 2 / 3 ", want: Limit{Rate: 2, Burst: 3}},
		{in: "0", bad: true}, {in: "-1", bad: true}, {in: "fast", bad: true}, {in: "1/0", bad: true},
		{in: "1/x", bad: true}, {in: "NaN", bad: true}, {in: "Inf", bad: true}, {in: "", bad: true},
	} {
		got, err := ParseLimit(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseLimit(%q) = %v, %v", tc.in, got, err)
		}
		if err == nil {
			if back, _ := ParseLimit(got.String()); back != got {
				t.Errorf("%q does not round-trip through %q", tc.in, got.String())
			}
		}
	}
}

// TestBucketBurstThenRefill spends a burst, is refused with the time until
// the next token, and gets tokens back as the (injected) clock advances.
func TestBucketBurstThenRefill(t *testing.T) {
	t.Parallel()
	l := Limit{Rate: 2, Burst: 3} // a token every 500 ms
	var b bucket
	for i := range 3 {
		if _, ok := b.take(l, t0); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	wait, ok := b.take(l, t0)
	if ok || wait != 500*time.Millisecond || RetryAfter(wait) != 1 {
		t.Fatalf("past the burst: ok=%v wait=%v", ok, wait)
	}
	if wait, ok := b.take(l, t0.Add(200*time.Millisecond)); ok || wait != 300*time.Millisecond {
		t.Fatalf("200 ms later: ok=%v wait=%v", ok, wait)
	}
	if _, ok := b.take(l, t0.Add(500*time.Millisecond)); !ok {
		t.Fatal("a token was not back after 500 ms")
	}
	if _, ok := b.take(l, t0.Add(500*time.Millisecond)); ok {
		t.Fatal("two tokens after 500 ms")
	}
	// A long idle time refills to the burst, not beyond.
	later := t0.Add(time.Hour)
	for i := range 3 {
		if _, ok := b.take(l, later); !ok {
			t.Fatalf("after an hour, request %d refused", i+1)
		}
	}
	if _, ok := b.take(l, later); ok {
		t.Fatal("the bucket held more than its burst")
	}
	// A clock that steps back neither refills nor breaks the bucket.
	if _, ok := b.take(l, t0); ok {
		t.Fatal("a clock step back refilled the bucket")
	}
	if _, ok := (&bucket{}).take(Limit{}, t0); !ok {
		t.Fatal("the zero limit refused")
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	t.Parallel()
	for wait, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 100 * time.Second: 100} {
		if got := RetryAfter(wait); got != want {
			t.Errorf("RetryAfter(%v) = %d, want %d", wait, got, want)
		}
	}
	// A slow rate: one request every 100 s.
	l := Limit{Rate: 0.01, Burst: 1}
	var b bucket
	b.take(l, t0)
	if wait, _ := b.take(l, t0.Add(time.Second)); RetryAfter(wait) != 99 {
		t.Fatalf("Retry-After %d, want 99", RetryAfter(wait))
	}
}

// TestAddrLimiterBoundedMemory: idle buckets are forgotten, and however
// many addresses come, at most max are tracked.
func TestAddrLimiterBoundedMemory(t *testing.T) {
	t.Parallel()
	a := NewAddrLimiter(Limit{Rate: 1, Burst: 2}, 100)
	now := t0
	for i := range 1000 {
		if _, ok := a.Take(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now); !ok {
			t.Fatalf("a new address was refused")
		}
		if n := a.Tracked(); n > 100 {
			t.Fatalf("%d addresses tracked, cap 100", n)
		}
	}
	// An address is limited on its own.
	a.Take("192.0.2.1", now)
	a.Take("192.0.2.1", now)
	if wait, ok := a.Take("192.0.2.1", now); ok || RetryAfter(wait) != 1 {
		t.Fatalf("third request of 192.0.2.1: ok=%v wait=%v", ok, wait)
	}
	// Once every bucket has refilled (2 s at 1/s) and the sweep period has
	// passed, the next new address sweeps them all away.
	now = now.Add(sweepEvery)
	a.Take("198.51.100.7", now)
	if n := a.Tracked(); n != 1 {
		t.Fatalf("%d addresses tracked after the sweep, want 1", n)
	}
	if _, ok := NewAddrLimiter(Limit{}, 0).Take("x", now); !ok {
		t.Fatal("an unlimited limiter refused")
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.1:4242":             "192.0.2.1",
		"[::ffff:192.0.2.1]:80":      "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:1":   "2001:db8:1:2::/64",
		"[::1]:8080":                 "::/64",
		"not an address":             "not an address",
		"@":                          "@",
		"2001:db8:1:2:3:4:5:6":       "2001:db8:1:2::/64",
		"127.0.0.1":                  "127.0.0.1",
	} {
		if got := ClientAddr(in); got != want {
			t.Errorf("ClientAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
