package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// innerEnv marks the process that runs baton's runner for a one-shot grant or revoke
// (see wrapConnectorRun).
const innerEnv = "GATEHOUSE_CONNECTOR_ONE_SHOT"

// wrapConnectorRun runs the runner's RunE with owner-only files and, for one-shot
// provisioning, the id checks and a temporary directory that is removed afterwards.
//
// The runner of a one-shot grant or revoke runs in a child process of this one, with
// TMPDIR pointing at that directory, which this process removes once the child has
// exited. The removal cannot run in the runner's own process: baton's runner watches its
// connector subprocess and calls os.Exit(0) when it is stopped, racing the return of the
// runner's error, and anything done after the runner returns lets that exit win more
// often, turning a failed grant into exit status 0.
//
// For the same reason the runner's exit status cannot be trusted when a task fails, so the
// connector itself records the failure of a grant, a revoke or a sync's fetch in a file
// this process names (failureEnv), and a failure recorded there is this process's error
// whatever status the child exits with.
func wrapConnectorRun(v *viper.Viper, run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ownerOnlyFiles()
		if err := v.BindPFlags(cmd.Flags()); err != nil {
			return err
		}
		provisioning := v.GetString("grant-entitlement") != "" || v.GetString("revoke-grant") != ""
		// A service-mode connector (--client-id) reports each task's outcome to its
		// platform; only a one-shot run's exit status is what its caller reads.
		oneShot := provisioning || v.GetString("client-id") == ""
		if !oneShot || os.Getenv(innerEnv) != "" {
			return run(cmd, args)
		}
		if err := checkProvisioningIDs(cmd.Context(), v); err != nil {
			return err
		}
		tmp, err := os.MkdirTemp("", "gatehouse-connector-")
		if err != nil {
			return fmt.Errorf("create a temporary directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the gatehouse executable: %w", err)
		}
		failures := filepath.Join(tmp, "failures")
		child := exec.Command(self, os.Args[1:]...)
		child.Env = append(os.Environ(), innerEnv+"=1", failureEnv+"="+failures)
		if provisioning {
			// A sync writes its temporary files next to -f; the runner of a grant or
			// revoke leaves its own in TMPDIR, removed with tmp.
			child.Env = append(child.Env, "TMPDIR="+tmp)
		}
		child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
		err = child.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			// The child has said what went wrong; pass its status on, quietly.
			return &exitError{code: max(ee.ExitCode(), 1), err: err, quiet: true}
		}
		if err != nil {
			return err
		}
		if recorded, _ := os.ReadFile(failures); len(recorded) > 0 {
			// The runner exited 0 although the connector failed (baton's race above).
			return errors.New(strings.TrimSpace(string(recorded)))
		}
		return nil
	}
}

// failureEnv names the file in which the connector records a failed grant, revoke or
// sync fetch for the process that started the runner (see wrapConnectorRun).
const failureEnv = "GATEHOUSE_CONNECTOR_FAILURES"

// recordFailure appends err to the failure file of wrapConnectorRun, when there is one,
// and returns err.
func recordFailure(err error) error {
	path := os.Getenv(failureEnv)
	if err == nil || path == "" {
		return err
	}
	if f, openErr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); openErr == nil {
		_, _ = fmt.Fprintln(f, strings.Join(strings.Fields(err.Error()), " "))
		_ = f.Close()
	}
	return err
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
