package server

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/gatehouse/gatehouse/internal/notify"
)

// Config is everything `gatehouse serve` is configured with: flags, a YAML config file
// (--config) and GATEHOUSE_* environment variables, in that order of precedence (flag
// over environment over file). A nested key such as oidc.issuer is GATEHOUSE_OIDC_ISSUER.
type Config struct {
	// Listen is the address to serve on.
	Listen string `mapstructure:"listen"`
	// PublicURL is where browsers reach Gatehouse (the OIDC redirect URL is built from
	// it); default http://<listen>.
	PublicURL string `mapstructure:"public_url"`
	// DataDir holds the SQLite database, the secrets key and the kept .c1z files.
	DataDir string `mapstructure:"data_dir"`
	// DatabaseURL selects PostgreSQL (postgres://...) instead of SQLite.
	DatabaseURL string `mapstructure:"database_url"`
	// SecretKey, when set, is the key (base64 of 32 bytes) that encrypts stored secrets;
	// otherwise it is read from, or created in, the data directory. Several replicas on
	// PostgreSQL must share one: give it to each (GATEHOUSE_SECRET_KEY).
	SecretKey string `mapstructure:"secret_key"`
	OIDC      OIDC   `mapstructure:"oidc"`
	// Admins and Auditors are emails given those roles at every start.
	Admins   []string `mapstructure:"admins"`
	Auditors []string `mapstructure:"auditors"`
	// Connections are the AWS connections from the config file; admins can add more in
	// the UI.
	Connections []Connection `mapstructure:"connections"`
	// SyncSchedule is how often each connection is synced unless it says otherwise.
	SyncSchedule time.Duration `mapstructure:"sync_schedule"`
	// KeepSyncs is how many .c1z files are kept per connection.
	KeepSyncs int `mapstructure:"keep_syncs"`
	// MetricsToken, when set, makes /metrics require it as a bearer token.
	MetricsToken string `mapstructure:"metrics_token"`
	// SessionTTL is how long a browser session lasts.
	SessionTTL time.Duration `mapstructure:"session_ttl"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
	// Jobs tunes the background jobs (tests shorten these).
	Jobs Jobs `mapstructure:"jobs"`
	// Notifications are where just-in-time access events are sent (docs/notifications.md).
	Notifications Notifications `mapstructure:"notifications"`
	// Evidence configures scheduled evidence packs (docs/evidence.md).
	Evidence Evidence `mapstructure:"evidence"`
	// Findings are the thresholds of the compliance findings (docs/findings.md).
	Findings Findings `mapstructure:"findings"`
}

// Findings are the thresholds of the findings judged after every sync that are settings
// rather than the benchmark's own numbers.
type Findings struct {
	// CredentialReportTolerance: a credential report older than this when the sync read
	// AWS makes the controls judged from it unknown.
	CredentialReportTolerance time.Duration `mapstructure:"credential_report_tolerance"`
	// MaxSessionDuration: permission sets with a longer session fail gh.session_duration.
	MaxSessionDuration time.Duration `mapstructure:"max_session_duration"`
	// RootUseWindow: a root user used this recently fails 1.7.
	RootUseWindow time.Duration `mapstructure:"root_use_window"`
	// UnusedAfter: a service a user or role is granted and has not used for this long
	// fails gh.unused_services.
	UnusedAfter time.Duration `mapstructure:"unused_after"`
	// UnusedAccessBudget is how many service last accessed jobs each sync starts per
	// account (0: the default, 50; -1 turns the reads and gh.unused_services off);
	// UnusedAccessRefresh how
	// old an entity's details get before they are read again; LastAccessTolerance how old
	// they may be and still be judged (older: unknown).
	UnusedAccessBudget  int           `mapstructure:"unused_access_budget"`
	UnusedAccessRefresh time.Duration `mapstructure:"unused_access_refresh"`
	LastAccessTolerance time.Duration `mapstructure:"last_accessed_tolerance"`
}

// Evidence configures scheduled evidence packs: schedule is monthly (each calendar month,
// built once it is over), weekly, or off; when it is left out but a scope is given, it is
// monthly. The scope (accounts, ous, applications) is the packs'; empty means every.
type Evidence struct {
	Schedule     string   `mapstructure:"schedule"`
	Accounts     []string `mapstructure:"accounts"`
	OUs          []string `mapstructure:"ous"`
	Applications []string `mapstructure:"applications"`
}

// Every is how often scheduled packs are built ("" for never).
func (e Evidence) Every() string {
	switch e.Schedule {
	case "off":
		return ""
	case "":
		if len(e.Accounts)+len(e.OUs)+len(e.Applications) > 0 {
			return "monthly"
		}
		return ""
	}
	return e.Schedule
}

// Notifications are the endpoints that receive just-in-time access events.
type Notifications struct {
	Webhooks []Webhook `mapstructure:"webhooks"`
	Slack    []Slack   `mapstructure:"slack"`
}

// Webhook is a generic webhook: signed JSON posted to URL.
type Webhook struct {
	// Name identifies it in the deliveries and logs (never the URL).
	Name string `mapstructure:"name"`
	URL  string `mapstructure:"url"`
	// Secret signs every delivery (X-Gatehouse-Signature); it may instead be given as
	// GATEHOUSE_NOTIFICATIONS_WEBHOOKS_<NAME>_SECRET.
	Secret string `mapstructure:"secret"`
	// Events are the event kinds it receives (default: all).
	Events []string `mapstructure:"events"`
}

// Slack is a Slack incoming webhook. Its URL is a secret; it may instead be given as
// GATEHOUSE_NOTIFICATIONS_SLACK_<NAME>_URL.
type Slack struct {
	Name   string   `mapstructure:"name"`
	URL    string   `mapstructure:"url"`
	Events []string `mapstructure:"events"`
}

// Endpoints are the configured endpoints, for notify.Config.
func (n Notifications) Endpoints() []notify.Endpoint {
	var out []notify.Endpoint
	for _, w := range n.Webhooks {
		out = append(out, notify.Endpoint{Name: w.Name, Channel: notify.ChannelWebhook, URL: w.URL, Secret: w.Secret, Events: w.Events})
	}
	for _, sl := range n.Slack {
		out = append(out, notify.Endpoint{Name: sl.Name, Channel: notify.ChannelSlack, URL: sl.URL, Events: sl.Events})
	}
	return out
}

// notificationEnv is the variable that gives an endpoint's secret (field SECRET or URL):
// GATEHOUSE_NOTIFICATIONS_<LIST>_<NAME>_<FIELD>, the name in upper case with - as _.
func notificationEnv(list, name, field string) string {
	n := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
	return "GATEHOUSE_NOTIFICATIONS_" + list + "_" + n + "_" + field
}

// fromEnv fills the secrets the environment gives, so that they need not be in the file.
func (n *Notifications) fromEnv() {
	for i := range n.Webhooks {
		if v := os.Getenv(notificationEnv("WEBHOOKS", n.Webhooks[i].Name, "SECRET")); v != "" {
			n.Webhooks[i].Secret = v
		}
		n.Webhooks[i].Events = splitList(n.Webhooks[i].Events)
	}
	for i := range n.Slack {
		if v := os.Getenv(notificationEnv("SLACK", n.Slack[i].Name, "URL")); v != "" {
			n.Slack[i].URL = v
		}
		n.Slack[i].Events = splitList(n.Slack[i].Events)
	}
}

// validate says what is wrong with the endpoints, naming each by its place in the file and
// never repeating a URL or secret.
func (n Notifications) validate() []error {
	var errs []error
	seen := map[string]string{}
	check := func(where string, e notify.Endpoint, env string) {
		if e.Name != "" {
			where += " (" + e.Name + ")"
		}
		for _, err := range e.Check() {
			if errors.Is(err, notify.ErrNoSecret) || errors.Is(err, notify.ErrNoURL) {
				err = fmt.Errorf("%w; or set %s", err, env)
			}
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if other, dup := seen[e.Name]; dup && e.Name != "" {
			errs = append(errs, fmt.Errorf("%s: the name %q is also %s's; give each endpoint its own name", where, e.Name, other))
		}
		seen[e.Name] = where
	}
	for i, w := range n.Webhooks {
		check(fmt.Sprintf("notifications.webhooks[%d]", i), notify.Endpoint{Name: w.Name, Channel: notify.ChannelWebhook, URL: w.URL, Secret: w.Secret, Events: w.Events},
			notificationEnv("WEBHOOKS", w.Name, "SECRET"))
	}
	for i, sl := range n.Slack {
		check(fmt.Sprintf("notifications.slack[%d]", i), notify.Endpoint{Name: sl.Name, Channel: notify.ChannelSlack, URL: sl.URL, Events: sl.Events},
			notificationEnv("SLACK", sl.Name, "URL"))
	}
	return errs
}

// OIDC is the OpenID Connect provider people sign in with.
type OIDC struct {
	Issuer       string `mapstructure:"issuer"`
	ClientID     string `mapstructure:"client_id"`
	ClientSecret string `mapstructure:"client_secret"`
	// Scopes are requested in addition to openid (default: profile, email).
	Scopes []string `mapstructure:"scopes"`
}

// Jobs tunes River.
type Jobs struct {
	// Workers is the number of jobs run at once by this replica.
	Workers int `mapstructure:"workers"`
	// SyncTimeout bounds one sync; RescueAfter is when another replica takes over a job
	// whose replica stopped answering (must be longer than SyncTimeout).
	SyncTimeout time.Duration `mapstructure:"sync_timeout"`
	RescueAfter time.Duration `mapstructure:"rescue_after"`
	// SchedulerInterval is how often the scheduler looks for connections due a sync.
	SchedulerInterval time.Duration `mapstructure:"scheduler_interval"`
}

// Connection is one AWS connection: what `gatehouse sync` takes on its command line.
type Connection struct {
	ID                   string `mapstructure:"id"`
	Name                 string `mapstructure:"name"`
	Region               string `mapstructure:"region"`
	Profile              string `mapstructure:"profile"`
	EndpointURL          string `mapstructure:"endpoint_url"`
	RoleARN              string `mapstructure:"role_arn"`
	ExternalID           string `mapstructure:"external_id"`
	Orgs                 bool   `mapstructure:"orgs"`
	MemberRoleName       string `mapstructure:"member_role_name"`
	MemberExternalID     string `mapstructure:"member_external_id"`
	IdentityCenter       bool   `mapstructure:"identity_center"`
	IdentityCenterRegion string `mapstructure:"identity_center_region"`
	SyncSecrets          bool   `mapstructure:"sync_secrets"`
	SCIMEndpoint         string `mapstructure:"scim_endpoint"`
	SCIMToken            string `mapstructure:"scim_token"`
	// AccessKeyID and SecretAccessKey are static credentials (the simulator's); without
	// them the standard AWS credential chain is used.
	AccessKeyID     string        `mapstructure:"access_key_id"`
	SecretAccessKey string        `mapstructure:"secret_access_key"`
	Schedule        time.Duration `mapstructure:"schedule"`
	Concurrency     int           `mapstructure:"concurrency"`
}

// Defaults.
const (
	DefaultListen       = "127.0.0.1:8080"
	DefaultSyncSchedule = time.Hour
	DefaultKeepSyncs    = 24
)

// RegisterFlags adds serve's flags (shared by the commands that use the store).
func RegisterFlags(fl *pflag.FlagSet) {
	fl.String("config", "", "YAML configuration file (every setting can also be a GATEHOUSE_* environment variable)")
	fl.String("data-dir", "", "directory for the SQLite database, the secrets key and the kept .c1z files (default ./gatehouse-data)")
	fl.String("database-url", "", "PostgreSQL URL (postgres://user:password@host:port/db) instead of SQLite, for several replicas")
}

// RegisterServeFlags adds the flags only serve has.
func RegisterServeFlags(fl *pflag.FlagSet) {
	fl.String("listen", DefaultListen, "address to serve the web UI and API on")
	fl.String("public-url", "", "URL browsers reach Gatehouse at (default http://<listen>)")
	fl.String("oidc-issuer", "", "OpenID Connect issuer URL people sign in with")
	fl.String("oidc-client-id", "", "OpenID Connect client id")
	fl.StringSlice("admin", nil, "email of an admin (repeatable); admins manage connections and settings")
	fl.Duration("sync-schedule", DefaultSyncSchedule, "how often each connection is synced")
	fl.String("metrics-token", "", "require this bearer token on /metrics")
}

// flagKeys maps flag names to configuration keys.
var flagKeys = map[string]string{
	"data-dir": "data_dir", "database-url": "database_url", "listen": "listen",
	"public-url": "public_url", "oidc-issuer": "oidc.issuer", "oidc-client-id": "oidc.client_id",
	"admin": "admins", "sync-schedule": "sync_schedule", "metrics-token": "metrics_token",
}

// Load reads the configuration from the flags in fl (those registered by RegisterFlags
// and, for serve, RegisterServeFlags), the file they name and the environment.
func Load(fl *pflag.FlagSet) (Config, error) {
	v := viper.New()
	v.SetEnvPrefix("GATEHOUSE")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	v.SetDefault("listen", DefaultListen)
	v.SetDefault("data_dir", "gatehouse-data")
	v.SetDefault("sync_schedule", DefaultSyncSchedule)
	v.SetDefault("keep_syncs", DefaultKeepSyncs)
	v.SetDefault("session_ttl", 12*time.Hour)
	v.SetDefault("shutdown_timeout", 30*time.Second)
	v.SetDefault("jobs.workers", 4)
	v.SetDefault("jobs.sync_timeout", 2*time.Hour)
	v.SetDefault("jobs.rescue_after", 2*time.Hour+15*time.Minute)
	v.SetDefault("jobs.scheduler_interval", time.Minute)
	v.SetDefault("findings.credential_report_tolerance", 24*time.Hour)
	v.SetDefault("findings.max_session_duration", 8*time.Hour)
	v.SetDefault("findings.root_use_window", 30*24*time.Hour)
	v.SetDefault("findings.unused_after", 90*24*time.Hour)
	v.SetDefault("findings.unused_access_budget", 50)
	v.SetDefault("findings.unused_access_refresh", 7*24*time.Hour)
	v.SetDefault("findings.last_accessed_tolerance", 30*24*time.Hour)
	// Keys that only the file or the environment set must be known to viper for
	// AutomaticEnv to find them when unmarshalling.
	for _, k := range []string{"database_url", "public_url", "secret_key", "oidc.issuer", "oidc.client_id", "oidc.client_secret", "oidc.scopes", "admins", "auditors", "metrics_token",
		"evidence.schedule", "evidence.accounts", "evidence.ous", "evidence.applications"} {
		v.SetDefault(k, nil)
	}
	if fl != nil {
		for name, key := range flagKeys {
			if f := fl.Lookup(name); f != nil {
				if err := v.BindPFlag(key, f); err != nil {
					return Config{}, err
				}
			}
		}
		if f := fl.Lookup("config"); f != nil && f.Value.String() != "" {
			v.SetConfigFile(f.Value.String())
		} else if p := os.Getenv("GATEHOUSE_CONFIG"); p != "" {
			v.SetConfigFile(p)
		}
	}
	if v.ConfigFileUsed() != "" {
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("config file %s: %w", v.ConfigFileUsed(), err)
		}
	}
	var cfg Config
	if err := v.Unmarshal(&cfg); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	// Lists from the environment arrive as one comma-separated string.
	cfg.Admins = splitList(cfg.Admins)
	cfg.Auditors = splitList(cfg.Auditors)
	cfg.OIDC.Scopes = splitList(cfg.OIDC.Scopes)
	cfg.Notifications.fromEnv()
	cfg.Evidence.Accounts = splitList(cfg.Evidence.Accounts)
	cfg.Evidence.OUs = splitList(cfg.Evidence.OUs)
	cfg.Evidence.Applications = splitList(cfg.Evidence.Applications)
	return cfg, cfg.Validate()
}

func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// Validate checks the configuration and says what to fix.
func (c *Config) Validate() error {
	var errs []error
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: set a data directory (--data-dir) or a PostgreSQL URL (--database-url)"))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public_url %q: want an absolute http(s) URL like https://gatehouse.example.com", c.PublicURL))
		}
	}
	if c.SyncSchedule < time.Minute {
		errs = append(errs, fmt.Errorf("sync_schedule %s: must be at least 1m", c.SyncSchedule))
	}
	if c.KeepSyncs < 1 {
		errs = append(errs, fmt.Errorf("keep_syncs %d: keep at least 1 .c1z file per connection", c.KeepSyncs))
	}
	// Zero findings thresholds take findings' defaults (a Config built in code).
	if c.Findings.CredentialReportTolerance != 0 && c.Findings.CredentialReportTolerance < 4*time.Hour {
		errs = append(errs, fmt.Errorf("findings.credential_report_tolerance %s: must be at least 4h (IAM reuses a credential report for up to 4 hours, so a shorter tolerance makes every report-based finding unknown)", c.Findings.CredentialReportTolerance))
	}
	if c.Findings.MaxSessionDuration < 0 || c.Findings.MaxSessionDuration > 12*time.Hour {
		errs = append(errs, fmt.Errorf("findings.max_session_duration %s: must be at most 12h (Identity Center allows sessions of up to 12 hours)", c.Findings.MaxSessionDuration))
	}
	if c.Findings.RootUseWindow != 0 && c.Findings.RootUseWindow < time.Hour {
		errs = append(errs, fmt.Errorf("findings.root_use_window %s: must be at least 1h", c.Findings.RootUseWindow))
	}
	if c.Findings.UnusedAccessBudget < -1 {
		errs = append(errs, fmt.Errorf("findings.unused_access_budget %d: must be -1 (off) or more", c.Findings.UnusedAccessBudget))
	}
	if c.Findings.UnusedAfter != 0 && c.Findings.UnusedAfter < 24*time.Hour {
		errs = append(errs, fmt.Errorf("findings.unused_after %s: must be at least 24h (IAM's last accessed data is not more precise)", c.Findings.UnusedAfter))
	}
	if r, tol := c.Findings.UnusedAccessRefresh, c.Findings.LastAccessTolerance; r != 0 && tol != 0 && r >= tol {
		errs = append(errs, fmt.Errorf("findings.unused_access_refresh %s must be shorter than findings.last_accessed_tolerance %s, or details would go stale before they are read again", r, tol))
	}
	if c.Jobs.RescueAfter <= c.Jobs.SyncTimeout {
		errs = append(errs, fmt.Errorf("jobs.rescue_after (%s) must be longer than jobs.sync_timeout (%s), or a running sync would be started twice", c.Jobs.RescueAfter, c.Jobs.SyncTimeout))
	}
	seen := map[string]bool{}
	for i, conn := range c.Connections {
		where := fmt.Sprintf("connections[%d]", i)
		switch {
		case conn.ID == "":
			errs = append(errs, fmt.Errorf("%s: id is required (a short name such as aws or prod-org)", where))
		case seen[conn.ID]:
			errs = append(errs, fmt.Errorf("%s: id %q is used twice", where, conn.ID))
		}
		seen[conn.ID] = true
		if conn.RoleARN != "" && !strings.HasPrefix(conn.RoleARN, "arn:aws") {
			errs = append(errs, fmt.Errorf("%s: role_arn must be a role ARN like arn:aws:iam::123456789012:role/GatehouseConnector, got %q", where, conn.RoleARN))
		}
		if (conn.SCIMEndpoint == "") != (conn.SCIMToken == "") {
			errs = append(errs, fmt.Errorf("%s: scim_endpoint and scim_token go together; set both or neither", where))
		}
		if (conn.AccessKeyID == "") != (conn.SecretAccessKey == "") {
			errs = append(errs, fmt.Errorf("%s: access_key_id and secret_access_key go together; set both or neither", where))
		}
	}
	errs = append(errs, c.Notifications.validate()...)
	switch c.Evidence.Schedule {
	case "", "monthly", "weekly", "off":
	default:
		errs = append(errs, fmt.Errorf("evidence.schedule %q: want monthly, weekly or off", c.Evidence.Schedule))
	}
	return errors.Join(errs...)
}
