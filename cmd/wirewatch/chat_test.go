package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/notifiers/slack/slackfake"
)

// mutableFeed serves an RSS feed whose items a test adds while the bot runs.
type mutableFeed struct {
	mu      sync.Mutex
	items   []string
	fetched chan struct{} // one value per request served
}

func (f *mutableFeed) add(guid, title string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, fmt.Sprintf(`<item><guid>%s</guid><title>%s</title><link>https://news.example/%s</link><pubDate>%s</pubDate></item>`,
		guid, title, guid, time.Now().UTC().Format(time.RFC1123Z)))
}

func (f *mutableFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>live</title>%s</channel></rss>`, strings.Join(f.items, ""))
	select {
	case f.fetched <- struct{}{}:
	default:
	}
}

// waitFetches waits until the feed has been served n more times.
func (f *mutableFeed) waitFetches(ctx context.Context, n int) error {
	for range n {
		select {
		case <-f.fetched:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// TestSlackWatchAddAppliesToTheNextStory runs the whole program: a rule made
// with /watch add over Socket Mode is stored and matches the very next story,
// whose alert reaches the channel the rule was made in.
func TestSlackWatchAddAppliesToTheNextStory(t *testing.T) {
	fake := slackfake.New(t)
	fake.SetChannels(slackfake.Channel{ID: "C0POLICY", Name: "ai-policy"})
	feed := &mutableFeed{fetched: make(chan struct{}, 16)}
	feed.add("old", "Nvidia China backlog story")
	feedSrv := httptest.NewServer(feed)
	defer feedSrv.Close()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "wirewatch.toml")
	cfg := fmt.Sprintf(`
[storage]
path = %q
[http]
listen = ""
[[sources]]
name = "Live"
url = "%s/feed"
interval = "1s"
[[notifiers]]
name = "team-slack"
type = "slack"
token = "xoxb-test"
app_token = "xapp-test"
api_url = %q
admins = ["UADMIN"]
[[notifiers]]
name = "console"
type = "console"
[[rules]]
name = "placeholder"
query = "zzzunmatched"
notify = ["console"]
`, filepath.Join(dir, "wirewatch.db"), feedSrv.URL, fake.URL())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- runBot(ctx, runFlags{config: cfgPath, logLevel: "warn", logFormat: "text"}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("runBot: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("the bot did not stop within 15 s of cancel")
		}
	}()

	wait, cancelWait := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelWait()
	ack, err := fake.SendSlashCommand(wait, map[string]string{
		"command": "/watch", "text": "add nvidia AND (china OR beijing)",
		"user_id": "U1", "user_name": "ana", "channel_id": "C0POLICY", "channel_name": "ai-policy",
		"team_id": "T1", "response_url": fake.ResponseURL(),
	})
	if err != nil {
		t.Fatalf("slash command: %v", err)
	}
	var reply struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(ack, &reply); err != nil {
		t.Fatalf("ack payload %s: %v", ack, err)
	}
	if !strings.Contains(reply.Text, "added rule w2") || reply.ResponseType != "in_channel" {
		t.Fatalf("ack = %s, want the new rule's id, in the channel", ack)
	}

	// The first poll (backlog) is stored once a second poll has been served.
	if err := feed.waitFetches(wait, 2); err != nil {
		t.Fatalf("the source was not polled twice: %v", err)
	}
	feed.add("new", "Nvidia faces Beijing curbs")
	msgs, err := fake.WaitMessages(wait, 1)
	if err != nil {
		t.Fatalf("no alert reached Slack: %v (log: %s)", err, stderr.String())
	}
	if msgs[0].Channel != "C0POLICY" || !strings.Contains(string(msgs[0].Blocks), "https://news.example/new|*Nvidia* faces *Beijing* curbs") {
		t.Errorf("alert = channel %q blocks %s", msgs[0].Channel, msgs[0].Blocks)
	}
	if strings.Contains(string(msgs[0].Blocks), "backlog") {
		t.Errorf("the backlog story was alerted")
	}
}
