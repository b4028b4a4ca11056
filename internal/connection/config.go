package connection

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/store"
)

// ApplyConfig makes the stored connections match the config file's, at start: each is
// created or updated (source "config", audited as the actor "system") when it differs
// from what is stored, and left alone (no audit entry) when it does not. A connection
// that came from the config file and is no longer in it becomes an ordinary one (source
// "ui") that an admin may delete: its syncs and history stay. All in one transaction, so
// replicas starting together agree.
func (s *Service) ApplyConfig(ctx context.Context, inputs []Input) error {
	var errs []error
	for i := range inputs {
		s.normalize(&inputs[i])
		inputs[i].ClearSecrets = nil
		if err := validate(inputs[i]); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, f := range ve.Fields {
					errs = append(errs, fmt.Errorf("connections[%d] (%s): %s", i, inputs[i].ID, f.Message))
				}
				continue
			}
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var changes []string
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		changes = changes[:0]
		stored, err := tx.ListConnections(ctx)
		if err != nil {
			return err
		}
		byID := map[string]*store.Connection{}
		for i := range stored {
			byID[stored[i].ID] = &stored[i]
		}
		for _, in := range inputs {
			old := byID[in.ID]
			action := "connection.create"
			var before *Input
			if old != nil {
				oldSet, err := settingsOf(old)
				if err != nil {
					return err
				}
				oldSec, err := s.open(old)
				unreadable := err != nil
				if unreadable {
					// The file has the secrets in clear: replace what no longer opens.
					s.log.Warn("replacing stored secrets that do not open with the config file's", zap.String("connection", in.ID), zap.Error(err))
				}
				b := Input{ID: in.ID, Name: old.Name, Schedule: old.Schedule, Settings: oldSet, Secrets: oldSec}
				if old.Source == store.SourceConfig && !unreadable && len(changedFields(b, in)) == 0 {
					continue
				}
				action, before = "connection.update", &b
			}
			sealed, err := s.seal(in.ID, in.Secrets)
			if err != nil {
				return err
			}
			cfg, err := jsonMarshal(in.Settings)
			if err != nil {
				return err
			}
			c := store.Connection{ID: in.ID, Name: in.Name, Kind: Kind, Source: store.SourceConfig, Schedule: in.Schedule, Config: cfg, SealedSecrets: sealed}
			if old != nil {
				c.CreatedAt = old.CreatedAt
			}
			if err := tx.UpsertConnection(ctx, c); err != nil {
				return err
			}
			detail := auditDetail(in, before, nil, store.SourceConfig)
			if old != nil && old.Source != store.SourceConfig {
				detail["previous_source"] = old.Source
			}
			if _, err := tx.AppendAudit(ctx, "system", action, Target(in.ID), detail, ""); err != nil {
				return err
			}
			changes = append(changes, action+" "+in.ID)
		}
		for _, old := range stored {
			if old.Source != store.SourceConfig || slices.ContainsFunc(inputs, func(in Input) bool { return in.ID == old.ID }) {
				continue
			}
			old.Source, old.UpdatedAt = store.SourceUI, timeNow()
			if err := tx.UpsertConnection(ctx, old); err != nil {
				return err
			}
			if _, err := tx.AppendAudit(ctx, "system", "connection.update", Target(old.ID),
				map[string]any{"name": old.Name, "source": store.SourceUI, "previous_source": store.SourceConfig, "changed": []string{"source"},
					"reason": "no longer in the config file; an admin may now change or delete it"}, ""); err != nil {
				return err
			}
			changes = append(changes, "connection.update "+old.ID+" (no longer in the config file)")
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range changes {
		s.log.Info("connection from the config file", zap.String("change", c))
	}
	return nil
}
