package event

import (
	"crypto/sha256"
	"encoding/hex"
)

// Fingerprint returns the stable hash of an event's identity, (source, id): the first 32 hex
// digits of SHA-256(source NUL id). Every delivery of one event has the same fingerprint, so the
// lake removes duplicates by it, and the stages' log lines name an event by it rather than by its
// id, which is the client's free text.
func Fingerprint(source, id string) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(id))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
