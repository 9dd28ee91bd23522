package event

import "time"

// ParseTime parses an RFC 3339 timestamp: the date-time production of RFC 3339 section 5.6
// (https://www.rfc-editor.org/rfc/rfc3339#section-5.6), which every stage applies to an event's
// time. It accepts what the grammar allows and nothing else: "T" and "Z" in either case (its
// section 5.6 note), any number of fraction digits (nanoseconds are kept), a numeric offset or
// "Z", and a leap second (second 60) where the time in UTC is 23:59, the check JSON Schema's
// date-time format makes. A leap second is stored as the last nanosecond of the second before it
// (23:59:60.5Z is 23:59:59.999999999Z): Go's time has no second 60, and the stored instant keeps
// the event's day, hour and order among the events of that minute. The instant is returned in UTC.
//
// It is hand-written because time.Parse rejects a lower-case t or z and a leap second, and
// because it does not allocate: it runs for every event in every stage.
func ParseTime[T ~string | ~[]byte](s T) (time.Time, bool) {
	if len(s) < 20 || s[10]|0x20 != 't' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, month, day, ok := fullDate(s)
	hour, ok4 := num(s, 11, 2)
	minute, ok5 := num(s, 14, 2)
	sec, ok6 := num(s, 17, 2)
	if !(ok && ok4 && ok5 && ok6) || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	i, nsec := 19, 0
	if s[i] == '.' {
		i++
		start := i
		for ; i < len(s) && s[i]-'0' < 10; i++ {
			if i-start < 9 {
				nsec = nsec*10 + int(s[i]-'0')
			}
		}
		if i == start {
			return time.Time{}, false
		}
		for n := i - start; n < 9; n++ {
			nsec *= 10
		}
	}
	offset := 0 // minutes east of UTC
	switch {
	case i+1 == len(s) && s[i]|0x20 == 'z':
	case i+6 == len(s) && (s[i] == '+' || s[i] == '-') && s[i+3] == ':':
		oh, okh := num(s, i+1, 2)
		om, okm := num(s, i+4, 2)
		if !okh || !okm || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		if offset = oh*60 + om; s[i] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	if sec == 60 {
		if utc := ((hour*60+minute-offset)%1440 + 1440) % 1440; utc != 23*60+59 {
			return time.Time{}, false
		}
		sec, nsec = 59, 999_999_999
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+(minute-offset)*60+sec)
	return time.Unix(unix, int64(nsec)).UTC(), true
}

// daysSinceEpoch returns the days from 1970-01-01 to a date of the proleptic Gregorian calendar,
// counting years from March so that the leap day ends a year; it is time.Date's arithmetic without
// its normalisation, which the parser's range checks make unnecessary.
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := year
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := year - era*400                     // 0 to 399
	doy := (153*((month+9)%12)+2)/5 + day - 1 // 0 to 365, from 1 March
	doe := yoe*365 + yoe/4 - yoe/100 + doy    // 0 to 146096
	return int64(era)*146097 + int64(doe) - 719468
}

// ValidDate reports whether s is an RFC 3339 full-date (YYYY-MM-DD, the day within its month),
// which is also what time.Parse(time.DateOnly, s) accepts; the validators' date format uses it.
func ValidDate[T ~string | ~[]byte](s T) bool {
	_, _, _, ok := fullDate(s)
	return ok && len(s) == 10
}

// fullDate reads the full-date that starts s.
func fullDate[T ~string | ~[]byte](s T) (year, month, day int, ok bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	year, ok1 := num(s, 0, 4)
	month, ok2 := num(s, 5, 2)
	day, ok3 := num(s, 8, 2)
	if !(ok1 && ok2 && ok3) || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return 0, 0, 0, false
	}
	return year, month, day, true
}

// num reads the n decimal digits of s at i.
func num[T ~string | ~[]byte](s T, i, n int) (int, bool) {
	v := 0
	for k := i; k < i+n; k++ {
		c := s[k]
		if c-'0' >= 10 {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
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
