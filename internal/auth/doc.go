// Package auth decides who is calling and what they may do: OpenID Connect sign-in
// (authorization code with PKCE), browser sessions, API tokens, CSRF protection, the roles
// (admin, auditor, everyone signed in) and the Router through which every route is
// registered with the access it requires, so that no route can exist without a check.
package auth
