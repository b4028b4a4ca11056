package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// newDataSourcesTestCommand is `gatehouse datasources test ID`: the data source's "Test
// connection" (POST /api/v1/datasources/{id}/test), run by the server as the principal it
// runs as. It exits 1 when a check failed, like gatehouse doctor --s3.
func newDataSourcesTestCommand() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "test ID",
		Short: "Check from the server each permission the data source's role needs, and say what to fix",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			raw, err := c.do(contextOrBackground(cmd), "POST", "/api/v1/datasources/"+url.PathEscape(args[0])+"/test", nil, nil)
			if err != nil {
				return err
			}
			res, err := decodeChecks(raw)
			if err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			for _, ch := range res.Checks {
				fmt.Fprintf(w, "%-4s  %-26s %s\n", strings.ToUpper(ch.Status), ch.Action, oneLine(ch.Detail))
				if ch.Fix != "" {
					fmt.Fprintf(w, "      fix: %s\n", oneLine(ch.Fix))
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
			if !res.OK {
				return errors.New("a check failed: fix what it says, then run gatehouse datasources test " + args[0] + " again")
			}
			fmt.Fprintln(w, "every check passed")
			return nil
		},
	}
	serverFlag(cmd, &server)
	return cmd
}

// dataSourceChecks is the answer of POST /api/v1/datasources/{id}/test.
type dataSourceChecks struct {
	OK     bool `json:"ok"`
	Checks []struct {
		ID     string `json:"id"`
		Action string `json:"action"`
		Status string `json:"status"`
		Detail string `json:"detail"`
		Fix    string `json:"fix"`
	} `json:"checks"`
}

func decodeChecks(raw []byte) (*dataSourceChecks, error) {
	var out dataSourceChecks
	return &out, json.Unmarshal(raw, &out)
}
