package store

import (
	"io/fs"
	"time"
)

func fsSub(f fs.FS, dir string) (fs.FS, error) { return fs.Sub(f, dir) }

// ms is the store's time format: milliseconds since the Unix epoch, UTC.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS reverses ms.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
