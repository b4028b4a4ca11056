package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ImportKinds are the event kinds of applications imported from files
// (appimport.Event.Kind); endpoints ask for them among Kinds like any other.
var ImportKinds = []string{
	appimport.EventRejected, // a file with problems: nothing changed, the first problem said
	appimport.EventHeld,     // an import that removes too much waits for an admin
}

func init() { Kinds = append(Kinds, ImportKinds...) }

var _ appimport.Notifier = (*Notifier)(nil)

// NotifyImportTx queues the import event ev for every endpoint that wants it, in tx, like
// NotifyTx; the delivery records the application's id.
func (n *Notifier) NotifyImportTx(ctx context.Context, tx *store.Tx, ev appimport.Event) error {
	if ev.Kind == "" {
		return errors.New("notify: an event needs a kind")
	}
	if ev.At.IsZero() {
		ev.At = n.cfg.Now()
	}
	return n.queueTx(ctx, tx, ev.Kind, ev.AppID, func(channel string) ([]byte, error) {
		if channel == ChannelSlack {
			return json.Marshal(map[string]string{"text": ImportSlackText(ev)})
		}
		files := ev.Files
		if files == nil {
			files = []string{}
		}
		return json.Marshal(ImportWebhookPayload{Event: ev.Kind,
			Application: ImportWebhookApplication{ID: ev.AppID, Name: ev.AppName, Owner: ev.Owner},
			Run:         ev.RunID, Import: ev.ImportID, Files: files, Detail: ev.Detail, At: ev.At.UTC().Format(timeFormat)})
	})
}

// ImportWebhookPayload is the JSON body of a webhook delivery of an import event.
type ImportWebhookPayload struct {
	Event       string                   `json:"event"`
	Application ImportWebhookApplication `json:"application"`
	Run         string                   `json:"run"`
	Import      string                   `json:"import"`
	Files       []string                 `json:"files"`
	// Detail is the first problem and how many there are, or why the run is held.
	Detail string `json:"detail"`
	At     string `json:"at"`
}

// ImportWebhookApplication is the application an import event is about.
type ImportWebhookApplication struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Owner string `json:"owner"`
}

// ImportSlackText is the one-line Slack message of an import event.
func ImportSlackText(ev appimport.Event) string {
	what := "was rejected; the application keeps its data"
	if ev.Kind == appimport.EventHeld {
		what = "is held for an admin to approve or reject"
	}
	return fmt.Sprintf("The import of %s into %s (%s) %s: %s. Run %s.", esc(strings.Join(ev.Files, ", ")), esc(ev.AppName),
		esc(ev.AppID), what, esc(oneLine(ev.Detail)), esc(ev.RunID))
}
