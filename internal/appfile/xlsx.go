package appfile

import (
	"errors"
	"io"
)

var errNotYet = errors.New("appfile: this format is not read yet; use CSV")

func parseXLSX(b *builder, r io.Reader, sheet string) error { return errNotYet }
func parseJSON(b *builder, r io.Reader) error               { return errNotYet }
func parseYAML(b *builder, r io.Reader) error               { return errNotYet }
