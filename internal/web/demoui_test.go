package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/oidcdemo"
	"github.com/gatehouse/gatehouse/internal/server"
)

// demoUI is what a browser test runs against: the demo organization in the simulator, the
// demo OpenID provider with the test's people, and a real Gatehouse server (its jobs
// included) connected to both. Everything stops when the test ends.
type demoUI struct {
	world  *awssim.World // the simulator's organization (read it through sim.Do once the server runs)
	sim    *awssim.Sim
	info   awssim.Info
	simURL string
	idp    *oidcdemo.Provider
	srv    *server.Server
	base   string // the server's URL
}

// startDemoUI starts a demoUI; configure sets the roles (Admins, Auditors) and anything
// else the test needs before the server starts. The connection is synced daily, so the
// only sync before the test's own is the scheduler's first.
func startDemoUI(t *testing.T, people []oidcdemo.Person, configure func(*server.Config)) *demoUI {
	t.Helper()
	world, err := awssim.Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	u := &demoUI{world: world, sim: awssim.New(world, awssim.DefaultOptions())}
	if u.simURL, err = u.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.sim.Close() })
	u.info = u.sim.Info()
	if u.idp, err = oidcdemo.Start("127.0.0.1:0", people); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.idp.Close() })
	cfg, err := server.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.OIDC = server.OIDC{Issuer: u.idp.Issuer(), ClientID: u.idp.ClientID, ClientSecret: u.idp.ClientSecret}
	info := u.info
	cfg.Connections = []server.Connection{{
		ID: "demo", Name: "Demo organization", Region: info.Region, EndpointURL: u.simURL,
		AccessKeyID: info.AccessKeyID, SecretAccessKey: info.SecretAccessKey,
		RoleARN: info.RoleARN, ExternalID: info.ExternalID, Orgs: true, MemberRoleName: info.MemberRoleName,
		IdentityCenter: true, IdentityCenterRegion: info.IdentityCenterRegion,
		SCIMEndpoint: info.SCIMEndpoint, SCIMToken: info.SCIMToken,
		Schedule: 24 * time.Hour,
	}}
	configure(&cfg)
	if u.srv, err = server.New(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	if u.base, err = u.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.srv.Shutdown(context.Background()) })
	u.idp.RegisterRedirect(u.base + "/auth/callback")
	return u
}
