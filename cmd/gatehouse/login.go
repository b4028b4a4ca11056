package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// newLoginCommand is `gatehouse login --server URL`: it reads an API token from stdin,
// checks it against the server (GET /api/v1/me) and saves the server and the token in
// the user's config directory (0600), so that gatehouse access and gatehouse rules work
// without GATEHOUSE_TOKEN.
func newLoginCommand() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "login --server URL",
		Short: "Save an API token (read from stdin) for a Gatehouse server, for gatehouse access and gatehouse rules",
		Long: `gatehouse login reads an API token from stdin (make one in the web UI under API tokens, or
with gatehouse token create), checks it with the server and saves the server and the
token in the user's config directory ($XDG_CONFIG_HOME/gatehouse/login.json or
~/.config/gatehouse/login.json), readable by you only. The saved token is sent only to
that server. GATEHOUSE_TOKEN, when set, is used instead.

  gatehouse token create --email you@example.com --name laptop | gatehouse login --server https://gatehouse.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" {
				return errors.New("give the server's URL: gatehouse login --server https://gatehouse.example.com (the token is read from stdin)")
			}
			s, err := normalizeServer(server)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "paste an API token for %s and press Enter:\n", s)
			line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			token := strings.TrimSpace(line)
			if token == "" {
				if err != nil {
					return fmt.Errorf("no token on stdin (%v): pipe one in, e.g. gatehouse token create ... | gatehouse login --server %s", err, s)
				}
				return fmt.Errorf("no token on stdin: pipe one in, e.g. gatehouse token create ... | gatehouse login --server %s", s)
			}
			c := &apiClient{server: s, token: token, http: (&apiClient{}).httpClient()}
			var me struct {
				Email string   `json:"email"`
				Roles []string `json:"roles"`
			}
			if _, err := c.do(contextOrBackground(cmd), "GET", "/api/v1/me", nil, &me); err != nil {
				return fmt.Errorf("nothing saved: %w", err)
			}
			path, err := writeLogin(loginFile{Server: s, Token: token})
			if err != nil {
				return fmt.Errorf("cannot save the login: %v", err)
			}
			roles := "no roles"
			if len(me.Roles) > 0 {
				roles = "roles " + strings.Join(me.Roles, ", ")
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "signed in to %s as %s (%s); the token is saved in %s\n", s, me.Email, roles, path)
			return nil
		},
	}
	serverFlag(cmd, &server)
	return cmd
}
