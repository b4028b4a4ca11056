package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/oidcdemo"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

// demoPerson is one of the demo's people: who they are in the demo OpenID provider, and
// the roles the demo gives them (admin and auditor through the server's configuration,
// approver through the demo's approval policies, reviewer through its access review).
type demoPerson struct {
	ID    string   `json:"-"`
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	// What they are in the demo organization, for the message to people.
	About string `json:"-"`
}

// demoPeople have Identity Center users in the demo organization (the simulator's demo
// preset), so each sees their own access.
var demoPeople = []demoPerson{
	{ID: "alice", Email: "alice@example.com", Name: "Alice Nguyen", Roles: []string{"admin"}, About: "admin: connections, settings, Sync now; platform administrator in AWS"},
	{ID: "carol", Email: "carol@example.com", Name: "Carol Okafor", Roles: []string{"auditor"}, About: "auditor: reads everything, the audit log; runs the access review (Campaigns)"},
	{ID: "bob", Email: "bob@example.com", Name: "Bob Martinez", Roles: []string{}, About: "developer, on call: requests access (the story above is his request)"},
	{ID: "dave", Email: "dave@example.com", Name: "Dave Kim", Roles: []string{"approver", "reviewer"}, About: "team lead: approves requests (Approvals); reviews production access (Reviews)"},
}

func newDemoCommand() *cobra.Command {
	var (
		listen  string
		dataDir string
		preset  string
		seed    int64
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole product on a built-in simulated AWS organization, with demo sign-in (no AWS account needed)",
		Long: `Start everything Gatehouse needs on this machine and nothing outside it:

  - the AWS simulator with a generated organization (the demo preset: a handful of accounts
    in OUs, IAM users, groups, roles and policies in each, IAM Identity Center with users,
    groups, permission sets and account assignments, one suspended account and one whose
    role cannot be assumed);
  - a demo OpenID Connect provider (DEMO ONLY: its sign-in page lists the demo people and
    signs in as whoever you pick, without a password);
  - the server (gatehouse serve) with SQLite in a temporary data directory (or --data-dir),
    connected to the simulated organization, with the demo people as admin and auditor.

It applies the demo's just-in-time access rules (cmd/gatehouse/demo_rules.yaml: durations
down to one minute), runs the first sync, makes one request as Bob (Billing on the management
account for two minutes), approves it as Dave and tells its story on stderr as it happens:
requested, approved, provisioned in N s, expires at T, and later when AWS confirmed the
revoke. Carol (the auditor) then starts an access review, "Quarterly review: production
access", over the prod account: Dave reviews it, Alice is the fallback for Dave's own access,
and the items wait in their inboxes (Reviews). The simulated customer keeps a Payroll export
in the bucket gatehouse-demo-imports; Alice adds it as an S3 data source (the customer creates
the role its External ID names) and imports it into the application Payroll, whose users are
the demo people (Applications). Then it prints on stdout the simulator's line (the same as gatehouse
sim prints: endpoint and credentials, so scripts can check AWS state) and a second line,
{"url": ..., "people": [{"email", "name", "roles"}], "story_request": ..., "sample_application": ...,
"sample_datasource": ...}, and on stderr where to go and who to
sign in as. Ctrl-C stops everything; a temporary data directory is removed.`,
		Example: `  gatehouse demo
  gatehouse demo --listen 127.0.0.1:9090 --data-dir ./demo-data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(contextOrBackground(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), listen, dataDir, preset, seed)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to serve the web UI and API on (127.0.0.1:0 picks a free port)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "keep the store here (it may not exist yet); default: a temporary directory removed at exit")
	cmd.Flags().StringVar(&preset, "preset", "demo", "generated organization: "+strings.Join(awssim.PresetNames(), ", "))
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of the generated organization")
	return cmd
}

func runDemo(ctx context.Context, stdout, stderr io.Writer, listen, dataDir, preset string, seed int64) error {
	world, err := awssim.Preset(preset, seed)
	if err != nil {
		return err
	}
	// The listen address is resolved first: the sign-in redirect needs the real port.
	addr, err := resolveListen(listen)
	if err != nil {
		return err
	}
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "gatehouse-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}

	sim := awssim.New(world, awssim.DefaultOptions())
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer sim.Close()
	info := sim.Info()
	line, _ := json.Marshal(info)
	fmt.Fprintf(stdout, "%s\n", line)

	var people []oidcdemo.Person
	cfg, err := server.Load(nil)
	if err != nil {
		return err
	}
	for _, p := range demoPeople {
		people = append(people, oidcdemo.Person{ID: p.ID, Email: p.Email, Name: p.Name})
		for _, r := range p.Roles {
			switch r {
			case "admin":
				cfg.Admins = append(cfg.Admins, p.Email)
			case "auditor":
				cfg.Auditors = append(cfg.Auditors, p.Email)
			}
		}
	}
	idp, err := oidcdemo.Start("127.0.0.1:0", people)
	if err != nil {
		return err
	}
	defer idp.Close()

	cfg.Listen = addr
	cfg.PublicURL = "http://" + addr
	cfg.DataDir = dataDir
	cfg.DatabaseURL = ""
	cfg.OIDC = server.OIDC{Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}
	cfg.Connections = []server.Connection{{
		ID: "aws", Name: "Demo organization (simulated)",
		Region: info.Region, EndpointURL: simURL,
		RoleARN: info.RoleARN, ExternalID: info.ExternalID,
		Orgs: true, MemberRoleName: info.MemberRoleName,
		IdentityCenter: true, IdentityCenterRegion: info.IdentityCenterRegion,
		SyncSecrets: true, SCIMEndpoint: info.SCIMEndpoint, SCIMToken: info.SCIMToken,
		AccessKeyID: info.AccessKeyID, SecretAccessKey: info.SecretAccessKey,
	}}
	log := demoLogger(stderr)
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	url, err := srv.Start()
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("%w (is another gatehouse demo or server running? choose another address with --listen, e.g. --listen 127.0.0.1:0 for any free port)", err)
	}
	idp.RegisterRedirect(url + "/auth/callback")
	if err := applyDemoRules(ctx, srv); err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			fmt.Fprintf(stderr, "gatehouse demo: shutdown: %v\n", err)
		}
	}()

	fmt.Fprintf(stderr, "Gatehouse demo: simulated AWS organization %q (seed %d) at %s\n", preset, seed, simURL)
	fmt.Fprintf(stderr, "Store: %s\nRunning the first sync of every account...\n", srv.App.Store.Describe())
	sync, err := demoFirstSync(ctx, srv)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "First sync %s: %s, %d AWS API calls", sync.ID, sync.State, sync.APICalls)
	if len(sync.Skipped) > 0 {
		fmt.Fprintf(stderr, ", %d account(s) not read:", len(sync.Skipped))
		for _, sk := range sync.Skipped {
			fmt.Fprintf(stderr, "\n  %s: %s", sk.AccountID, sk.Reason)
		}
	}
	fmt.Fprintln(stderr)
	if sync.State == store.SyncFailed {
		return fmt.Errorf("the first sync failed: %s", sync.Error)
	}
	storyID, err := demoStory(ctx, srv, stderr, url)
	if err != nil {
		return err
	}
	if _, err := demoReview(ctx, srv, stderr, url); err != nil {
		return err
	}
	imported, err := demoImports(ctx, srv, info, stderr, url)
	if err != nil {
		return err
	}

	fmt.Fprintf(stderr, "\nOpen %s and sign in (the demo sign-in page asks no password) as:\n", url)
	for _, p := range demoPeople {
		fmt.Fprintf(stderr, "  %-20s %s\n", p.Email, p.About)
	}
	fmt.Fprintf(stderr, "Press Ctrl-C to stop.\n")
	// The machine-readable line comes last: a script that waits for it finds everything ready.
	out := struct {
		URL     string       `json:"url"`
		People  []demoPerson `json:"people"`
		DataDir string       `json:"data_dir"`
		// StoryRequest is the id of the just-in-time request the demo made and follows.
		StoryRequest string `json:"story_request"`
		// SampleApplication is the id of the application imported from the demo's bucket
		// (Payroll), and SampleDataSource the data source it is read through.
		SampleApplication string `json:"sample_application"`
		SampleDataSource  string `json:"sample_datasource"`
	}{URL: url, People: demoPeople, DataDir: dataDir, StoryRequest: storyID,
		SampleApplication: imported.Application.ID, SampleDataSource: imported.DataSource.ID}
	line, _ = json.Marshal(out)
	fmt.Fprintf(stdout, "%s\n", line)
	<-ctx.Done()
	fmt.Fprintf(stderr, "Stopping...\n")
	return nil
}

// demoFirstSync starts the first sync (or finds the one the scheduler started) and waits
// for its final state.
func demoFirstSync(ctx context.Context, srv *server.Server) (*store.Sync, error) {
	sync, err := srv.App.Syncs.StartSync(ctx, nil, "aws")
	if errors.Is(err, jobs.ErrSyncRunning) {
		sync, err = srv.App.Store.LatestSync(ctx, "aws")
	}
	if err != nil {
		return nil, fmt.Errorf("start the first sync: %w", err)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !sync.Final() {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		if sync, err = srv.App.Store.GetSync(ctx, sync.ID); err != nil {
			return nil, err
		}
	}
	return sync, nil
}

// resolveListen checks that the address can be listened on before anything starts, and
// turns a :0 port into a free one, so that the address is known before the server starts.
func resolveListen(addr string) (string, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("--listen %q: want host:port, e.g. 127.0.0.1:8080", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w (is another gatehouse demo or server running? choose another address with --listen, e.g. --listen 127.0.0.1:0 for any free port)", addr, err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// demoLogger shows the server's errors on stderr. Its info lines would bury the demo's
// own messages, and its warnings (the accounts a sync could not read) are in the demo's
// summary of the first sync and on the sync's page.
func demoLogger(w io.Writer) *zap.Logger {
	return serverLoggerTo(w, zap.ErrorLevel)
}
