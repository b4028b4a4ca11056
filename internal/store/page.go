package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Paging limits of every list.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Page asks for one page of a list: at most Size items (DefaultPageSize when 0, never
// more than MaxPageSize) after the position Token, which is the next-page token of the
// previous page ("" for the first page). Tokens are opaque: they hold the sort key of
// the last item (keyset paging), so a page costs the same wherever it is in the list
// and rows inserted meanwhile neither repeat nor skip items.
type Page struct {
	Size  int
	Token string
}

func (p Page) size() int {
	switch {
	case p.Size <= 0:
		return DefaultPageSize
	case p.Size > MaxPageSize:
		return MaxPageSize
	}
	return p.Size
}

// encodeToken makes a page token of a sort key.
func encodeToken(key any) string {
	b, _ := json.Marshal(key)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken reads a token made by encodeToken into key; ErrBadPageToken (auth.go)
// for anything else.
func decodeToken(token string, key any) error {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return fmt.Errorf("%w", ErrBadPageToken)
	}
	if err := json.Unmarshal(b, key); err != nil {
		return fmt.Errorf("%w", ErrBadPageToken)
	}
	return nil
}
