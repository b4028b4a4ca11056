package server

import (
	"context"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/connection"
	"github.com/gatehouse/gatehouse/internal/secrets"
)

// setupConnections loads the secrets key, starts the connection service and makes the
// stored connections match the config file's.
func (s *Server) setupConnections(ctx context.Context) error {
	keys, err := secrets.Load(secrets.Options{Key: s.cfg.SecretKey, DataDir: s.cfg.DataDir, Shared: s.cfg.DatabaseURL != ""})
	if err != nil {
		return err
	}
	s.log.Info("secrets key loaded", zap.String("key_id", keys.KeyID()), zap.String("from", keys.Source))
	s.App.Secrets = keys
	s.App.Connections = connection.NewService(s.App.Store, keys, s.log.Named("connections"), s.cfg.SyncSchedule)
	return s.App.Connections.ApplyConfig(ctx, ConnectionInputs(s.cfg.Connections))
}

// ConnectionInputs turns the config file's connections into the connection service's
// input.
func ConnectionInputs(cs []Connection) []connection.Input {
	out := make([]connection.Input, 0, len(cs))
	for _, c := range cs {
		in := connection.Input{
			ID:   c.ID,
			Name: c.Name,
			Settings: connection.Settings{
				Region: c.Region, Profile: c.Profile, EndpointURL: c.EndpointURL, RoleARN: c.RoleARN,
				Orgs: c.Orgs, MemberRoleName: c.MemberRoleName, IdentityCenter: c.IdentityCenter,
				IdentityCenterRegion: c.IdentityCenterRegion, SyncSecrets: c.SyncSecrets,
				SCIMEndpoint: c.SCIMEndpoint, AccessKeyID: c.AccessKeyID, Concurrency: c.Concurrency,
			},
			Secrets: connection.Secrets{
				ExternalID: c.ExternalID, MemberExternalID: c.MemberExternalID,
				SCIMToken: c.SCIMToken, SecretAccessKey: c.SecretAccessKey,
			},
		}
		if c.Schedule > 0 {
			in.Schedule = c.Schedule.String()
		}
		out = append(out, in)
	}
	return out
}
