package cosign

import "errors"

// ErrNoTimestampAuthority is returned when keyless signing has no timestamp authority: the
// certificate lives ten minutes and a tile-based log gives no time, so without a timestamp
// nobody could tell that the signature was made while the certificate was valid.
var ErrNoTimestampAuthority = errors.New("keyless signing needs a timestamp authority")
