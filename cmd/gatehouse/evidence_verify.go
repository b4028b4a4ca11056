package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/evidence"
)

func newEvidenceVerifyCommand() *cobra.Command {
	var asJSON bool
	var expect string
	cmd := &cobra.Command{
		Use:   "verify pack.zip",
		Short: "Check every file of an evidence pack against its manifest (exit 1 if one does not match)",
		Long: `Check an evidence pack: every file manifest.json lists must be in the ZIP with that SHA-256
and size, and every file in the ZIP must be listed. Prints "pack intact: ..." on stderr and
exits 0, or one line per problem naming the file (modified, missing, not in the manifest)
and exits 1. The manifest itself is covered by the SHA-256 of the whole ZIP, which
Gatehouse's audit log records with the pack (evidence.build, evidence.export,
evidence.download): give it with --expect-sha256 to check that too. Needs no store.`,
		Example: `  gatehouse evidence verify evidence-20260301-20260331-ev-abc.zip
  gatehouse evidence verify pack.zip --expect-sha256 9f2c...e41a --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			expect = strings.ToLower(strings.TrimSpace(expect))
			if expect != "" && !sha256Hex.MatchString(expect) {
				return fmt.Errorf("--expect-sha256 %q: want the 64 hexadecimal digits of the pack's SHA-256, as the audit log records it", expect)
			}
			rep, err := evidence.VerifyFile(args[0])
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if expect != "" && rep.PackSHA256 != expect {
				rep.Problems = append(rep.Problems, evidence.FileProblem{Path: args[0], Kind: "pack",
					Message: fmt.Sprintf("%s: its SHA-256 is %s, not %s: it is not the pack that was recorded (the manifest may have been rewritten)", args[0], rep.PackSHA256, expect)})
			}
			if asJSON {
				b, _ := json.Marshal(rep)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			w := cmd.ErrOrStderr()
			if rep.OK() {
				fmt.Fprintf(w, "pack intact: all %d files match the manifest (pack %s, sha256 %s)\n", rep.Checked, rep.PackID, rep.PackSHA256)
				return nil
			}
			fmt.Fprintf(w, "pack TAMPERED: %d problem(s)\n", len(rep.Problems))
			for _, p := range rep.Problems {
				fmt.Fprintln(w, "  "+p.Message)
			}
			return &exitError{code: 1, err: errors.New("the evidence pack does not match its manifest"), quiet: true}
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "also print the report as one JSON line on stdout (pack_sha256, pack_id, files, checked, problems)")
	cmd.Flags().StringVar(&expect, "expect-sha256", "", "the pack's SHA-256 as the audit log records it: fail unless the ZIP has it")
	return cmd
}
