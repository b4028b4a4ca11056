package review

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Service runs the access reviews of one server. Its methods check that the caller may do
// what they ask and answer *Error for refusals: admins and auditors create, start, close and
// export campaigns and see every item; a reviewer sees and decides only the items assigned
// to them; nobody decides their own access.
type Service struct {
	cfg   Config
	st    *store.Store
	log   *zap.Logger
	queue Queue
}

// New returns the service. SetQueue must be called before it starts a campaign or decides
// (the River client is built with the service's Extension, so it comes after New).
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("review: a store is required")
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReminderEvery <= 0 {
		cfg.ReminderEvery = 72 * time.Hour
	}
	if cfg.DueSoon <= 0 {
		cfg.DueSoon = 24 * time.Hour
	}
	return &Service{cfg: cfg, st: cfg.Store, log: cfg.Log.Named("review")}, nil
}

// SetQueue gives the service the River client to insert its jobs with (jobs.Service).
func (s *Service) SetQueue(q Queue) { s.queue = q }

// CampaignQuery filters campaigns.
type CampaignQuery struct {
	State CampaignState // "" for any
	Q     string
	Page  store.Page
}
