package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/syncs/{id}/c1z", auth.Auditor, h.syncFile)
	})
}

// syncFile: GET /api/v1/syncs/{id}/c1z (auditor). The sync's .c1z, the baton file of the
// organization's state at that sync, for any tool that reads baton files (gatehouse
// inspect -f). 404 when the sync wrote none (failed), when retention (keep_syncs) has
// deleted it, or when another replica ran the sync (files are kept where they were
// written). Every download is audited as sync.download, before the file is sent.
func (h *handlers) syncFile(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	sy, err := h.app.Store.GetSync(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		problem.Write(w, http.StatusNotFound, "no sync "+id+" (GET /api/v1/syncs lists them)")
		return
	}
	if err != nil {
		h.app.Log.Error("read sync", zap.String("sync", id), zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "cannot read the sync; see the server log")
		return
	}
	if sy.C1ZPath == "" {
		detail := "sync " + id + " has no .c1z: "
		if sy.State == store.SyncFailed || !sy.Final() {
			detail += "only a sync that finished (succeeded or partial) writes one"
		} else {
			detail += "it was deleted to keep the newest keep_syncs files of the connection"
		}
		problem.Write(w, http.StatusNotFound, detail)
		return
	}
	f, err := os.Open(sy.C1ZPath)
	if errors.Is(err, os.ErrNotExist) {
		problem.Write(w, http.StatusNotFound, "the .c1z of sync "+id+" is not on this replica: it is kept in the data directory of the replica that ran the sync ("+sy.Runner+")")
		return
	}
	if err != nil {
		h.app.Log.Error("open sync file", zap.String("sync", id), zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "cannot open the sync's .c1z; see the server log")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		problem.Write(w, http.StatusInternalServerError, "cannot read the sync's .c1z")
		return
	}
	c := auth.FromContext(r.Context())
	if err := h.app.Store.InTx(r.Context(), func(tx *store.Tx) error {
		_, err := tx.AppendAudit(r.Context(), c.Email, "sync.download", "sync:"+id, map[string]any{"connection": sy.ConnectionID, "bytes": st.Size()}, c.RemoteAddr)
		return err
	}); err != nil {
		h.app.Log.Error("audit sync download", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the download could not be audited, so it is refused; see the server log")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="gatehouse-`+safeFileName(sy.ConnectionID)+"-"+safeFileName(id)+`.c1z"`)
	w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.Copy(w, f)
}

// safeFileName keeps letters, digits, - and _ for a download's file name.
func safeFileName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
