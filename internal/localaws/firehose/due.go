package firehose

import "time"

// Due reports whether the stream's buffering hints say to flush at now: its buffer holds
// BufferBytes, or its oldest record is Interval old.
func (st *Stream) Due(now time.Time) bool { return st.due(now) }
