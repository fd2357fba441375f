package redis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// codecV1 is the first byte of a version 1 value:
//
//	0x01
//	tier            string
//	model version   string
//	generated at    varint seconds since 1970 (UTC), uvarint nanoseconds
//	item count      uvarint
//	per item        string movie id, 8-byte little-endian float64 score, string title
//
// where a string is a uvarint length followed by its bytes. A new format
// takes the next version byte; readers treat versions they do not know as
// a miss, so mixed versions during a rolling upgrade cost recomputation,
// never a wrong list.
const codecV1 byte = 0x01

// errCorrupt is returned for a value that is not a valid encoding.
var errCorrupt = errors.New("corrupt cached list")

// minItemLen is the smallest encoding of one item (two empty strings and
// the score), used to reject absurd item counts before allocating.
const minItemLen = 1 + 8 + 1

// encodeList appends the encoding of l to dst.
func encodeList(dst []byte, l domain.RecList) []byte {
	dst = append(dst, codecV1)
	dst = appendString(dst, string(l.Tier))
	dst = appendString(dst, l.ModelVersion)
	dst = binary.AppendVarint(dst, l.GeneratedAt.Unix())
	dst = binary.AppendUvarint(dst, uint64(l.GeneratedAt.Nanosecond()))
	dst = binary.AppendUvarint(dst, uint64(len(l.Items)))
	for _, it := range l.Items {
		dst = appendString(dst, string(it.MovieID))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(it.Score))
		dst = appendString(dst, it.Title)
	}
	return dst
}

// encodedLen is an upper bound of len(encodeList(nil, l)).
func encodedLen(l domain.RecList) int {
	n := 1 + 2*binary.MaxVarintLen64 + len(l.Tier) + len(l.ModelVersion) + 3*binary.MaxVarintLen64
	for _, it := range l.Items {
		n += 2*binary.MaxVarintLen64 + 8 + len(it.MovieID) + len(it.Title)
	}
	return n
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decodeList decodes a value written by encodeList. Strings of the result
// are substrings of s, so decoding allocates only the item slice.
func decodeList(s string) (domain.RecList, error) {
	if s == "" {
		return domain.RecList{}, errCorrupt
	}
	if s[0] != codecV1 {
		return domain.RecList{}, fmt.Errorf("cached list has format version %d, this reader knows %d", s[0], codecV1)
	}
	d := decoder{s: s, off: 1}
	var l domain.RecList
	l.Tier = domain.Tier(d.string())
	l.ModelVersion = d.string()
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= uint64(time.Second) {
		d.fail()
	}
	l.GeneratedAt = time.Unix(sec, int64(nsec)).UTC()
	n := d.uvarint()
	if n > uint64(len(s)-d.off)/minItemLen {
		d.fail()
	}
	if d.bad {
		return domain.RecList{}, errCorrupt
	}
	if n > 0 {
		l.Items = make([]domain.ScoredMovie, n)
	}
	for i := range l.Items {
		l.Items[i].MovieID = domain.MovieID(d.string())
		l.Items[i].Score = math.Float64frombits(d.uint64())
		l.Items[i].Title = d.string()
	}
	if d.bad || d.off != len(s) {
		return domain.RecList{}, errCorrupt
	}
	return l, nil
}

// decoder reads from a string without copying; after the first error every
// read returns a zero value and bad stays set.
type decoder struct {
	s   string
	off int
	bad bool
}

func (d *decoder) fail() { d.bad, d.off = true, len(d.s) }

func (d *decoder) uvarint() uint64 {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.off >= len(d.s) {
			break
		}
		b := d.s[d.off]
		d.off++
		if b < 0x80 {
			if shift == 63 && b > 1 {
				break // overflows uint64
			}
			return x | uint64(b)<<shift
		}
		x |= uint64(b&0x7f) << shift
	}
	d.fail()
	return 0
}

func (d *decoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) uint64() uint64 {
	if len(d.s)-d.off < 8 {
		d.fail()
		return 0
	}
	var x uint64
	for i := 7; i >= 0; i-- {
		x = x<<8 | uint64(d.s[d.off+i])
	}
	d.off += 8
	return x
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.off) {
		d.fail()
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}
