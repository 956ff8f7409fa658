package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	slackgo "github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/bot/commands"
)

// maxBody caps a slash command request; real ones are a few hundred bytes.
const maxBody = 64 << 10

// HTTPHandler serves Slack's slash command requests in HTTP mode, to be
// mounted at CommandsPath. Each request's v0 signature is checked against the
// signing secret, and its timestamp may be at most five minutes off; a
// request that fails gets 401 and reaches no Handler. It returns nil when the
// notifier has no signing_secret.
func (a *Adapter) HTTPHandler() http.Handler {
	if a.signingSecret == "" {
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
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	// Slack checks the certificate with ssl_check=1 now and then; it
	// changes nothing, so it needs no signature.
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("ssl_check") == "1" && form.Get("command") == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	if reason := a.verify(r.Header, body); reason != "" {
		a.logger.Info("slack command rejected", "reason", reason, "remote", r.RemoteAddr)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	// A signed request is good for five minutes: the same one again is a
	// replay, refused in every replica.
	fresh, err := a.first(r.Context(), "sig:"+r.Header.Get("X-Slack-Request-Timestamp")+":"+r.Header.Get("X-Slack-Signature"))
	if err != nil {
		a.logger.Error("slack command refused: the replay check failed", "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if !fresh {
		a.logger.Warn("slack command refused: replayed", "remote", r.RemoteAddr)
		http.Error(w, "invalid signature: request replayed", http.StatusUnauthorized)
		return
	}

	r.Body = io.NopCloser(bytes.NewReader(body))
	cmd, err := slackgo.SlashCommandParse(r)
	if err != nil || cmd.Command == "" {
		http.Error(w, "not a slash command", http.StatusBadRequest)
		return
	}
	a.serveHTTPCommand(w, r, cmd)
}

// verify checks the request's v0 signature and its timestamp's age; it
// returns why the request fails, or "" when it passes.
func (a *Adapter) verify(header http.Header, body []byte) string {
	sv, err := slackgo.NewSecretsVerifier(header, a.signingSecret)
	switch {
	case errors.Is(err, slackgo.ErrMissingHeaders):
		return "missing signature headers"
	case errors.Is(err, slackgo.ErrExpiredTimestamp):
		return "timestamp more than 5 minutes off"
	case err != nil:
		return "malformed signature or timestamp"
	}
	if _, err := sv.Write(body); err != nil {
		return "malformed body"
	}
	if sv.Ensure() != nil {
		return "signature mismatch"
	}
	return ""
}

// serveHTTPCommand answers a verified slash command: with the reply when it is
// ready in time, else with "working on it" and the reply to response_url.
func (a *Adapter) serveHTTPCommand(w http.ResponseWriter, r *http.Request, cmd slackgo.SlashCommand) {
	req, known := a.request(cmd)
	if !known {
		writeJSON(w, render(helpReply(cmd.Command)))
		return
	}
	wait := a.ackWait
	if commands.Slow(req) {
		wait = 0
	}
	reply, inTime, sent := a.answer(r.Context(), a.http, req, cmd.ResponseURL, wait)
	defer sent()
	if !inTime {
		writeJSON(w, workingMessage)
		return
	}
	writeJSON(w, render(reply))
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}
