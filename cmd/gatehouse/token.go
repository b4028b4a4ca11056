package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

// newTokenCommand is `gatehouse token`: API tokens for automation, made, listed and
// revoked directly in the store (no server needs to run).
func newTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens (sent to the API as Authorization: Bearer <token>)",
		Long: `API tokens let scripts call Gatehouse's JSON API (/api/v1) as a person, with that
person's roles. A token is shown once, when it is created, and only its SHA-256 is stored.
These commands work on the store directly and take the same store flags as serve
(--config, --data-dir, --database-url). Signed-in people can also manage their own
tokens in the web UI and with /api/v1/tokens.`,
	}
	cmd.AddCommand(newTokenCreateCommand(), newTokenListCommand(), newTokenRevokeCommand())
	return cmd
}

// openStoreForCLI loads the store flags and opens the migrated store.
func openStoreForCLI(cmd *cobra.Command) (*store.Store, server.Config, error) {
	cfg, err := server.Load(cmd.Flags())
	if err != nil {
		return nil, cfg, err
	}
	ctx := contextOrBackground(cmd)
	st, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		return nil, cfg, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, cfg, err
	}
	return st, cfg, nil
}

func newTokenCreateCommand() *cobra.Command {
	var email, name string
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "create --email EMAIL --name NAME [--expires 720h]",
		Short: "Create an API token acting as EMAIL; prints the token alone on stdout (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if email == "" || name == "" {
				return errors.New("give --email (the person the token acts as) and --name (what it is for), e.g. gatehouse token create --email alice@example.com --name terraform --expires 720h")
			}
			st, cfg, err := openStoreForCLI(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			roles := auth.RolesFromConfig(cfg.Admins, cfg.Auditors)[auth.NormalizeEmail(email)]
			secret, tok, err := auth.CreateToken(contextOrBackground(cmd), st, auth.NewToken{
				Email: email, Name: name, TTL: expires, Roles: roles, Actor: "cli",
			})
			if err != nil {
				return err
			}
			until := "until revoked"
			if tok.ExpiresAt != nil {
				until = "until " + tok.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "created API token %s %q for %s, valid %s. It is shown once, below; revoke it with: gatehouse token revoke %s\n",
				tok.ID, tok.Name, tok.Email, until, tok.ID)
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "email of the person the token acts as (with their roles)")
	cmd.Flags().StringVar(&name, "name", "", "what the token is for (e.g. terraform, nightly-export)")
	cmd.Flags().DurationVar(&expires, "expires", 0, "how long the token is valid, e.g. 720h (default: until revoked)")
	server.RegisterFlags(cmd.Flags())
	return cmd
}

func newTokenListCommand() *cobra.Command {
	var email string
	cmd := &cobra.Command{
		Use:   "list [--email EMAIL]",
		Short: "List API tokens (never their secrets), newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := openStoreForCLI(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := contextOrBackground(cmd)
			t := &table{header: []string{"ID", "NAME", "EMAIL", "CREATED", "EXPIRES", "LAST USED", "STATE"}, ids: []int{0}}
			now := time.Now()
			after := ""
			for {
				toks, next, err := st.ListAPITokens(ctx, auth.NormalizeEmail(email), 1000, after)
				if err != nil {
					return err
				}
				for _, tok := range toks {
					t.add(tok.ID, tok.Name, tok.Email, tok.CreatedAt.Format(time.RFC3339), fmtTime(tok.ExpiresAt, "never"),
						fmtTime(tok.LastUsedAt, "never"), tokenState(tok, now))
				}
				if next == "" {
					break
				}
				after = next
			}
			if len(t.rows) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no API tokens (create one with gatehouse token create --email E --name N)")
				return nil
			}
			_, err = t.write(cmd.OutOrStdout(), 0)
			return err
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "only the tokens of this person")
	server.RegisterFlags(cmd.Flags())
	return cmd
}

func newTokenRevokeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token; it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, _, err := openStoreForCLI(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			tok, err := auth.RevokeToken(contextOrBackground(cmd), st, args[0], "", "cli", "")
			switch {
			case errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("there is no API token %s (gatehouse token list shows them)", args[0])
			case errors.Is(err, auth.ErrAlreadyRevoked):
				return fmt.Errorf("API token %s was revoked already, at %s", args[0], tok.RevokedAt.Format(time.RFC3339))
			case err != nil:
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "revoked API token %s %q of %s\n", tok.ID, tok.Name, tok.Email)
			return nil
		},
	}
	server.RegisterFlags(cmd.Flags())
	return cmd
}

func fmtTime(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

func tokenState(tok store.APIToken, now time.Time) string {
	switch {
	case tok.RevokedAt != nil:
		return "revoked"
	case tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt):
		return "expired"
	}
	return "active"
}
