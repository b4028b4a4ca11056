// Package server assembles `gatehouse serve`: it loads the configuration, opens and
// migrates the store, starts the jobs, registers every route (health, metrics, sign-in,
// the web UI, the JSON API) on one auth.Router, and serves them until it is told to stop,
// then shuts down gracefully.
package server
