package reconcile

import (
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/store"
)

// nextStatus, case by case: since, updated_at, attempts and the retry time.
func TestNextStatus(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	now := t0.Add(time.Minute)
	running := store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{7}, Since: t0, UpdatedAt: t0, CreatedAt: t0}
	failed := store.DaemonStatus{Key: "a/m/d", Status: StatusFailed, Reason: "boom", Attempts: 2, NextRetry: t0.Add(4 * time.Second), Since: t0, UpdatedAt: t0, CreatedAt: t0}
	obsRunning := observation{status: StatusRunning, pids: []int{7}}
	obsFailed := observation{status: StatusFailed, reason: "boom"}
	tests := []struct {
		name        string
		prev        store.DaemonStatus
		had         bool
		learned     learned
		wantChanged bool
		want        store.DaemonStatus
	}{
		{"new daemon", store.DaemonStatus{Key: "a/m/d"}, false, learned{obs: obsRunning},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{7}, Since: now, UpdatedAt: now, CreatedAt: now}},
		{"nothing new", running, true, learned{obs: obsRunning, attempt: true},
			false, running},
		{"touched, same state", running, true, learned{obs: obsRunning, touched: true},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{7}, Since: t0, UpdatedAt: now, CreatedAt: t0}},
		{"new pid", running, true, learned{obs: observation{status: StatusRunning, pids: []int{8}}},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{8}, Since: t0, UpdatedAt: now, CreatedAt: t0}},
		{"starts failing", running, true, learned{obs: obsFailed},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusFailed, Reason: "boom", Attempts: 1, NextRetry: now.Add(2 * time.Second), Since: now, UpdatedAt: now, CreatedAt: t0}},
		{"fails again after an attempt", failed, true, learned{obs: obsFailed, attempt: true},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusFailed, Reason: "boom", Attempts: 3, NextRetry: now.Add(8 * time.Second), Since: t0, UpdatedAt: t0, CreatedAt: t0}},
		{"the same failure seen again", failed, true, learned{obs: obsFailed},
			false, failed},
		{"fails otherwise", failed, true, learned{obs: observation{status: StatusFailed, reason: "other"}},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusFailed, Reason: "other", Attempts: 3, NextRetry: now.Add(8 * time.Second), Since: t0, UpdatedAt: now, CreatedAt: t0}},
		{"recovers", failed, true, learned{obs: obsRunning},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{7}, Since: now, UpdatedAt: now, CreatedAt: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := nextStatus(tt.prev, tt.had, tt.learned, now)
			if changed != tt.wantChanged || !statusEqual(got, tt.want) || !got.CreatedAt.Equal(tt.want.CreatedAt) {
				t.Errorf("nextStatus = %+v, changed %t\nwant          %+v, changed %t", got, changed, tt.want, tt.wantChanged)
			}
		})
	}
}
