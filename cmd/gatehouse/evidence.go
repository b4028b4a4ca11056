package main

import "github.com/spf13/cobra"

func newEvidenceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "evidence",
		Short: "Build audit evidence packs from the store, and check a pack against its manifest",
		Long: `An evidence pack is a ZIP of JSON and CSV files for a period and a scope: the inventory at
the period's start and end, every change between, findings and their history, every
just-in-time request with its approval chain and lease, every review campaign with its
decisions and verified remediation, and the audit log excerpt with its hash-chain check.
manifest.json lists every other file with its SHA-256 and size; summary.html is a printable
summary that maps SOC 2 CC6.1-CC6.3 and ISO 27001:2022 A.5.15-A.5.18 and A.8.2 to the files
that support them. See docs/evidence.md.

"gatehouse evidence export" builds a pack from the store that gatehouse serve uses (give it
the same --config, --data-dir or --database-url); "gatehouse evidence verify" checks a pack.`,
	}
	cmd.AddCommand(newEvidenceExportCommand(), newEvidenceVerifyCommand())
	return cmd
}
