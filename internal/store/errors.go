package store

import "errors"

// ErrNotFound is returned by the Get functions when the thing asked for does not exist
// (at the time asked for).
var ErrNotFound = errors.New("not found")
