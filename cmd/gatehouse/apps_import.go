package main

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

// newAppsImportCommand is `gatehouse apps import APP`: POST /api/v1/applications/{id}/imports.
// The server reads the file at once; the command then shows the application's last import.
func newAppsImportCommand() *cobra.Command {
	var server, datasource, format, sheet, mapping string
	var files []string
	cmd := &cobra.Command{
		Use:   "import APP_ID --datasource ID --file KEY [--file KEY2] [--format csv] [--mapping JSON] [--sheet NAME]",
		Short: "Attach a file of a data source to an application; it is read at once and at every new version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"datasource_id": datasource}
			switch len(files) {
			case 0:
				return fmt.Errorf("give the file's key in the bucket with --file, e.g. --file apps/payroll.csv")
			case 1:
				body["file"] = files[0]
			default:
				body["files"] = files
			}
			if format != "" {
				body["format"] = format
			}
			if sheet != "" {
				body["sheet"] = sheet
			}
			if mapping != "" {
				var m map[string]string
				if err := json.Unmarshal([]byte(mapping), &m); err != nil {
					return fmt.Errorf(`--mapping must be a JSON object from Gatehouse's column to the file's header, e.g. {"User ID": "Login"}: %v`, err)
				}
				body["mapping"] = m
			}
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			ctx := contextOrBackground(cmd)
			var im struct {
				ID        string `json:"id"`
				ReadError string `json:"read_error"`
			}
			raw, err := c.do(ctx, "POST", "/api/v1/applications/"+url.PathEscape(args[0])+"/imports", body, &im)
			if err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			fmt.Fprintf(w, "attached import %s\n", im.ID)
			if im.ReadError != "" {
				fmt.Fprintf(w, "  the file could not be read now: %s\n  it is imported when the data source next reads a new version\n", oneLine(im.ReadError))
			}
			a, _, err := getApp(ctx, c, args[0])
			if err != nil {
				return err
			}
			printApp(w, a)
			fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
			return nil
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVar(&datasource, "datasource", "", "the data source the file is in (its id, ds_...)")
	cmd.Flags().StringArrayVar(&files, "file", nil, "the file's key in the bucket (twice for identities and grants in separate files)")
	cmd.Flags().StringVar(&format, "format", "", "csv, tsv, xlsx, json, yaml or c1z (default: from the file's name)")
	cmd.Flags().StringVar(&mapping, "mapping", "", `column mapping as JSON, e.g. {"User ID": "Login", "Email Address": "Mail"}`)
	cmd.Flags().StringVar(&sheet, "sheet", "", "the XLSX sheet to read")
	return cmd
}
