package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/secrets"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Errors the API maps to status codes (all wrapped, test with errors.Is).
var (
	// ErrNotFound: no connection with that id (404).
	ErrNotFound = store.ErrNotFound
	// ErrExists: creating a connection whose id is taken (409).
	ErrExists = errors.New("a connection with this id exists")
	// ErrConfigManaged: changing or deleting a connection that comes from the config
	// file, which would put it back at the next start (409).
	ErrConfigManaged = errors.New("the connection comes from the config file")
)

// View is a connection as shown to admins: its settings in full, its secrets masked
// ("set", "•••• " and the last 4 characters, or "" when not set).
type View struct {
	ID        string
	Name      string
	Kind      string
	Source    string // store.SourceConfig or store.SourceUI
	Schedule  string
	CreatedAt time.Time
	UpdatedAt time.Time
	Settings  Settings
	// Secrets maps each of SecretFields to its mask.
	Secrets map[string]string
	// Warnings are advice about the settings (see Settings.Warnings).
	Warnings []string
}

// Deletable says whether an admin may delete (or change) the connection: not when it
// comes from the config file.
func (v *View) Deletable() bool { return v.Source != store.SourceConfig }

// Service manages connections. Its methods are safe for concurrent use.
type Service struct {
	st   *store.Store
	keys *secrets.Keyring
	log  *zap.Logger
	// defaultSchedule is the schedule of a connection that names none.
	defaultSchedule time.Duration
}

// NewService returns the connection service on st, sealing secrets with keys.
func NewService(st *store.Store, keys *secrets.Keyring, log *zap.Logger, defaultSchedule time.Duration) *Service {
	if log == nil {
		log = zap.NewNop()
	}
	if defaultSchedule <= 0 {
		defaultSchedule = time.Hour
	}
	return &Service{st: st, keys: keys, log: log, defaultSchedule: defaultSchedule}
}

// aad binds a connection's sealed secrets to it: copied onto another row, they do not open.
func aad(id string) string { return "connection:" + id }

// Target is the audit target of connection id.
func Target(id string) string { return "connection:" + id }

func (s *Service) seal(id string, sec Secrets) (string, error) {
	if sec.empty() {
		return "", nil
	}
	b, err := json.Marshal(sec)
	if err != nil {
		return "", err
	}
	return s.keys.Seal(b, aad(id))
}

func (s *Service) open(c *store.Connection) (Secrets, error) {
	var sec Secrets
	if c.SealedSecrets == "" {
		return sec, nil
	}
	b, err := s.keys.Open(c.SealedSecrets, aad(c.ID))
	if err != nil {
		return sec, fmt.Errorf("connection %q: its stored secrets: %w", c.ID, err)
	}
	if err := json.Unmarshal(b, &sec); err != nil {
		return sec, fmt.Errorf("connection %q: its stored secrets are not readable: %w", c.ID, secrets.ErrTampered)
	}
	return sec, nil
}

func settingsOf(c *store.Connection) (Settings, error) {
	var set Settings
	if len(c.Config) > 0 {
		if err := json.Unmarshal(c.Config, &set); err != nil {
			return set, fmt.Errorf("connection %q: stored settings: %w", c.ID, err)
		}
	}
	return set, nil
}

func (s *Service) view(c *store.Connection) (*View, error) {
	set, err := settingsOf(c)
	if err != nil {
		return nil, err
	}
	v := &View{ID: c.ID, Name: c.Name, Kind: c.Kind, Source: c.Source, Schedule: c.Schedule,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Settings: set, Secrets: map[string]string{}, Warnings: set.Warnings()}
	sec, err := s.open(c)
	if err != nil {
		// The settings are still worth showing; say the secrets are there but unreadable.
		s.log.Warn("stored connection secrets do not open", zap.String("connection", c.ID), zap.Error(err))
		for _, f := range SecretFields {
			v.Secrets[f] = "unreadable"
		}
		v.Warnings = append(v.Warnings, "the stored secrets do not open with this server's key ("+err.Error()+"); enter them again")
		return v, nil
	}
	for _, f := range SecretFields {
		v.Secrets[f] = mask(*sec.field(f))
	}
	return v, nil
}

// List returns every connection, masked, by id.
func (s *Service) List(ctx context.Context) ([]*View, error) {
	cs, err := s.st.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*View, 0, len(cs))
	for i := range cs {
		v, err := s.view(&cs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Get returns the connection id, masked (ErrNotFound when there is none).
func (s *Service) Get(ctx context.Context, id string) (*View, error) {
	c, err := s.st.GetConnection(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(c)
}

// Current returns the connection id as an Input without its secrets, for a partial
// update (PATCH) to overlay its changes on.
func (s *Service) Current(ctx context.Context, id string) (Input, error) {
	c, err := s.st.GetConnection(ctx, id)
	if err != nil {
		return Input{}, err
	}
	set, err := settingsOf(c)
	if err != nil {
		return Input{}, err
	}
	return Input{ID: c.ID, Name: c.Name, Schedule: c.Schedule, Settings: set}, nil
}

func actorOf(c *auth.Caller) (actor, remote string) {
	if c == nil {
		return "system", ""
	}
	return c.Email, c.RemoteAddr
}

// normalize fills the defaults of in.
func (s *Service) normalize(in *Input) {
	if in.Name == "" {
		in.Name = in.ID
	}
	if in.Schedule == "" {
		in.Schedule = s.defaultSchedule.String()
	} else if d, err := time.ParseDuration(in.Schedule); err == nil {
		in.Schedule = d.String()
	}
}

// Create adds a connection from in (source "ui"), with its connection.create audit entry
// in the same transaction.
func (s *Service) Create(ctx context.Context, caller *auth.Caller, in Input) (*View, error) {
	in.ClearSecrets = nil
	s.normalize(&in)
	if err := validate(in); err != nil {
		return nil, err
	}
	sealed, err := s.seal(in.ID, in.Secrets)
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(in.Settings)
	if err != nil {
		return nil, err
	}
	actor, remote := actorOf(caller)
	var out *View
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.GetConnection(ctx, in.ID); err == nil {
			return fmt.Errorf("connection %q: %w; choose another id or update it", in.ID, ErrExists)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		c := store.Connection{ID: in.ID, Name: in.Name, Kind: Kind, Source: store.SourceUI, Schedule: in.Schedule, Config: cfg, SealedSecrets: sealed}
		if err := tx.UpsertConnection(ctx, c); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, actor, "connection.create", Target(in.ID), auditDetail(in, nil, nil, store.SourceUI), remote); err != nil {
			return err
		}
		saved, err := tx.GetConnection(ctx, in.ID)
		if err != nil {
			return err
		}
		out, err = s.view(saved)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("connection created", zap.String("connection", in.ID), zap.String("by", actor))
	return out, nil
}

// Update replaces the settings of connection id with in (an empty secret keeps the
// stored one; in.ClearSecrets removes some), with its connection.update audit entry in
// the same transaction. A connection from the config file is changed there, not here.
func (s *Service) Update(ctx context.Context, caller *auth.Caller, id string, in Input) (*View, error) {
	if in.ID == "" {
		in.ID = id
	}
	if in.ID != id {
		return nil, &ValidationError{Fields: []FieldError{{Field: "id", Message: fmt.Sprintf("the id of a connection cannot change (it is %q); create a new connection and delete this one instead", id)}}}
	}
	s.normalize(&in)
	actor, remote := actorOf(caller)
	var out *View
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		old, err := tx.GetConnection(ctx, id)
		if err != nil {
			return err
		}
		if old.Source == store.SourceConfig {
			return fmt.Errorf("connection %q: %w: change it in the config file (the next start would put the file's settings back)", id, ErrConfigManaged)
		}
		oldSet, err := settingsOf(old)
		if err != nil {
			return err
		}
		oldSec, err := s.open(old)
		if err != nil {
			return fmt.Errorf("%w; give every secret again with clear_secrets naming the others", err)
		}
		merged := keepSecrets(in, oldSec)
		if err := validate(merged); err != nil {
			return err
		}
		sealed, err := s.seal(id, merged.Secrets)
		if err != nil {
			return err
		}
		cfg, err := json.Marshal(merged.Settings)
		if err != nil {
			return err
		}
		c := store.Connection{ID: id, Name: merged.Name, Kind: old.Kind, Source: old.Source, Schedule: merged.Schedule,
			CreatedAt: old.CreatedAt, Config: cfg, SealedSecrets: sealed}
		if err := tx.UpsertConnection(ctx, c); err != nil {
			return err
		}
		before := Input{ID: id, Name: old.Name, Schedule: old.Schedule, Settings: oldSet, Secrets: oldSec}
		if _, err := tx.AppendAudit(ctx, actor, "connection.update", Target(id), auditDetail(merged, &before, nil, old.Source), remote); err != nil {
			return err
		}
		saved, err := tx.GetConnection(ctx, id)
		if err != nil {
			return err
		}
		out, err = s.view(saved)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("connection updated", zap.String("connection", id), zap.String("by", actor))
	return out, nil
}

// keepSecrets fills the secrets in leaves empty with the stored ones, except those it
// clears.
func keepSecrets(in Input, old Secrets) Input {
	for _, f := range SecretFields {
		p := in.Secrets.field(f)
		switch {
		case slices.Contains(in.ClearSecrets, f):
			*p = ""
		case *p == "":
			*p = *old.field(f)
		}
	}
	return in
}

// Delete deletes connection id, with its connection.delete audit entry in the same
// transaction. Its syncs and inventory history stay: they are evidence of what was. A
// connection from the config file is removed from the file, not here.
func (s *Service) Delete(ctx context.Context, caller *auth.Caller, id string) error {
	actor, remote := actorOf(caller)
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		old, err := tx.GetConnection(ctx, id)
		if err != nil {
			return err
		}
		if old.Source == store.SourceConfig {
			return fmt.Errorf("connection %q: %w: remove it from the config file and restart (it would come back at the next start otherwise)", id, ErrConfigManaged)
		}
		if err := tx.DeleteConnection(ctx, id); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, actor, "connection.delete", Target(id), map[string]any{"name": old.Name}, remote)
		return err
	})
	if err != nil {
		return err
	}
	s.log.Info("connection deleted", zap.String("connection", id), zap.String("by", actor))
	return nil
}

// auditDetail describes a create or update for the audit log: the settings in full and,
// for secrets, only which are set and which changed, never their values.
func auditDetail(in Input, before *Input, extra map[string]any, source string) map[string]any {
	d := map[string]any{"name": in.Name, "schedule": in.Schedule, "source": source, "settings": in.Settings}
	var set []string
	for _, f := range SecretFields {
		if *in.Secrets.field(f) != "" {
			set = append(set, f)
		}
	}
	d["secrets_set"] = nonNil(set)
	if before != nil {
		d["changed"] = nonNil(changedFields(*before, in))
	}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// changedFields names the fields (settings and secrets, by JSON name) that differ.
func changedFields(a, b Input) []string {
	var out []string
	if a.Name != b.Name {
		out = append(out, "name")
	}
	if a.Schedule != b.Schedule {
		out = append(out, "schedule")
	}
	am, bm := jsonFields(a.Settings), jsonFields(b.Settings)
	for _, k := range settingFields {
		if string(am[k]) != string(bm[k]) {
			out = append(out, k)
		}
	}
	for _, f := range SecretFields {
		if *a.Secrets.field(f) != *b.Secrets.field(f) {
			out = append(out, f)
		}
	}
	return out
}

// settingFields are Settings' JSON names in declaration order.
var settingFields = []string{"region", "profile", "endpoint_url", "role_arn", "orgs", "member_role_name",
	"identity_center", "identity_center_region", "sync_secrets", "scim_endpoint", "access_key_id", "concurrency"}

func jsonFields(s Settings) map[string]json.RawMessage {
	b, _ := json.Marshal(s)
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal(b, &m)
	return m
}

// FetchConfig returns what a sync of connection id needs: its settings, its secrets
// unsealed and its credentials built (static ones when it has an access key, otherwise
// its profile or the standard AWS credential chain). AllowPartial is set: a server sync
// records skipped accounts (and keeps their last known IAM as stale) rather than failing.
// The caller adds Logger, Progress and Live.
func (s *Service) FetchConfig(ctx context.Context, id string) (awsfetch.Config, error) {
	c, err := s.st.GetConnection(ctx, id)
	if err != nil {
		return awsfetch.Config{}, err
	}
	set, err := settingsOf(c)
	if err != nil {
		return awsfetch.Config{}, err
	}
	sec, err := s.open(c)
	if err != nil {
		return awsfetch.Config{}, err
	}
	for _, w := range set.Warnings() {
		s.log.Warn(w, zap.String("connection", id))
	}
	cfg := awsfetch.Config{
		Region:               set.Region,
		Profile:              set.Profile,
		EndpointURL:          set.EndpointURL,
		RoleARN:              set.RoleARN,
		ExternalID:           sec.ExternalID,
		Orgs:                 set.Orgs,
		MemberRoleName:       set.MemberRoleName,
		MemberExternalID:     sec.MemberExternalID,
		IdentityCenter:       set.IdentityCenter,
		IdentityCenterRegion: set.IdentityCenterRegion,
		SyncSecrets:          set.SyncSecrets,
		SCIMEndpoint:         set.SCIMEndpoint,
		SCIMToken:            sec.SCIMToken,
		Concurrency:          set.Concurrency,
		AllowPartial:         true,
	}
	if set.AccessKeyID != "" {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(set.AccessKeyID, sec.SecretAccessKey, "")
	}
	return cfg, nil
}

// Schedule is how often connection id is synced.
func (s *Service) Schedule(ctx context.Context, id string) (time.Duration, error) {
	c, err := s.st.GetConnection(ctx, id)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(c.Schedule)
	if err != nil || d < MinSchedule {
		return s.defaultSchedule, nil
	}
	return d, nil
}

func jsonMarshal(v any) (json.RawMessage, error) { return json.Marshal(v) }

// timeNow is time.Now, for the rows this package stamps itself.
var timeNow = time.Now
