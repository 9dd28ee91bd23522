package transform

import (
	"strconv"
	"time"
)

// parseTime parses an RFC 3339 timestamp as time.Parse(time.RFC3339Nano, ...) does. The common
// UTC form ("2026-11-25T09:00:04.559Z") is parsed without allocating; every other form is left to
// the time package, so that both accept exactly the same timestamps.
func parseTime(b []byte) (time.Time, bool) {
	if t, ok := parseUTC(b); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	return t, err == nil
}

// parseUTC parses YYYY-MM-DDTHH:MM:SS[.F{1,9}]Z with every field in range, or reports false.
func parseUTC(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := digits(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for i := len(frac) - 1; i < 9; i++ {
			n *= 10
		}
		nsec = n
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

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
