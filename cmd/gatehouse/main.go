// Command gatehouse is self-hosted access governance for AWS: it inventories who can
// reach what across an AWS Organization, changes that access on request and serves a
// simulated AWS for demos and tests. Each subcommand lives in its own file.
package main

import (
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
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}
