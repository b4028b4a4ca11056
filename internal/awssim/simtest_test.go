package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// startSim serves the world on a loopback port for the test and returns the simulator
// and an aws.Config signed with the connector operator's key.
func startSim(t *testing.T, w *World, opts Options) (*Sim, aws.Config) {
	t.Helper()
	s := New(w, opts)
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	var cfg aws.Config
	s.Do(func(w *World) {
		cfg = testConfig(url, w.Region, w.Connector.AccessKeyID, w.Connector.SecretAccessKey, "")
	})
	return s, cfg
}

// testConfig returns an SDK config for the simulator with static credentials.
func testConfig(url, region, akid, secret, token string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, token),
		// Short backoff and no client-side retry quota keep fault and throttling tests fast.
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = 20 * time.Millisecond
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// testWorld is a small organization-less world with the connector set up.
func testWorld(t *testing.T) *World {
	t.Helper()
	w := NewWorld("111111111111", "us-east-1", nil)
	w.AddConnectorAccess("ext-123", "")
	return w
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// adminConfig creates, in the account, an IAM user with AdministratorAccess and returns a
// config signed with its key. Use it for tests of write operations.
func adminConfig(t *testing.T, s *Sim, accountID string) aws.Config {
	t.Helper()
	var cfg aws.Config
	s.Do(func(w *World) {
		a := w.Accounts[accountID]
		if a == nil {
			t.Fatalf("no account %s", accountID)
		}
		u := a.Users["test-admin"]
		if u == nil {
			u = a.AddUser(w, "test-admin", "/")
			u.AttachedPolicies = append(u.AttachedPolicies, AWSManagedPolicyARN("AdministratorAccess"))
		}
		k := a.AddAccessKey(w, u)
		cfg = testConfig(s.URL(), w.Region, k.ID, k.Secret, "")
	})
	return cfg
}
