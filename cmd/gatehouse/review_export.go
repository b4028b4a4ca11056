package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// newReviewExportCommand is `gatehouse review export ID --format csv -o FILE`: the
// campaign's evidence, written to FILE, with its SHA-256 on stderr. The file is checked
// against the SHA-256 the server sent (and recorded in its audit log) before it is kept.
func newReviewExportCommand() *cobra.Command {
	var server, format, out string
	cmd := &cobra.Command{
		Use:   "export ID [--format csv|json|html] -o FILE",
		Short: "Download a campaign's evidence (CSV, JSON or the printable HTML report) and print its SHA-256; admins and auditors",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format = strings.ToLower(strings.TrimSpace(format))
			if format != "csv" && format != "json" && format != "html" {
				return fmt.Errorf("--format is csv, json or html, got %q", format)
			}
			if out == "" {
				return fmt.Errorf("say where to write the export with -o FILE (e.g. -o %s.%s), or -o - for stdout", args[0], format)
			}
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			return c.exportCampaign(cmd, args[0], format, out)
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVar(&format, "format", "csv", "csv, json or html (a report to print to PDF from a browser)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (- for stdout)")
	return cmd
}

// exportCampaign streams the export into out (through a temporary file beside it, renamed
// only once the SHA-256 matches the server's), and prints the SHA-256 on stderr.
func (c *apiClient) exportCampaign(cmd *cobra.Command, id, format, out string) error {
	req, err := http.NewRequestWithContext(contextOrBackground(cmd), "GET", c.server+campaignPath(id, "export")+"?format="+format, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	// An export of a large campaign may take longer than the other commands' minute.
	client := *c.http
	client.Timeout = 0
	res, err := client.Do(req)
	if err != nil {
		return c.unreachable(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		e := &apiError{server: c.server, status: res.StatusCode}
		var p struct {
			Detail string `json:"detail"`
		}
		if json.Unmarshal(raw, &p) == nil && p.Detail != "" {
			e.detail = p.Detail
		} else {
			e.detail = http.StatusText(res.StatusCode) + " (is " + c.server + " a Gatehouse server?)"
		}
		return e
	}
	want := strings.ToLower(strings.TrimSpace(res.Header.Get("X-Content-SHA256")))
	if want == "" {
		return fmt.Errorf("the server %s sent the export without its SHA-256 (X-Content-SHA256): is it a Gatehouse server of this version?", c.server)
	}
	h := sha256.New()
	var (
		w    io.Writer
		tmp  *os.File
		size int64
	)
	if out == "-" {
		w = io.MultiWriter(cmd.OutOrStdout(), h)
	} else {
		tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.part")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		w = io.MultiWriter(tmp, h)
	}
	size, err = io.Copy(w, res.Body)
	if err != nil {
		return fmt.Errorf("the export broke off after %d bytes (%v); nothing was written to %s: try again", size, err, out)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != want {
		return fmt.Errorf("the export's SHA-256 is %s but the server sent %s: the file was damaged on the way; nothing was written to %s, try again", got, want, out)
	}
	where := "stdout"
	if tmp != nil {
		if err := tmp.Sync(); err != nil {
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), out); err != nil {
			return errors.Join(fmt.Errorf("cannot write %s", out), err)
		}
		where = out
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote the %s export of %s to %s (%d bytes)\nSHA-256 %s (as the server's audit log records it)\n", format, id, where, size, got)
	return nil
}
