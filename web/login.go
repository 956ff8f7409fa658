package web

import "net/http"

type loginData struct {
	Next string
}

func (d *dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	if !d.auth.enabled() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	d.render(w, r, http.StatusOK, "login", page{Title: "Log in", Data: loginData{Next: localPath(r.URL.Query().Get("next"))}})
}

// login exchanges a token for a session cookie (HttpOnly, SameSite=Strict).
func (d *dashboard) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	next := localPath(r.PostFormValue("next"))
	if !d.auth.enabled() {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	addr := clientAddr(r)
	if wait := d.auth.throttle.wait(addr); wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		d.render(w, r, http.StatusTooManyRequests, "login", page{Title: "Log in",
			Error: "Too many failed logins from your address; try again in a minute.", Data: loginData{Next: next}})
		return
	}
	if !d.auth.validToken(r.PostFormValue("token")) {
		d.auth.throttle.failed(addr)
		d.render(w, r, http.StatusUnauthorized, "login", page{Title: "Log in", Error: "That token is not valid.", Data: loginData{Next: next}})
		return
	}
	c, err := d.auth.newSession(r.Context(), r.TLS != nil)
	if err != nil {
		d.log.Error("login: new session", "err", err)
		d.fail(w, r, http.StatusInternalServerError, "Could not start a session.")
		return
	}
	http.SetCookie(w, c)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *dashboard) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, d.auth.endSession(r))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
