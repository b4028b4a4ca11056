package awsfetch

import (
	"context"
	"sync"
)

// lane is a priority of queued work.
type lane int

const (
	// high is work that later work depends on.
	high lane = iota
	// low is work that only needs doing at some point; it fills the quota while high
	// work waits on its dependencies.
	low
)

// workQueue runs tasks on a fixed number of workers, high lane first. Tasks may add
// tasks. After the first error the queue's context is cancelled and the remaining tasks
// still run, failing fast, so that whatever waits on them (their deferred Done calls)
// is released.
type workQueue struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	cond    *sync.Cond
	lanes   [2][]func(context.Context) error
	pending int // queued or running
	err     error
	failed  chan struct{}
	closed  bool
}

func newWorkQueue(ctx context.Context, workers int) *workQueue {
	ctx, cancel := context.WithCancel(ctx)
	q := &workQueue{ctx: ctx, cancel: cancel, failed: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	for i := 0; i < workers; i++ {
		go q.work()
	}
	return q
}

// add queues a task.
func (q *workQueue) add(l lane, task func(context.Context) error) {
	q.mu.Lock()
	q.lanes[l] = append(q.lanes[l], task)
	q.pending++
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (q *workQueue) work() {
	for {
		q.mu.Lock()
		for len(q.lanes[high]) == 0 && len(q.lanes[low]) == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.closed && len(q.lanes[high]) == 0 && len(q.lanes[low]) == 0 {
			q.mu.Unlock()
			return
		}
		l := high
		if len(q.lanes[high]) == 0 {
			l = low
		}
		task := q.lanes[l][0]
		q.lanes[l][0] = nil
		q.lanes[l] = q.lanes[l][1:]
		q.mu.Unlock()

		err := task(q.ctx)
		if err != nil {
			q.fail(err)
		}
		q.mu.Lock()
		q.pending--
		q.mu.Unlock()
		q.cond.Broadcast()
	}
}

// fail records the first error and cancels the remaining work.
func (q *workQueue) fail(err error) {
	q.mu.Lock()
	first := q.err == nil
	if first {
		q.err = err
	}
	q.mu.Unlock()
	if first {
		q.cancel()
		close(q.failed)
	}
}

// wait blocks until no task is queued or running and returns the first error.
func (q *workQueue) wait() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.pending > 0 {
		q.cond.Wait()
	}
	return q.err
}

// close stops the workers once the queue is empty.
func (q *workQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
	q.cancel()
}

// waitOrFail waits for wg, or returns early with the queue's first error.
func waitOrFail(wg *sync.WaitGroup, q *workQueue) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-q.failed:
		_ = q.wait() // let every task end, so nothing outlives the fetch
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.err
	}
}
