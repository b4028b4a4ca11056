package main

import (
	"errors"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/loadtest"
)

func newLoadtestCommand() *cobra.Command {
	var cfg loadtest.Config
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Measure a running server's page and API latency (p50/p90/p99) under concurrent clients",
		Long: `Request the given paths of a running gatehouse serve round-robin from --clients concurrent
clients for --duration, authenticating with an API token (gatehouse token create; or set
GATEHOUSE_TOKEN), and print requests per second and latency percentiles per path. Every
path is requested once first (a warm-up that also checks the token and the paths).`,
		Example: `  gatehouse loadtest --url http://127.0.0.1:8080 --clients 50 --duration 30s \
    --path /people/alice@example.com --path /api/v1/changes --path /inventory/account/222222222222`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Token == "" {
				cfg.Token = os.Getenv("GATEHOUSE_TOKEN")
			}
			if cfg.BaseURL == "" || len(cfg.Paths) == 0 {
				return errors.New("give the server's --url and at least one --path")
			}
			cfg.Warmup = true
			res, err := loadtest.Run(contextOrBackground(cmd), cfg)
			if err != nil {
				return err
			}
			res.Write(cmd.OutOrStdout())
			if res.Errors > 0 {
				return errors.New("some requests failed (see above)")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.BaseURL, "url", "", "the server's URL, e.g. http://127.0.0.1:8080")
	fl.StringVar(&cfg.Token, "token", "", "API token (default: GATEHOUSE_TOKEN)")
	fl.StringArrayVar(&cfg.Paths, "path", nil, "path to request (repeatable)")
	fl.IntVar(&cfg.Clients, "clients", 50, "concurrent clients")
	fl.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to load")
	return cmd
}
