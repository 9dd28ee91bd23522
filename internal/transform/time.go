package transform

import (
	"strconv"
	"time"
)

// appendTime appends t in firelane's [event.TimeLayout] (UTC, milliseconds).
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	}
	hh, mm, ss := t.Clock()
	dst = appendDigits(dst, y, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(m), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, d, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hh, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, mm, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, ss, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, t.Nanosecond()/1e6, 3)
	return append(dst, 'Z')
}

// appendDigits appends the non-negative n as exactly width digits (n < 10^width).
func appendDigits(dst []byte, n, width int) []byte {
	var b [4]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, b[:width]...)
}

// hourCache keeps the formatted date and hour of the last hour it saw. Rows of one buffer fall in
// a few hours, so timestamps and partition keys are mostly minutes and seconds appended to a
// cached prefix.
type hourCache struct {
	hour   int64 // Unix hours; valid when set
	set    bool
	prefix []byte // "2026-11-25T09:" in appendTime's layout
	keys   []byte // `","year":"2026","month":"11","day":"25","hour":"09"}` for Keys.appendJSON
}

// load makes the cache hold the hour of t (UTC) and reports false for a year outside 0-9999.
func (c *hourCache) load(t time.Time) bool {
	sec := t.Unix()
	h := sec / 3600
	if sec%3600 < 0 {
		h--
	}
	if c.set && h == c.hour {
		return true
	}
	t = t.UTC()
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return false
	}
	c.prefix = appendDigits(c.prefix[:0], y, 4)
	c.prefix = append(c.prefix, '-')
	c.prefix = appendDigits(c.prefix, int(m), 2)
	c.prefix = append(c.prefix, '-')
	c.prefix = appendDigits(c.prefix, d, 2)
	c.prefix = append(c.prefix, 'T')
	c.prefix = appendDigits(c.prefix, t.Hour(), 2)
	c.prefix = append(c.prefix, ':')
	c.keys = append(c.keys[:0], `","year":"`...)
	c.keys = appendDigits(c.keys, y, 4)
	c.keys = append(c.keys, `","month":"`...)
	c.keys = appendDigits(c.keys, int(m), 2)
	c.keys = append(c.keys, `","day":"`...)
	c.keys = appendDigits(c.keys, d, 2)
	c.keys = append(c.keys, `","hour":"`...)
	c.keys = appendDigits(c.keys, t.Hour(), 2)
	c.keys = append(c.keys, `"}`...)
	c.hour, c.set = h, true
	return true
}

// appendTime is the package's appendTime through the cache.
func (c *hourCache) appendTime(dst []byte, t time.Time) []byte {
	if !c.load(t) {
		return appendTime(dst, t)
	}
	rem := t.Unix() - c.hour*3600
	dst = append(dst, c.prefix...)
	dst = append(dst, twoDigits[rem/60*2:rem/60*2+2]...)
	dst = append(dst, ':')
	dst = append(dst, twoDigits[rem%60*2:rem%60*2+2]...)
	ms := t.Nanosecond() / 1e6
	return append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// appendKeys is Keys.appendJSON through the cache.
func (c *hourCache) appendKeys(dst []byte, k Keys) []byte {
	if !c.load(k.Received) {
		return k.appendJSON(dst)
	}
	dst = append(dst, `{"event_type":"`...)
	dst = append(dst, k.EventType...)
	dst = append(dst, `","event_version":"`...)
	dst = strconv.AppendInt(dst, int64(k.EventVersion), 10)
	return append(dst, c.keys...)
}

const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"
