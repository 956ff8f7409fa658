package discord

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

const (
	// maxBody caps an interaction's body; real ones are a few kilobytes.
	maxBody = 64 << 10
	// maxSkew is how far a signature's timestamp may be from now before the
	// request counts as a replay.
	maxSkew = 5 * time.Minute
	// pruneAt is the number of remembered interactions above which expired
	// ones are forgotten.
	pruneAt = 256
)

// HTTPHandler serves POST /discord/interactions: Discord's signed
// interaction webhooks, for an application whose Interactions Endpoint URL
// points here. It checks the Ed25519 signature over timestamp and body with
// public_key, refuses timestamps more than 5 minutes from now and
// interactions it has seen already, answers PING with PONG and commands as
// the gateway does, in the HTTP response. Anything that fails a check gets
// 401 and reaches no handler. HTTPHandler is nil when public_key is empty.
// Deferred replies are edited in by goroutines that Run waits for.
func (a *Adapter) HTTPHandler() http.Handler {
	if a.publicKey == nil {
		return nil
	}
	return http.HandlerFunc(a.serveHTTP)
}

func (a *Adapter) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return
	}
	now := a.now()
	if !a.verified(r.Header, body, now) {
		a.logger.Debug("discord interaction refused: bad or stale signature", "remote", r.RemoteAddr)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		http.Error(w, "invalid interaction", http.StatusBadRequest)
		return
	}
	fresh := a.replays.first(i.ID, now)
	if fresh && a.remember != nil {
		// Another replica may have served it: the store decides.
		var err error
		fresh, err = a.remember.Remember(r.Context(), "discord:"+a.appID+":"+i.ID, now.Add(2*maxSkew))
		if err != nil {
			a.logger.Error("discord interaction refused: the replay check failed", "interaction", i.ID, "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
	}
	if !fresh {
		a.logger.Warn("discord interaction refused: replayed", "interaction", i.ID, "remote", r.RemoteAddr)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	if !a.enter() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer a.inflight.Done()

	first, then := a.answer(&i)
	b, err := json.Marshal(first)
	if err == nil {
		w.Header().Set("Content-Type", "application/json")
		_, err = w.Write(b)
	}
	if err != nil {
		a.logger.Warn("discord interaction response failed", "interaction", i.ID, "err", a.describe(err, i.Token))
	}
	if then == nil {
		return
	}
	// Send the deferral before the edit can race it to Discord.
	if f, ok := w.(http.Flusher); ok && err == nil {
		f.Flush()
	}
	acked := err == nil
	a.inflight.Go(func() { then(acked) })
}

// verified checks the request's signature and that its timestamp is recent.
func (a *Adapter) verified(h http.Header, body []byte, now time.Time) bool {
	sec, err := strconv.ParseInt(h.Get("X-Signature-Timestamp"), 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return false
	}
	// VerifyInteraction reads and replaces the body: give it a copy.
	r := &http.Request{Header: h, Body: io.NopCloser(bytes.NewReader(body))}
	return discordgo.VerifyInteraction(r, a.publicKey)
}

// replayGuard remembers the interactions served recently, so that a signed
// request captured and sent again within the timestamp window is refused.
type replayGuard struct {
	mu   sync.Mutex
	seen map[string]time.Time // interaction id → when it may be forgotten
}

// first reports whether id is new, and remembers it.
func (g *replayGuard) first(id string, now time.Time) bool {
	if id == "" {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = make(map[string]time.Time)
	}
	if until, ok := g.seen[id]; ok && now.Before(until) {
		return false
	}
	if len(g.seen) >= pruneAt {
		for k, until := range g.seen {
			if !now.Before(until) {
				delete(g.seen, k)
			}
		}
	}
	// A timestamp may be up to maxSkew ahead of now and still pass later.
	g.seen[id] = now.Add(2 * maxSkew)
	return true
}
