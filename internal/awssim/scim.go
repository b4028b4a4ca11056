package awssim

import "net/http"

// serveSCIM serves the Identity Center SCIM 2.0 API behind a bearer token.
func (s *Sim) serveSCIM(rw http.ResponseWriter, r *http.Request) {
	http.Error(rw, "SCIM is not implemented yet", http.StatusNotImplemented)
}
