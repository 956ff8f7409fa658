package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// NewOwner returns a name for this process's leases: host, pid and a random
// suffix, so that a restarted process is a new owner.
func NewOwner() string {
	return fmt.Sprintf("%s/%d/%08x", hostname(), os.Getpid(), rand.Uint32())
}

func hostname() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "wirewatch"
	}
	return host
}

// deadLocalOwner reports whether a lease owner named by NewOwner is a
// process of this host that no longer runs (killed, crashed). Owners of
// other hosts, and this process's own pid, are never judged dead: only their
// leases running out frees their work.
func deadLocalOwner(owner, host string) bool {
	h, rest, ok := strings.Cut(owner, "/")
	if !ok || h != host {
		return false
	}
	p, _, _ := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(p)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// reapDeadOwners ends the leases of workers on this host that no longer run,
// so that the sources and queues a crashed or killed process held are taken
// over at once rather than when its leases run out.
func (b *Bot) reapDeadOwners(ctx context.Context) {
	owners, err := b.opt.Store.LeaseOwners(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.opt.Logger.Error("reading the lease owners failed", "err", err)
		}
		return
	}
	host := hostname()
	for _, o := range owners {
		if o == b.opt.Owner || !deadLocalOwner(o, host) {
			continue
		}
		n, err := b.opt.Store.ExpireLeases(ctx, o)
		if err != nil {
			b.opt.Logger.Error("ending the leases of a stopped worker failed", "worker", o, "err", err)
			continue
		}
		if n > 0 {
			b.opt.Logger.Warn("took over the work of a stopped worker", "worker", o, "leases", n)
		}
	}
}
