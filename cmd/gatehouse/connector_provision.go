package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/gatehouse/gatehouse/internal/c1zread"
)

// Checks and clean-up around baton's one-shot provisioning (--grant-entitlement and
// --revoke-grant). baton's runner reads the entitlement, principal or grant from the .c1z
// of -f; when one is missing it fails with its storage engine's bare "not found" and,
// returning before it closes the store, leaves the store's unpacked copy in the temporary
// directory (so does any failed grant or revoke). Gatehouse looks the ids up first, with
// an error that names what is missing and where to find the right id, and gives the
// runner a temporary directory of its own that is removed when it returns.

// wrapConnectorRun runs the runner's RunE with the checks and a private TMPDIR.
func wrapConnectorRun(v *viper.Viper, run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ownerOnlyFiles()
		if err := v.BindPFlags(cmd.Flags()); err != nil {
			return err
		}
		if err := checkProvisioningIDs(cmd.Context(), v); err != nil {
			return err
		}
		tmp, err := os.MkdirTemp("", "gatehouse-connector-")
		if err != nil {
			return fmt.Errorf("create a temporary directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		// Both the runner and the connector process it starts inherit the variable;
		// baton's stores create their working copies under it.
		old, had := os.LookupEnv("TMPDIR")
		os.Setenv("TMPDIR", tmp)
		defer func() {
			if had {
				os.Setenv("TMPDIR", old)
			} else {
				os.Unsetenv("TMPDIR")
			}
		}()
		return run(cmd, args)
	}
}

// checkProvisioningIDs checks that what --grant-entitlement/--grant-principal or
// --revoke-grant names is in the .c1z of -f. Without either flag it does nothing.
func checkProvisioningIDs(ctx context.Context, v *viper.Viper) error {
	entitlement, grant := v.GetString("grant-entitlement"), v.GetString("revoke-grant")
	if entitlement == "" && grant == "" {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	file := v.GetString("file")
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("-f %s: the .c1z to read the ids from is missing; write it with gatehouse sync --file %s (or gatehouse connector -f %s) first", file, file, file)
	}
	// The ids are read with a temporary directory of their own, removed at once.
	tmp, err := os.MkdirTemp("", "gatehouse-ids-")
	if err != nil {
		return fmt.Errorf("create a temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	f, err := c1zread.Open(ctx, file, c1zread.WithTempDir(tmp))
	if err != nil {
		return fmt.Errorf("-f %s: %w", file, err)
	}
	defer f.Close(ctx)

	typeOf := func(id string) string { t, _, _ := strings.Cut(id, ":"); return t }
	if entitlement != "" {
		typ := typeOf(entitlement)
		ents, err := f.Entitlements(ctx, typ)
		if err != nil {
			return fmt.Errorf("-f %s: %w", file, err)
		}
		found := false
		for _, e := range ents {
			found = found || e.GetId() == entitlement
		}
		if !found {
			return fmt.Errorf("--grant-entitlement %s: no such entitlement in %s (gatehouse inspect --file %s entitlements --type %s lists them; sync again if it is new)", entitlement, file, file, typ)
		}
		principal, ptype := v.GetString("grant-principal"), v.GetString("grant-principal-type")
		rs, err := f.Resources(ctx, ptype)
		if err != nil {
			return fmt.Errorf("-f %s: %w", file, err)
		}
		found = false
		for _, r := range rs {
			found = found || r.GetId().GetResource() == principal
		}
		if !found {
			return fmt.Errorf("--grant-principal %s: no %s with that id in %s (gatehouse inspect --file %s resources --type %s lists them; sync again if it is new)", principal, ptype, file, file, ptype)
		}
	}
	if grant != "" {
		typ := typeOf(grant)
		gs, err := f.Grants(ctx, typ)
		if err != nil {
			return fmt.Errorf("-f %s: %w", file, err)
		}
		found := false
		for _, g := range gs {
			found = found || g.GetId() == grant
		}
		if !found {
			return fmt.Errorf("--revoke-grant %s: no such grant in %s (gatehouse inspect --file %s grants --type %s lists them; sync again if it is new)", grant, file, file, typ)
		}
	}
	return nil
}
