package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/conductorone/baton-sdk/pkg/config"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/field"
	"github.com/conductorone/baton-sdk/pkg/types"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/connector"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// Gatehouse's own fields, as baton-sdk's runner sees them (flags, BATON_* environment
// variables, or its config file). The names match `gatehouse sync`.
var connectorFields = []field.SchemaField{
	field.StringField("profile", field.WithDescription("AWS shared configuration profile to use, as the AWS CLI's --profile (default: AWS_PROFILE)")),
	field.StringField("region", field.WithDescription("AWS region for STS and Organizations")),
	field.StringField("endpoint-url", field.WithDescription("send every AWS call to this endpoint (for example the simulator of gatehouse sim)")),
	field.StringField("role-arn", field.WithDescription("role to assume from the standard AWS credential chain")),
	field.StringField("external-id", field.WithDescription("External ID to pass when assuming --role-arn")),
	field.BoolField("orgs", field.WithDescription("read every account of the organization")),
	field.StringField("member-role-name", field.WithDescription("role assumed in each member account"), field.WithDefaultValue(awsfetch.DefaultMemberRoleName)),
	field.StringField("member-external-id", field.WithDescription("External ID for the member-account role")),
	field.BoolField("identity-center", field.WithDescription("read IAM Identity Center")),
	field.StringField("identity-center-region", field.WithDescription("region of the Identity Center instance")),
	field.BoolField("sync-secrets", field.WithDescription("read access key metadata (never secret values)")),
	field.StringField("scim-endpoint", field.WithDescription("Identity Center SCIM endpoint, for user status")),
	field.StringField("scim-token", field.WithDescription("bearer token for the SCIM endpoint"), field.WithIsSecret(true)),
	field.BoolField("allow-partial", field.WithDescription("let a sync succeed when ACTIVE accounts could not be read (their IAM is missing from it); by default such a sync fails, so the previous data is kept")),
}

// newConnectorCommand is baton-sdk's standard connector runner around the Gatehouse
// connector: `gatehouse connector -f out.c1z`, service mode with --client-id and
// --client-secret, and baton's provisioning: --provisioning, and the one-shot
// --grant-entitlement/--grant-principal/--grant-principal-type and --revoke-grant, which
// read the entitlement, principal or grant from the .c1z of -f.
func newConnectorCommand(ctx context.Context) *cobra.Command {
	v, cmd, err := config.DefineConfiguration(ctx, "gatehouse", newBatonConnector, field.NewConfiguration(connectorFields))
	if err != nil {
		// The schema is static; an error here is a programming error worth seeing at once.
		return &cobra.Command{Use: "connector", Short: "Run as a baton connector (unavailable: " + err.Error() + ")",
			RunE: func(*cobra.Command, []string) error { return err }}
	}
	// The runner writes the .c1z (-f) and its temporary files itself, 0644: make them
	// private (the child process that serves the connector inherits the mask). Check
	// the ids of one-shot provisioning first, and keep the runner's temporary files in
	// a directory that goes away with it (connector_provision.go).
	if run := cmd.RunE; run != nil {
		cmd.RunE = wrapConnectorRun(v, run)
	}
	cmd.Use = "connector"
	cmd.Short = "Run Gatehouse as a baton connector (baton-sdk's standard flags: -f, --client-id, --grant-entitlement, ...)"
	return cmd
}

func newBatonConnector(ctx context.Context, v *viper.Viper) (types.ConnectorServer, error) {
	c, err := newGatehouseConnector(v)
	if err != nil {
		return nil, err
	}
	server, err := connectorbuilder.NewConnector(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("build the baton connector: %w", err)
	}
	return server, nil
}

// newGatehouseConnector is the connector the runner serves, configured from baton's
// settings. Every sync task fetches afresh (a service-mode connector runs for days), a
// partial fetch fails the sync unless allow-partial is set, and every skipped account is
// logged with its reason.
func newGatehouseConnector(v *viper.Viper) (*connector.Connector, error) {
	f := awsFlags{
		profile:              v.GetString("profile"),
		region:               v.GetString("region"),
		endpointURL:          v.GetString("endpoint-url"),
		roleARN:              v.GetString("role-arn"),
		externalID:           v.GetString("external-id"),
		orgs:                 v.GetBool("orgs"),
		memberRoleName:       v.GetString("member-role-name"),
		memberExternalID:     v.GetString("member-external-id"),
		identityCenter:       v.GetBool("identity-center"),
		identityCenterRegion: v.GetString("identity-center-region"),
		syncSecrets:          v.GetBool("sync-secrets"),
		scimEndpoint:         v.GetString("scim-endpoint"),
		scimToken:            v.GetString("scim-token"),
		concurrency:          awsfetch.DefaultConcurrency,
	}
	cfg, err := f.config()
	if err != nil {
		return nil, err
	}
	// A profile that does not exist is named now, not as the first sync task's failure.
	if err := awsfetch.CheckProfile(context.Background(), cfg.Profile); err != nil {
		return nil, err
	}
	cfg.AllowPartial = v.GetBool("allow-partial")
	features := connector.Features{Organizations: cfg.Orgs, IdentityCenter: cfg.IdentityCenter, AccessKeys: cfg.SyncSecrets}
	source := func(ctx context.Context) (*inventory.Snapshot, error) {
		cfg := cfg
		// baton's runner installs its logger as zap's global one by the time a sync
		// runs: the fetch's progress, each skipped account with its reason, and the AWS
		// SDK's warnings go there.
		cfg.Logger = zap.L()
		snap, _, err := awsfetch.Fetch(ctx, cfg)
		var pe *awsfetch.PartialError
		if errors.As(err, &pe) {
			return nil, recordFailure(fmt.Errorf("%w; the sync fails so that the previous data is kept: fix these accounts (the log says what to check in each) or run with --allow-partial", err))
		}
		return snap, recordFailure(err)
	}
	opts := []connector.Option{connector.WithSnapshotPerSync()}
	// baton's runner turns provisioning on for --provisioning and for its one-shot
	// --grant-entitlement and --revoke-grant; without it Grant and Revoke stay off here
	// as well, so a connector that only syncs can never change access.
	if v.GetBool("provisioning") || v.GetString("grant-entitlement") != "" || v.GetString("revoke-grant") != "" {
		// baton's runner installs its logger as zap's global one: grants and revokes are
		// logged with the rest of the connector's log.
		opts = append(opts, connector.WithProvisioner(&lazyProvisioner{cfg: cfg, opts: awsprovision.Options{Logger: zap.L()}}))
	}
	return connector.New(source, features, opts...), nil
}

// lazyProvisioner connects to AWS for provisioning on the first Grant or Revoke. baton's
// runner builds the connector in its parent process too, and a service-mode connector
// with --provisioning may only ever sync: neither should make a call it does not need.
type lazyProvisioner struct {
	cfg  awsfetch.Config
	opts awsprovision.Options

	mu sync.Mutex
	p  *awsprovision.Provisioner
}

func (l *lazyProvisioner) get(ctx context.Context) (*awsprovision.Provisioner, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p == nil {
		p, err := awsprovision.Connect(ctx, l.cfg, l.opts)
		if err != nil {
			return nil, err
		}
		l.p = p
	}
	return l.p, nil
}

func (l *lazyProvisioner) Grant(ctx context.Context, a awsprovision.Access) (*awsprovision.Result, error) {
	p, err := l.get(ctx)
	if err != nil {
		return nil, recordFailure(err)
	}
	res, err := p.Grant(ctx, a)
	return res, recordFailure(err)
}

func (l *lazyProvisioner) Revoke(ctx context.Context, a awsprovision.Access) (*awsprovision.Result, error) {
	p, err := l.get(ctx)
	if err != nil {
		return nil, recordFailure(err)
	}
	res, err := p.Revoke(ctx, a)
	return res, recordFailure(err)
}
