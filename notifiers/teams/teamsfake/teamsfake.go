// Package teamsfake is a fake Teams Workflows webhook on 127.0.0.1 for tests:
// it checks the sig key of its URL, takes a message with one Adaptive Card
// as Teams does (the size limit, the card's type and version, text only in
// TextBlocks and RichTextBlocks of TextRuns) and answers 202, with refusals,
// throttling and held answers on demand. It never reaches the internet.
package teamsfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

// MaxPayload is the largest message Teams takes, in bytes.
const MaxPayload = 28 * 1024

// Text is one text of a card the fake accepted.
type Text struct {
	// Element is "TextRun" or "TextBlock"; Weight is its weight.
	Element, Text, Weight string
	// Link is the URL of the run's selectAction, if any.
	Link string
}

// Card is one card the fake accepted: its texts in order, its buttons'
// URLs and the raw body.
type Card struct {
	Texts   []Text
	Buttons []string
	Body    []byte
}

// Teams is the fake webhook; notifiertest.Fake gives it Hold, Calls and
// Close. It is closed when the test ends; its methods are safe for
// concurrent use.
type Teams struct {
	*notifiertest.Fake
	sig string

	mu    sync.Mutex
	cards []Card
}

// New starts a fake whose webhook URL carries the key sig.
func New(t testing.TB, sig string) *Teams {
	t.Helper()
	f := &Teams{sig: sig}
	f.Fake = notifiertest.NewFake(t, http.HandlerFunc(f.serve))
	return f
}

// URL is the webhook's URL, as Workflows hands it out.
func (f *Teams) URL() string {
	return f.Fake.URL() + "/workflows/0f1e2d3c/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + f.sig
}

// Fail makes the next request fail with status and message, in the form a
// workflow's errors take.
func (f *Teams) Fail(status int, message string) {
	f.Answer(func(w http.ResponseWriter, _ *http.Request) { refuse(w, status, "FakeRefusal", message) })
}

// Throttle makes the next request answer 429 with Retry-After, as a
// throttled workflow does.
func (f *Teams) Throttle(seconds int) {
	f.Answer(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", strconv.Itoa(seconds))
		refuse(w, http.StatusTooManyRequests, "WorkflowRequestsThrottled", "Rate limit is exceeded.")
	})
}

// Cards returns the cards accepted so far, oldest first.
func (f *Teams) Cards() []Card {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Card(nil), f.cards...)
}

func (f *Teams) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("sig") != f.sig {
		refuse(w, http.StatusUnauthorized, "DirectApiAuthorizationRequired", "The request must be authenticated only by Shared Access scheme.")
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(body) > MaxPayload {
		refuse(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The message is too large.")
		return
	}
	card, reason := parse(body)
	if reason != "" {
		refuse(w, http.StatusBadRequest, "InvalidRequestContent", reason)
		return
	}
	f.mu.Lock()
	f.cards = append(f.cards, card)
	f.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// element is a card element as the fake reads it.
type element struct {
	Type         string    `json:"type"`
	Text         string    `json:"text"`
	Weight       string    `json:"weight"`
	Inlines      []element `json:"inlines"`
	SelectAction *struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"selectAction"`
}

// parse reads a message with one Adaptive Card, or says what is wrong.
func parse(body []byte) (Card, string) {
	var msg struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type    string    `json:"type"`
				Version string    `json:"version"`
				Body    []element `json:"body"`
				Actions []struct {
					Type string `json:"type"`
					URL  string `json:"url"`
				} `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.Type != "message" || len(msg.Attachments) != 1 {
		return Card{}, "the body must be a message with one attachment"
	}
	att := msg.Attachments[0]
	if att.ContentType != "application/vnd.microsoft.card.adaptive" || att.Content.Type != "AdaptiveCard" || att.Content.Version == "" {
		return Card{}, "the attachment must be an Adaptive Card with a version"
	}
	c := Card{Body: body}
	for _, e := range att.Content.Body {
		switch e.Type {
		case "TextBlock":
			c.Texts = append(c.Texts, Text{Element: e.Type, Text: e.Text, Weight: e.Weight})
		case "RichTextBlock":
			for _, in := range e.Inlines {
				if in.Type != "TextRun" {
					return Card{}, "a RichTextBlock holds TextRuns only"
				}
				t := Text{Element: in.Type, Text: in.Text, Weight: in.Weight}
				if in.SelectAction != nil {
					if in.SelectAction.Type != "Action.OpenUrl" {
						return Card{}, "unsupported selectAction"
					}
					t.Link = in.SelectAction.URL
				}
				c.Texts = append(c.Texts, t)
			}
		default:
			return Card{}, "unsupported element " + strconv.Quote(e.Type)
		}
	}
	for _, a := range att.Content.Actions {
		if a.Type != "Action.OpenUrl" {
			return Card{}, "unsupported action"
		}
		c.Buttons = append(c.Buttons, a.URL)
	}
	return c, ""
}

func refuse(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}
