package main

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// newDataSourcesSyncCommand is `gatehouse datasources sync ID`: "Sync now" (POST
// /api/v1/datasources/{id}/sync, queued). --wait waits for that read and says how it went,
// exiting 1 when it failed.
func newDataSourcesSyncCommand() *cobra.Command {
	var server string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "sync ID [--wait]",
		Short: "Read the data source now: every file whose ETag changed is read and imported",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			ctx := contextOrBackground(cmd)
			before, _, err := getDataSource(ctx, c, args[0])
			if err != nil {
				return err
			}
			var d dataSource
			raw, err := c.do(ctx, "POST", "/api/v1/datasources/"+url.PathEscape(args[0])+"/sync", nil, &d)
			if err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			if !wait {
				fmt.Fprintf(w, "queued a read of %s (%s); gatehouse datasources sync %s --wait waits for it\n", d.ID, d.where(), d.ID)
				fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
				return nil
			}
			deadline := time.Now().Add(timeout)
			for {
				cur, raw, err := getDataSource(ctx, c, args[0])
				if err != nil {
					return err
				}
				if cur.LastSyncAt != nil && (before.LastSyncAt == nil || *cur.LastSyncAt != *before.LastSyncAt) {
					printDataSource(w, cur)
					fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
					if cur.LastState != "succeeded" {
						return errors.New("the read failed: " + oneLine(cur.LastError))
					}
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("the read of %s did not finish within %s (it stays queued; see gatehouse datasources list)", args[0], timeout)
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(200 * time.Millisecond):
				}
			}
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the read and say how it went")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long --wait waits")
	return cmd
}
