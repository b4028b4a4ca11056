package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/auth"
)

// The rules editor: the requestability rules and approval policies as one YAML document in
// a textarea. Apply checks the whole document first; a document with problems changes
// nothing, and each problem is shown with its line.

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/admin/rules", auth.Admin, h.rulesPage)
		r.HandleFunc("POST", "/admin/rules", auth.Admin, h.applyRules)
	})
}

// rulesData is the editor.
type rulesData struct {
	Doc      string
	Version  int64
	Applied  int64
	Problems []access.Problem
	// Lines are the document's lines, for showing each problem's line beside it.
	Lines []string
}

// Line is the text of line n (1-based) of the document sent, "" beyond it.
func (d rulesData) Line(n int) string {
	if n < 1 || n > len(d.Lines) {
		return ""
	}
	return d.Lines[n-1]
}

func (h *handlers) rulesPage(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	doc, version, err := svc.Rules(r.Context())
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	d := rulesData{Doc: string(doc), Version: version}
	if v, err := strconv.ParseInt(r.URL.Query().Get("applied"), 10, 64); err == nil {
		d.Applied = v
	}
	h.render(w, r, http.StatusOK, "rules", page{Title: "Rules and policies", Section: "rules", Data: d})
}

// applyRules replaces the rules and policies with the document sent, or shows its problems
// (line by line) with the document as sent, so that it can be fixed in place.
func (h *handlers) applyRules(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	doc := strings.ReplaceAll(r.PostFormValue("doc"), "\r\n", "\n") // browsers send CRLF
	version, err := svc.ApplyRules(r.Context(), auth.FromContext(r.Context()), []byte(doc))
	var pe *access.ParseError
	if errors.As(err, &pe) {
		_, cur, _ := svc.Rules(r.Context())
		d := rulesData{Doc: doc, Version: cur, Problems: pe.Problems, Lines: strings.Split(doc, "\n")}
		h.render(w, r, http.StatusUnprocessableEntity, "rules", page{Title: "Rules and policies", Section: "rules", Data: d})
		return
	}
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/rules?applied="+strconv.FormatInt(version, 10), http.StatusSeeOther)
}
