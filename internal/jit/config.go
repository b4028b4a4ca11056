package jit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The rules and approval policies: one YAML document (access.ParseConfig), stored with every
// version in the database. Until an admin applies one, access.DefaultConfig() is in force (the
// seed flow "accounts, Everyone, default policy"), reported as version 0.

// configCache keeps the parsed document of the version last read, so that a request does not
// parse YAML each time; the version is read from the store every time (another replica may
// have applied a new document).
type configCache struct {
	mu      sync.Mutex
	version int64
	cfg     *access.Config
}

// config returns the document in force and its version.
func (s *Service) config(ctx context.Context) (*access.Config, int64, error) {
	row, err := s.st.JITConfig(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return access.DefaultConfig(), 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if s.cache.cfg != nil && s.cache.version == row.Version {
		return s.cache.cfg, row.Version, nil
	}
	cfg, err := access.ParseConfig([]byte(row.Doc), access.WithFileName("rules"))
	if err != nil {
		// Only checked documents are stored; one that no longer parses (a newer Gatehouse
		// wrote it, or the database was edited) must not silently open or close access.
		return nil, 0, fmt.Errorf("the stored rules document (version %d) does not parse: %w", row.Version, err)
	}
	s.cache.version, s.cache.cfg = row.Version, cfg
	return cfg, row.Version, nil
}

// Rules returns the rules and policies document (YAML) in force and its version (0: the seed,
// access.DefaultConfig(), nothing applied yet).
func (s *Service) Rules(ctx context.Context) (doc []byte, version int64, err error) {
	row, err := s.st.JITConfig(ctx)
	if errors.Is(err, store.ErrNotFound) {
		doc, err := access.DefaultConfig().Export()
		return doc, 0, err
	}
	if err != nil {
		return nil, 0, err
	}
	return []byte(row.Doc), row.Version, nil
}

// ApplyRules replaces the rules and policies with doc after checking it; a bad document
// changes nothing and the error is an *access.ParseError (line-precise). Admins only. The
// document is stored as written (comments kept), audited with its version. Requests already
// made keep the policy they were made under.
func (s *Service) ApplyRules(ctx context.Context, c *auth.Caller, doc []byte) (version int64, err error) {
	if !c.IsAdmin() {
		return 0, Errorf(CodeForbidden, "only admins change the rules and approval policies")
	}
	cfg, err := access.ParseConfig(doc) // problems read "rules.yaml:LINE:COL: ...", as docs/jit.md shows
	if err != nil {
		return 0, err
	}
	now := s.now()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		base := int64(0)
		if cur, err := tx.JITConfig(ctx); err == nil {
			base = cur.Version
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		v, err := tx.PutJITConfig(ctx, base, string(doc), c.Email, now)
		if err != nil {
			return err
		}
		version = v
		names := func(n int, f func(int) string) string {
			out := make([]string, n)
			for i := range out {
				out[i] = f(i)
			}
			return strings.Join(out, ",")
		}
		_, err = tx.AppendAudit(ctx, c.Email, "rules.apply", "rules", map[string]any{
			"version":  v,
			"rules":    names(len(cfg.Rules.Rules), func(i int) string { return cfg.Rules.Rules[i].Name }),
			"policies": names(len(cfg.Policies), func(i int) string { return cfg.Policies[i].Name }),
		}, c.RemoteAddr)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return 0, Errorf(CodeConflict, "someone else applied rules at the same moment; export them again and reapply your change")
	}
	return version, err
}

// SeedRules stores access.DefaultConfig() as version 1 of the rules document when none was
// ever stored (a new installation), so that what is in force is in the database, exported and
// audited like any other version, and a later Gatehouse with another seed does not change an
// installation's rules. The server calls it at start; replicas starting together store it
// once.
func (s *Service) SeedRules(ctx context.Context) error {
	doc, err := access.DefaultConfig().Export()
	if err != nil {
		return err
	}
	doc = append([]byte("# The seed rules and approval policy of a new installation (docs/jit.md).\n"), doc...)
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.JITConfig(ctx); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		v, err := tx.PutJITConfig(ctx, 0, string(doc), SystemActor, s.now())
		if err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, SystemActor, "rules.seed", "rules", map[string]any{"version": v,
			"rules": "accounts-everyone", "policies": "default"}, "")
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // another replica stored it first
	}
	return err
}

// Owner scope types (store.Owner*): an account (by id), a permission set (by its id, ps-...),
// or an application (a connection, by id).
const (
	OwnerAccount       = store.OwnerAccount
	OwnerPermissionSet = store.OwnerPermissionSet
	OwnerApplication   = store.OwnerApplication
)

// Owners lists the owners (emails) of an account, permission set or application. Anyone
// signed in may read them (the catalog shows who approves).
func (s *Service) Owners(ctx context.Context, scopeType, scopeID string) ([]string, error) {
	if err := checkOwnerScope(scopeType, scopeID); err != nil {
		return nil, err
	}
	return s.st.Owners(ctx, scopeType, scopeID)
}

// SetOwners replaces the owners of an account, permission set or application (admins only).
// Approval steps with owners: true ask them; requests already made keep their approvers.
func (s *Service) SetOwners(ctx context.Context, c *auth.Caller, scopeType, scopeID string, emails []string) error {
	if !c.IsAdmin() {
		return Errorf(CodeForbidden, "only admins set owners")
	}
	if err := checkOwnerScope(scopeType, scopeID); err != nil {
		return err
	}
	var clean []string
	for _, e := range emails {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if !strings.Contains(e, "@") {
			return Errorf(CodeInvalid, "owner %q is not an email address; owners are people, named by email", e)
		}
		clean = append(clean, e)
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetOwners(ctx, scopeType, scopeID, clean, c.Email, s.now()); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, c.Email, "owners.set", scopeType+":"+scopeID, map[string]any{"owners": clean}, c.RemoteAddr)
		return err
	})
}

func checkOwnerScope(scopeType, scopeID string) error {
	switch scopeType {
	case OwnerAccount, OwnerPermissionSet, OwnerApplication:
	default:
		return Errorf(CodeInvalid, "owner scope %q is not one of account, permission_set, application", scopeType)
	}
	if strings.TrimSpace(scopeID) == "" {
		return Errorf(CodeInvalid, "say which %s the owners are for (its id)", scopeType)
	}
	return nil
}
