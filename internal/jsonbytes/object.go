package jsonbytes

// Object walks the members of the object whose opening brace is at an index it was made with.
// [Object.Next] finds each member's name and the start of its value; the caller reads the value
// and reports its end with [Object.SetEnd] before the next call. Names are checked as strings,
// commas and the closing brace as the grammar wants them.
type Object struct {
	b       []byte
	i       int
	depth   int // the containers that enclose the object's members, the object included
	started bool
}

// NewObject starts the walk of the object whose '{' is b[i]. depth is the number of containers
// that enclose the object.
func NewObject(b []byte, i, depth int) Object { return Object{b: b, i: i, depth: depth} }

// Next moves to the next member and returns its name's body (between the quotes, as written),
// the name's flags and the index where its value starts (after any space). more is false at the
// end of the object, after which [Object.End] is the index after the closing brace, and on error.
func (o *Object) Next() (key []byte, kf Flags, val int, more bool, err error) {
	b, i := o.b, o.i
	if !o.started {
		o.started = true
		if o.depth++; o.depth > MaxDepth {
			return nil, 0, 0, false, ErrDepth
		}
		i = SkipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			o.i = i + 1
			return nil, 0, 0, false, nil
		}
	} else {
		i = SkipSpace(b, i)
		if i >= len(b) {
			return nil, 0, 0, false, syntaxErr("unexpected end of input", i)
		}
		switch b[i] {
		case ',':
			i = SkipSpace(b, i+1)
		case '}':
			o.i = i + 1
			return nil, 0, 0, false, nil
		default:
			return nil, 0, 0, false, syntaxErr("expected comma or end of object", i)
		}
	}
	if i >= len(b) || b[i] != '"' {
		return nil, 0, 0, false, syntaxErr("expected object key", i)
	}
	end, kf, err := ScanString(b, i)
	if err != nil {
		return nil, 0, 0, false, err
	}
	key = b[i+1 : end-1]
	if i, err = colon(b, end); err != nil {
		return nil, 0, 0, false, err
	}
	if i >= len(b) {
		return nil, 0, 0, false, syntaxErr("unexpected end of input", i)
	}
	o.i = i
	return key, kf, i, true, nil
}

// Depth is the depth of the object's members' values: pass it to [SkipValue] for them.
func (o *Object) Depth() int { return o.depth }

// SetEnd reports where the value that [Object.Next] returned ends.
func (o *Object) SetEnd(end int) { o.i = end }

// Skip checks the value that [Object.Next] returned and moves past it, returning its end and
// flags.
func (o *Object) Skip() (end int, f Flags, err error) {
	end, f, err = SkipValue(o.b, o.i, o.depth)
	if err == nil {
		o.i = end
	}
	return end, f, err
}

// End is the index after the object, once [Object.Next] has reported its end.
func (o *Object) End() int { return o.i }
