package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// The commands for engineers (gatehouse access request, list, approve..., gatehouse rules)
// talk to a running server's JSON API, as the person an API token acts as. The server comes
// from --server or GATEHOUSE_SERVER (or the one gatehouse login saved); the token from
// GATEHOUSE_TOKEN or the login file, which is only ever sent to the server it was saved for.

// loginFile is what gatehouse login saves (0600): the server and the token for it.
type loginFile struct {
	Server string `json:"server"`
	Token  string `json:"token"`
}

// loginPath is the login file's path under the user's config directory
// ($XDG_CONFIG_HOME/gatehouse/login.json, or ~/.config/... on Linux).
func loginPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory to keep the login in (%v); set GATEHOUSE_TOKEN instead", err)
	}
	return filepath.Join(dir, "gatehouse", "login.json"), nil
}

// readLogin reads the login file; nil when there is none.
func readLogin() (*loginFile, string, error) {
	path, err := loginPath()
	if err != nil {
		return nil, "", nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("cannot read the login file %s: %v", path, err)
	}
	var l loginFile
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, path, fmt.Errorf("the login file %s is damaged (%v): run gatehouse login --server URL again", path, err)
	}
	return &l, path, nil
}

// writeLogin saves the login file, readable by its owner only.
func writeLogin(l loginFile) (string, error) {
	path, err := loginPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(l, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".login-*.json")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

// normalizeServer checks a server URL and drops a trailing slash.
func normalizeServer(s string) (string, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("the server must be a URL such as https://gatehouse.example.com, got %q", s)
	}
	return s, nil
}

// serverFlag adds --server to cmd.
func serverFlag(cmd *cobra.Command, server *string) {
	cmd.Flags().StringVar(server, "server", "", "the Gatehouse server's URL (default: GATEHOUSE_SERVER, or the server gatehouse login saved)")
}

// apiClient calls a Gatehouse server's API with a token.
type apiClient struct {
	server string
	token  string
	http   *http.Client
}

// newAPIClient finds the server and the token.
func newAPIClient(server string) (*apiClient, error) {
	login, path, err := readLogin()
	if err != nil {
		return nil, err
	}
	if server == "" {
		server = os.Getenv("GATEHOUSE_SERVER")
	}
	if server == "" && login != nil {
		server = login.Server
	}
	if server == "" {
		return nil, errors.New("which Gatehouse server? Give --server URL, set GATEHOUSE_SERVER, or save one with gatehouse login --server URL")
	}
	server, err = normalizeServer(server)
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(os.Getenv("GATEHOUSE_TOKEN"))
	if token == "" && login != nil {
		// The saved token is for the server it was saved with, never another.
		if saved, err := normalizeServer(login.Server); err == nil && saved == server {
			token = login.Token
		}
	}
	if token == "" {
		hint := ""
		if login != nil {
			hint = " (the login in " + path + " is for " + login.Server + ")"
		}
		return nil, fmt.Errorf("no API token for %s%s: set GATEHOUSE_TOKEN, or save one with gatehouse login --server %s (make one in the web UI under API tokens, or with gatehouse token create)", server, hint, server)
	}
	return &apiClient{server: server, token: token, http: (&apiClient{}).httpClient()}, nil
}

// httpClient is the HTTP client of the commands: an answer that takes longer than a
// minute is a server in trouble.
func (*apiClient) httpClient() *http.Client { return &http.Client{Timeout: 60 * time.Second} }

// apiError is an answer of the server that is not a success.
type apiError struct {
	server string
	status int
	detail string
	// problems are the line-precise problems of a rules document (400 of PUT /api/v1/rules).
	problems []rulesProblem
}

type rulesProblem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *apiError) Error() string {
	switch e.status {
	case http.StatusUnauthorized:
		return fmt.Sprintf("the server %s did not accept the API token (%s): set GATEHOUSE_TOKEN to a valid token, or run gatehouse login --server %s again with a new one", e.server, e.detail, e.server)
	case http.StatusForbidden:
		return "not allowed: " + e.detail
	case http.StatusNotFound:
		return "not found: " + e.detail
	case http.StatusConflict:
		return "not possible now: " + e.detail
	case http.StatusBadRequest:
		return "the server refused it: " + e.detail
	case http.StatusServiceUnavailable:
		return "the server cannot do it now: " + e.detail
	}
	return fmt.Sprintf("the server answered %d %s: %s", e.status, http.StatusText(e.status), e.detail)
}

// do calls method path with body (JSON when it is not a []byte or nil) and decodes a JSON
// answer into out (when not nil); raw is the answer's body.
func (c *apiClient) do(ctx context.Context, method, path string, body any, out any) (raw []byte, err error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/yaml"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, c.unreachable(err)
	}
	defer res.Body.Close()
	raw, err = io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %v", c.server, err)
	}
	if res.StatusCode/100 != 2 {
		e := &apiError{server: c.server, status: res.StatusCode}
		var p struct {
			Detail   string         `json:"detail"`
			Problems []rulesProblem `json:"problems"`
		}
		if json.Unmarshal(raw, &p) == nil && p.Detail != "" {
			e.detail, e.problems = p.Detail, p.Problems
		} else {
			e.detail = strings.TrimSpace(string(raw))
			if len(e.detail) > 300 || e.detail == "" {
				e.detail = http.StatusText(res.StatusCode) + " (is " + c.server + " a Gatehouse server?)"
			}
		}
		return raw, e
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, fmt.Errorf("the answer of %s %s is not what Gatehouse answers (%v): is %s a Gatehouse server?", method, path, err, c.server)
		}
	}
	return raw, nil
}

// unreachable says that the server could not be reached, and what to check.
func (c *apiClient) unreachable(err error) error {
	var ne net.Error
	why := err.Error()
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		why = ue.Err.Error()
	}
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("the Gatehouse server at %s did not answer in time (%s); is it overloaded or behind a proxy that drops the request?", c.server, why)
	}
	return fmt.Errorf("cannot reach the Gatehouse server at %s (%s): is it running, and is --server (or GATEHOUSE_SERVER) right?", c.server, why)
}

// jsonLine compacts a JSON answer onto one line, for stdout.
func jsonLine(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return strings.TrimSpace(string(raw))
	}
	return b.String()
}
