package event

// DataSchemaVersion returns the major version that a dataschema value selects. CloudEvents 1.0
// defines dataschema as an absolute URI
// (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md#dataschema); firelane
// accepts these forms, and the relative form older clients send:
//
//	https://firelane.dev/schemas/com.acme.web.page_view/v2        absolute, ending /vN
//	https://firelane.dev/schemas/com.acme.web.page_view/v2.json   a schema's $id
//	https://schemas.acme.example/com.acme.web.page_view.v2.json   a schema file's name
//	com.acme.web.page_view/v2                                     relative (accepted, not taught)
//
// A query or fragment is ignored, then a .json suffix, then the version is the digits after the
// last "/v" or ".v" that end the value. Any other value, the empty one included, selects version
// 1, so that an event without a dataschema selects the first version of its type. It does not
// allocate: the validators call it for every event.
func DataSchemaVersion[T ~string | ~[]byte](dataschema T) int {
	s := dataschema
	if i := indexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if i := indexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	if n := len(s); n > 5 && s[n-5] == '.' && s[n-4] == 'j' && s[n-3] == 's' && s[n-2] == 'o' && s[n-1] == 'n' {
		s = s[:n-5]
	}
	// s ends with 1 to 9 digits after "v", itself after "/" or ".".
	end := len(s)
	start := end
	for start > 0 && s[start-1] >= '0' && s[start-1] <= '9' {
		start--
	}
	if digits := end - start; digits == 0 || digits > 9 || start < 2 || s[start-1] != 'v' || (s[start-2] != '/' && s[start-2] != '.') {
		return 1
	}
	n := 0
	for k := start; k < end; k++ {
		n = n*10 + int(s[k]-'0')
	}
	return n
}

func indexByte[T ~string | ~[]byte](s T, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
