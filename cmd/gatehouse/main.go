// Command gatehouse is self-hosted access governance for AWS: it inventories who can
// reach what across an AWS Organization, changes that access on request and serves a
// simulated AWS for demos and tests. Each subcommand lives in its own file.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}
