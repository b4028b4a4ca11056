// Package app holds the services that the web UI, the JSON API and the background jobs
// share: the store and the domain services built on it. server.New assembles one App;
// internal/web and internal/api take it and stay thin (parse, authorize, call, render).
package app

import (
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/connection"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/findings"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/notify"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/secrets"
	"github.com/gatehouse/gatehouse/internal/store"
)

// App is the shared services of one running server.
type App struct {
	Store *store.Store
	Log   *zap.Logger
	// Secrets seals and opens the secrets kept in the store.
	Secrets *secrets.Keyring
	// Connections are the AWS connections (FetchConfig gives a sync its configuration).
	Connections *connection.Service
	// Auth signs people in and out, says who is calling, and manages API tokens.
	Auth *auth.Service
	// Syncs starts syncs and runs them in the background (River).
	Syncs *jobs.Service
	// JIT is just-in-time access: the catalog, requests, approvals and leases.
	JIT *jit.Service
	// Notify sends the notifications of just-in-time access (webhooks, Slack).
	Notify *notify.Notifier
	// Reviews are the access review campaigns.
	Reviews *review.Service
	// Findings judges the compliance controls after every sync (docs/findings.md).
	Findings *findings.Service
	// DataSources are the S3 buckets application access files are read from.
	DataSources *datasource.Service
	// Applications are the applications imported from files (S3 data sources).
	Applications *appimport.Service
	// Evidence builds, lists and serves audit evidence packs.
	Evidence *evidence.Service
}
