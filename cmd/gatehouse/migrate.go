package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

func newMigrateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the store's schema migrations (gatehouse serve also does at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := server.Load(cmd.Flags())
			if err != nil {
				return err
			}
			ctx := contextOrBackground(cmd)
			st, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL})
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := st.Migrate(ctx)
			if err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			if len(res.Applied) == 0 && len(res.RiverApplied) == 0 {
				fmt.Fprintf(w, "%s: up to date (schema version %d)\n", st.Describe(), res.Version)
				return nil
			}
			for _, m := range res.Applied {
				fmt.Fprintf(w, "applied %s\n", m)
			}
			if len(res.RiverApplied) > 0 {
				fmt.Fprintf(w, "applied River's job queue migrations %v\n", res.RiverApplied)
			}
			fmt.Fprintf(w, "%s: schema version %d\n", st.Describe(), res.Version)
			return nil
		},
	}
	server.RegisterFlags(cmd.Flags())
	return cmd
}
