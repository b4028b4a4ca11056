// Command gatehouse is self-hosted access governance for AWS: it inventories who can
// reach what across an AWS Organization, changes that access on request and serves a
// simulated AWS for demos and tests. Each subcommand lives in its own file.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
)

func main() {
	// Some libraries under baton-sdk (the .c1z storage engine) log through the standard
	// logger; Gatehouse reports through its own output, so keep theirs off the terminal.
	log.SetOutput(io.Discard)
	if err := newRootCommand().Execute(); err != nil {
		var ee *exitError
		if !errors.As(err, &ee) || !ee.quiet {
			fmt.Fprintln(os.Stderr, "gatehouse:", err)
		}
		if ee != nil {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// exitError is an error that ends gatehouse with an exit status of its own (see
// exitPartial); other errors exit with 1. A quiet one is not printed: a child process
// has printed it already.
type exitError struct {
	code  int
	err   error
	quiet bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }
