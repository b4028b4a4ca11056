package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// newRulesCommand is `gatehouse rules`: the requestability rules and approval policies of
// a running server, as one YAML document (the same one the web UI's rules editor shows).
func newRulesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Apply and export a server's just-in-time access rules and approval policies (YAML)",
		Long: `The rules say what may be requested, by whom, for how long and under which approval
policy; docs/jit.md describes the document. gatehouse rules export prints the document in
force; gatehouse rules apply -f FILE replaces it after checking all of it: a document with
a problem changes nothing, and every problem is printed with its line and column.
Applying needs the admin role; exporting the auditor role.`,
	}
	cmd.AddCommand(newRulesApplyCommand(), newRulesExportCommand())
	return cmd
}

func newRulesApplyCommand() *cobra.Command {
	var server, file string
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Replace the rules and policies with FILE; prints every problem (FILE:LINE:COL) and applies nothing when there is one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("give the rules document with -f FILE (gatehouse rules export prints the one in force)")
			}
			doc, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			var applied struct {
				Version int64 `json:"version"`
			}
			_, err = c.do(contextOrBackground(cmd), "PUT", "/api/v1/rules", doc, &applied)
			var ae *apiError
			if errors.As(err, &ae) && len(ae.problems) > 0 {
				for _, p := range ae.problems {
					pos := fmt.Sprintf("%s:%d", file, p.Line)
					if p.Column > 0 {
						pos += fmt.Sprintf(":%d", p.Column)
					}
					if p.Field != "" {
						pos += ": " + p.Field
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", pos, p.Message)
				}
				return fmt.Errorf("%s has %s; nothing was applied", file, plural(len(ae.problems), "problem"))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "applied %s to %s: the rules are at version %d\n", file, c.server, applied.Version)
			return nil
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVarP(&file, "file", "f", "", "the rules document (YAML)")
	return cmd
}

func newRulesExportCommand() *cobra.Command {
	var server, out string
	cmd := &cobra.Command{
		Use:   "export [-o FILE]",
		Short: "Print the rules and policies in force (YAML), or write them to FILE",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			doc, err := c.do(contextOrBackground(cmd), "GET", "/api/v1/rules", nil, nil)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(doc)
				return err
			}
			if err := os.WriteFile(out, doc, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote the rules of %s to %s\n", c.server, out)
			return nil
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the document to FILE instead of stdout")
	return cmd
}

// plural is "1 problem", "2 problems".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
