package commands_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot"
	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/store/storetest"
	"github.com/wirewatch/wirewatch/story"
)

// now is the test clock: the day after the newest corpus story.
var now = time.Date(2022, 9, 24, 12, 0, 0, 0, time.UTC)

// env is the command core over a real SQLite store, the real rules engine
// and rule set.
type env struct {
	st   store.Store
	rs   *bot.RuleSet
	svc  *service.Service
	core *commands.Core
}

type envOptions struct {
	allowPrivate bool
	budget       time.Duration // lookup budget (0: service.DefaultBudget)
	core         []commands.Option
	// postgres, when set, is the URL of a PostgreSQL database to use
	// instead of an SQLite file in dir.
	postgres string
	// perUser and perChannel cap chat rules (0: no cap)
	perUser, perChannel int
}

func newEnv(t testing.TB, eo envOptions) *env {
	t.Helper()
	if eo.budget == 0 {
		// The race detector and a busy machine must not make a test's
		// lookup stop early.
		eo.budget = time.Hour
	}
	e, closeEnv := openEnv(t, t.TempDir(), eo)
	t.Cleanup(closeEnv)
	return e
}

// openEnv opens an env on a database in dir; closeEnv releases it.
func openEnv(t testing.TB, dir string, eo envOptions) (e *env, closeEnv func()) {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	if eo.postgres != "" {
		st, err = postgres.Open(ctx, eo.postgres, postgres.WithNormalizer(rules.Normalize))
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(dir, "w.db"), sqlite.WithClock(func() time.Time { return now }))
	}
	if err != nil {
		t.Fatal(err)
	}
	f := sources.NewFetcher(sources.Options{Timeout: 5 * time.Second})
	e = &env{st: st, rs: bot.NewRuleSet(st, slog.New(slog.DiscardHandler))}
	e.svc = service.New(service.Options{
		Store: st, Rules: e.rs, Fetcher: f,
		Now: func() time.Time { return now }, AllowPrivateAddresses: eo.allowPrivate,
		Budget: eo.budget, MaxChatRulesPerUser: eo.perUser, MaxChatRulesPerChannel: eo.perChannel,
	})
	e.core = commands.New(e.svc, eo.core...)
	return e, func() {
		f.Close()
		st.Close()
	}
}

// req is a command from alice (U1) in #ai-policy (C1) through team-slack.
func req(command, sub, args string) commands.Request {
	return commands.Request{
		Platform: "slack", Notifier: "team-slack", Command: command, Sub: sub, Args: args,
		User: "U1", UserName: "alice", Channel: "C1", ChannelName: "ai-policy",
	}
}

func (e *env) do(t testing.TB, r commands.Request) commands.Reply {
	t.Helper()
	return e.core.Handle(context.Background(), r)
}

// ingest stores stories, recording the matches of the live rules as the bot does.
func (e *env) ingest(t testing.TB, stories ...story.Story) {
	t.Helper()
	plan := storetest.Plan(func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		m := e.rs.NewMatcher()
		var out []store.Match
		for i := range fresh {
			for _, x := range m.Match(&fresh[i]) {
				out = append(out, store.Match{StoryID: fresh[i].ID, Rule: x.Rule, Terms: slices.Clone(x.Terms)})
			}
		}
		return out, nil
	})
	for i := 0; i < len(stories); i += 1000 {
		if _, err := e.st.Ingest(context.Background(), 0, stories[i:min(i+1000, len(stories))], plan); err != nil {
			t.Fatal(err)
		}
	}
}

func wantReply(t *testing.T, got commands.Reply, ephemeral, isErr bool, text string) {
	t.Helper()
	if got.Ephemeral != ephemeral || got.Error != isErr || !strings.Contains(got.Text, text) {
		t.Fatalf("reply %+v\nwant ephemeral %v, error %v, text with %q", got, ephemeral, isErr, text)
	}
}

func TestBadQueryShowsColumnAndCaret(t *testing.T) {
	e := newEnv(t, envOptions{})
	want := "That query has a problem at column 8: unbalanced parenthesis opened at column 8\n  nvidia (china\n         ^"
	for _, r := range []commands.Request{
		req("news", "", "nvidia (china"),
		req("news", "", "since:7d nvidia (china"),
		req("watch", "add", "nvidia (china digest:daily"),
		req("watch", "test", "nvidia (china"),
	} {
		got := e.do(t, r)
		if !got.Ephemeral || !got.Error || got.Text != want {
			t.Errorf("%s %s %q:\n%+v\nwant text\n%s", r.Command, r.Sub, r.Args, got, want)
		}
	}
	// Wide characters take two columns, so the caret stands under "AND".
	got := e.do(t, req("news", "", "英伟达 AND"))
	if !strings.HasPrefix(got.Text, "That query has a problem at column 5: ") || !strings.HasSuffix(got.Text, "\n  英伟达 AND\n         ^") {
		t.Errorf("wide characters:\n%s", got.Text)
	}
	long := strings.Repeat("word ", 30) + "(open"
	got = e.do(t, req("news", "", long))
	lines := strings.Split(got.Text, "\n")
	runeIndex := func(s, sub string) int { return len([]rune(s[:strings.Index(s, sub)])) }
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "  …") || len([]rune(lines[1])) != 2+1+60 ||
		runeIndex(lines[1], "(open") != runeIndex(lines[2], "^") {
		t.Errorf("long query:\n%s", got.Text)
	}
	if rs, _ := e.svc.Rules(context.Background()); len(rs) != 0 {
		t.Fatal("a bad query made a rule")
	}
}

func TestNewsShowsNewestMatchesToTheCallerOnly(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.ingest(t,
		story.Story{ID: "1", Source: "Reuters", Title: "Nvidia halts H20 sales to China", URL: "https://r.example/1", Published: now.Add(-3 * time.Hour)},
		story.Story{ID: "2", Source: "AP", Title: "China and Nvidia: the export fight", URL: "https://a.example/2", Published: now.Add(-time.Hour)},
		story.Story{ID: "3", Source: "AP", Title: "Nvidia earnings beat", URL: "https://a.example/3", Published: now.Add(-2 * time.Hour)},
		story.Story{ID: "4", Source: "AP", Title: "Old: Nvidia in China", URL: "https://a.example/4", Published: now.AddDate(0, 0, -40)},
	)
	got := e.do(t, req("news", "", "nvidia china"))
	wantReply(t, got, true, false, "2 stories of the last 30 days match nvidia china:")
	want := []commands.Item{
		{Title: "China and Nvidia: the export fight", URL: "https://a.example/2", Detail: "AP · 2022-09-24 11:00 UTC · terms: nvidia, china"},
		{Title: "Nvidia halts H20 sales to China", URL: "https://r.example/1", Detail: "Reuters · 2022-09-24 09:00 UTC · terms: nvidia, china"},
	}
	if !slices.Equal(got.Items, want) {
		t.Fatalf("items %+v\nwant %+v", got.Items, want)
	}
	got = e.do(t, req("news", "", "since:60d nvidia china"))
	wantReply(t, got, true, false, "3 stories of the last 60 days match nvidia china:")
	got = e.do(t, req("news", "", "nvidia china since:2h"))
	wantReply(t, got, true, false, "1 story of the last 2 hours matches nvidia china:")
	got = e.do(t, req("news", "", "walrus"))
	wantReply(t, got, true, false, "No stored story of the last 30 days matches walrus.")
	wantReply(t, e.do(t, req("news", "", "since:7x nvidia")), true, true, "Since: want a number of days (7d)")
	wantReply(t, e.do(t, req("news", "", "nvidia digest:daily")), true, true, "/news does not take the digest: option")
	wantReply(t, e.do(t, req("news", "", "")), true, true, "Give a query to look for.")
	wantReply(t, e.do(t, req("news", "", "help")), true, false, "/news QUERY [since:7d]")
	// An adapter that splits the first word off as Sub loses nothing.
	got = e.do(t, req("news", "nvidia", "china"))
	wantReply(t, got, true, false, "2 stories of the last 30 days match nvidia china:")
}

func TestWatchAddMakesARuleForThisChannelInForceAtOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	got := e.do(t, req("watch", "add", "nvidia AND (china OR beijing) -\"stock price\""))
	wantReply(t, got, false, false, "alice added rule w1: nvidia AND (china OR beijing) AND NOT \"stock price\"\nNew stories that match are posted here as they arrive.")
	r, err := e.svc.FindRule(context.Background(), "w1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Query != `nvidia AND (china OR beijing) -"stock price"` || !slices.Equal(r.Notify, []string{"team-slack:C1"}) ||
		r.Origin != store.OriginChat || r.Author != "U1" || r.Channel != "team-slack:C1" || r.Digest != "" {
		t.Fatalf("stored %+v", r)
	}
	ms := e.rs.NewMatcher().Match(&story.Story{ID: "x", Title: "Nvidia opens Beijing office"})
	if len(ms) != 1 || ms[0].Rule != "w1" || !slices.Equal(ms[0].Terms, []string{"nvidia", "beijing"}) {
		t.Fatalf("live engine matched %+v, want w1", ms)
	}

	for _, tt := range []struct{ args, query, digest, says string }{
		{"tsmc digest:daily", "tsmc", "daily", "gathered in a daily digest"},
		{`digest:"0 9 * * 1-5" title:(h20 OR h200) site:reuters.com`, "title:(h20 OR h200) site:reuters.com", "0 9 * * 1-5", "on the schedule 0 9 * * 1-5"},
		{"digest:Weekly “export controls”", `"export controls"`, "weekly", "a weekly digest"},
	} {
		got := e.do(t, req("watch", "add", tt.args))
		wantReply(t, got, false, false, tt.says)
		name := strings.Fields(got.Text)[3]
		name = strings.TrimSuffix(name, ":")
		r, err := e.svc.FindRule(context.Background(), name)
		if err != nil || r.Query != tt.query || r.Digest != tt.digest {
			t.Errorf("%q: stored %+v, %v; want query %q digest %q", tt.args, r, err, tt.query, tt.digest)
		}
	}
	wantReply(t, e.do(t, req("watch", "add", "tsmc digest:dayly")), true, true, `That digest cannot be used: unknown digest "dayly"`)
	wantReply(t, e.do(t, req("watch", "add", "tsmc digest:")), true, true, "Digest: needs a value")
	wantReply(t, e.do(t, req("watch", "add", `tsmc digest:"0 9`)), true, true, "Digest: the quote opened")
	wantReply(t, e.do(t, req("watch", "add", "tsmc since:7d")), true, true, "/watch add does not take the since: option")
	wantReply(t, e.do(t, req("watch", "add", "")), true, true, "Give the query to watch for.")
	wantReply(t, e.do(t, req("watch", "add", "-china")), true, true, "would match every story")
}

func TestWatchAddCanBeForAdminsOnly(t *testing.T) {
	e := newEnv(t, envOptions{core: []commands.Option{commands.WithAdminOnlyRules(true)}})
	wantReply(t, e.do(t, req("watch", "add", "tsmc")), true, true, "Only admins can add rules here.")
	admin := req("watch", "add", "tsmc")
	admin.Admin = true
	wantReply(t, e.do(t, admin), false, false, "added rule w1")
}

func TestWatchListShowsThisChannelsRules(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	err := e.st.SyncConfigRules(ctx, []store.Rule{
		{Name: "nvidia-china", Query: "nvidia china", Notify: []string{"console", "team-slack:#ai-policy"}, Digest: "daily"},
		{Name: "elsewhere", Query: "tsmc", Notify: []string{"team-slack:#other"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rs.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	e.do(t, req("watch", "add", "walrus"))
	other := req("watch", "add", "seal")
	other.Channel = "C2"
	e.do(t, other)
	e.do(t, req("watch", "add", "otter"))
	e.do(t, req("watch", "pause", "w5"))
	e.ingest(t,
		story.Story{ID: "a", Title: "walrus", Published: now}, story.Story{ID: "b", Title: "walrus and seal", Published: now},
		story.Story{ID: "c", Title: "nvidia china", Published: now},
	)
	got := e.do(t, req("watch", "list", ""))
	wantReply(t, got, true, false, "3 rules send to this channel:")
	want := []commands.Item{
		{Title: "nvidia-china: nvidia china", Detail: "digest daily · 1 match in 7 days · (config file, read-only)"},
		{Title: "w3: walrus", Detail: "instant · 2 matches in 7 days · by U1"},
		{Title: "w5: otter", Detail: "paused · 0 matches in 7 days · by U1"},
	}
	if !slices.Equal(got.Items, want) {
		t.Fatalf("items\n%+v\nwant\n%+v", got.Items, want)
	}
	empty := req("watch", "list", "")
	empty.Channel, empty.ChannelName = "C9", ""
	wantReply(t, e.do(t, empty), true, false, "No rules send to this channel yet.")
}

func TestWatchRemovePauseResumeNeedAuthorOrAdmin(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	if err := e.st.SyncConfigRules(ctx, []store.Rule{{Name: "cfg", Query: "nvidia", Notify: []string{"team-slack:C1"}}}); err != nil {
		t.Fatal(err)
	}
	e.do(t, req("watch", "add", "walrus")) // w2, by alice
	bob := func(sub, args string) commands.Request {
		r := req("watch", sub, args)
		r.User, r.UserName = "U2", "bob"
		return r
	}
	admin := func(sub, args string) commands.Request {
		r := bob(sub, args)
		r.Admin = true
		return r
	}
	for _, sub := range []string{"remove", "pause", "resume"} {
		wantReply(t, e.do(t, bob(sub, "w2")), true, true, "Only the rule's author or an admin can "+sub+" rule w2.")
		wantReply(t, e.do(t, admin(sub, "cfg")), true, true, "Rule cfg is defined in the configuration file; change it there.")
		wantReply(t, e.do(t, req("watch", sub, "w99")), true, true, "There is no rule w99.")
		wantReply(t, e.do(t, req("watch", sub, "")), true, true, "Which rule?")
	}
	wantReply(t, e.do(t, req("watch", "resume", "w2")), true, false, "Rule w2 is already active.")
	wantReply(t, e.do(t, req("watch", "pause", "w2")), false, false, "alice paused rule w2: walrus")
	if r, _ := e.rs.Rule("w2"); !r.Paused {
		t.Fatal("live rule not paused")
	}
	wantReply(t, e.do(t, req("watch", "pause", "w2")), true, false, "Rule w2 is already paused.")
	wantReply(t, e.do(t, admin("resume", "2")), false, false, "bob resumed rule w2: walrus")
	wantReply(t, e.do(t, req("watch", "remove", "W2")), false, false, "alice removed rule w2: walrus")
	if _, ok := e.rs.Rule("w2"); ok {
		t.Fatal("removed rule still in force")
	}
	got := e.do(t, req("watch", "add", "otter"))
	name := strings.TrimSuffix(strings.Fields(got.Text)[3], ":")
	wantReply(t, e.do(t, admin("remove", name)), false, false, "bob removed rule "+name+": otter")
	if _, ok := e.rs.Rule("cfg"); !ok {
		t.Fatal("config rule gone")
	}
}

func TestWatchTestCountsTheLastSevenDays(t *testing.T) {
	e := newEnv(t, envOptions{})
	var stories []story.Story
	for i := range 12 {
		stories = append(stories, story.Story{ID: fmt.Sprint(i), Source: "AP", Title: fmt.Sprintf("walrus %d", i),
			URL: fmt.Sprintf("https://a.example/%d", i), Published: now.Add(-time.Duration(i) * 24 * time.Hour)})
	}
	e.ingest(t, stories...)
	got := e.do(t, req("watch", "test", "Walrus"))
	wantReply(t, got, true, false, "8 stories of the last 7 days match walrus. The newest:") // 0 to 7 days old
	if len(got.Items) != 5 || got.Items[0].Title != "walrus 0" || got.Items[4].Title != "walrus 4" {
		t.Fatalf("items %+v", got.Items)
	}
	wantReply(t, e.do(t, req("watch", "test", "walrus since:30d")), true, false, "12 stories of the last 30 days match walrus.")
	wantReply(t, e.do(t, req("watch", "test", "seal")), true, false, "No stored story of the last 7 days matches seal.")
	wantReply(t, e.do(t, req("watch", "test", "")), true, true, "Give the query to test.")
	if rs, _ := e.svc.Rules(context.Background()); len(rs) != 0 {
		t.Fatal("/watch test made a rule")
	}
}

func TestSourcesList(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	wantReply(t, e.do(t, req("sources", "list", "")), true, false, "There are no sources yet.")
	srcs, err := e.st.SyncConfigSources(ctx, []store.Source{
		{Name: "Reuters", URL: "https://example.com/r.xml"},
		{Name: "AP", URL: "https://example.com/ap.xml?key=SECRET"},
		{Name: "Broken", URL: "https://example.com/b.xml"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]int64{}
	for _, s := range srcs {
		id[s.Name] = s.ID
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.st.SaveSourceState(ctx, id["Reuters"], store.SourceState{LastFetch: now.Add(-5 * time.Minute), LastSuccess: now.Add(-5 * time.Minute)}, store.Lease{}))
	must(e.st.SaveSourceState(ctx, id["Broken"], store.SourceState{LastFetch: now.Add(-3 * time.Hour), LastSuccess: now.Add(-72 * time.Hour),
		LastError: `fetch "Broken": status 503`, Failures: 4}, store.Lease{}))
	if _, err := e.st.Ingest(ctx, id["Reuters"], []story.Story{{ID: "a", Title: "x"}, {ID: "b", Title: "y"}}, nil); err != nil {
		t.Fatal(err)
	}
	got := e.do(t, req("sources", "list", ""))
	wantReply(t, got, true, false, "3 sources, 1 failing:")
	want := []commands.Item{
		{Title: "Broken", Detail: `last fetch 3h ago · failing: 4 failures in a row, last success 3d ago · last error: fetch "Broken": status 503 · 0 stories in 7 days · config file`},
		{Title: "AP", Detail: "not fetched yet · 0 stories in 7 days · config file"},
		{Title: "Reuters", Detail: "last fetch 5m ago · 2 stories in 7 days · config file"},
	}
	if !slices.Equal(got.Items, want) {
		t.Fatalf("items\n%+v\nwant\n%+v", got.Items, want)
	}
	if strings.Contains(fmt.Sprint(got), "SECRET") {
		t.Fatal("a source URL leaked into the reply")
	}
}

// rssServer serves one small RSS feed titled "Walrus Watch" on 127.0.0.1.
func rssServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Walrus Watch</title>`+
			`<item><guid>1</guid><title>Walrus spotted</title><link>https://example.com/1</link></item></channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSourcesAddIsForAdminsAndChecksTheFeed(t *testing.T) {
	e := newEnv(t, envOptions{allowPrivate: true})
	srv := rssServer(t)
	wantReply(t, e.do(t, req("sources", "add", srv.URL+"/feed.xml")), true, true, "Only admins can add sources.")
	admin := func(args string) commands.Request {
		r := req("sources", "add", args)
		r.Admin = true
		return r
	}
	wantReply(t, e.do(t, admin(srv.URL+"/feed.xml")), true, false, "Added source Walrus Watch (id 1).")
	wantReply(t, e.do(t, admin(`<`+srv.URL+`/feed.xml?b=1> name:"Walrus Two"`)), true, false, "Added source Walrus Two (id 2).")
	src, err := e.svc.FindSource(context.Background(), "Walrus Two")
	if err != nil || src.Origin != store.OriginChat || src.AddedBy != "U1" || src.URL != srv.URL+"/feed.xml?b=1" {
		t.Fatalf("stored %+v, %v", src, err)
	}
	due, err := e.st.ClaimSources(context.Background(), store.SourceClaim{Owner: "test", TTL: time.Minute, Limit: 10})
	if err != nil || len(due) != 2 || due[0].ID != 1 || due[1].ID != 2 {
		t.Fatalf("sources due for their first fetch: %+v, %v; want 1 and 2", due, err)
	}
	wantReply(t, e.do(t, admin(srv.URL+"/feed.xml")), true, true, `Cannot add that source: the source "Walrus Watch" already fetches that URL`)
	wantReply(t, e.do(t, admin(srv.URL+"/missing.xml")), true, true, `Cannot add that source: the test fetch failed: the server has no page at that address (HTTP 404 Not Found)`)
	wantReply(t, e.do(t, admin("")), true, true, "Give one feed URL")
	wantReply(t, e.do(t, admin("two words")), true, true, "Give one feed URL")
}

func TestSourcesAddRefusesPrivateAddresses(t *testing.T) {
	e := newEnv(t, envOptions{})
	srv := rssServer(t)
	r := req("sources", "add", srv.URL+"/feed.xml")
	r.Admin = true
	wantReply(t, e.do(t, r), true, true, "Cannot add that source: refused: 127.0.0.1 is a loopback address (sources added at run time must be on public addresses)")
	r.Args = "http://169.254.169.254/latest/"
	wantReply(t, e.do(t, r), true, true, "refused: 169.254.169.254 is a link-local address")
}

func TestSourcesRemove(t *testing.T) {
	e := newEnv(t, envOptions{allowPrivate: true})
	srv := rssServer(t)
	ctx := context.Background()
	if _, err := e.st.SyncConfigSources(ctx, []store.Source{{Name: "Reuters", URL: "https://example.com/r.xml"}}); err != nil {
		t.Fatal(err)
	}
	add := req("sources", "add", srv.URL+"/feed.xml")
	add.Admin = true
	e.do(t, add)
	wantReply(t, e.do(t, req("sources", "remove", "Walrus Watch")), true, true, "Only admins can remove sources.")
	admin := func(args string) commands.Request {
		r := req("sources", "remove", args)
		r.Admin = true
		return r
	}
	wantReply(t, e.do(t, admin("reuters")), true, true, "Source Reuters is defined in the configuration file; change it there.")
	wantReply(t, e.do(t, admin("nope")), true, true, "There is no source nope.")
	wantReply(t, e.do(t, admin(`"walrus watch"`)), true, false, "Removed source Walrus Watch.")
	if _, err := e.svc.FindSource(ctx, "Walrus Watch"); err == nil {
		t.Fatal("source still there")
	}
}

func TestHelpAndUnknownCommands(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tt := range []struct {
		command, sub string
		isErr        bool
		says         string
	}{
		{"watch", "help", false, "/watch add QUERY"},
		{"watch", "", false, "/watch list"},
		{"watch", "frobnicate", true, "I don't know that command."},
		{"sources", "help", false, "/sources add URL"},
		{"sources", "zap", true, "/sources remove NAME"},
		{"help", "", false, "/news QUERY"},
		{"bogus", "", true, "/watch test QUERY"},
	} {
		got := e.do(t, req(tt.command, tt.sub, ""))
		wantReply(t, got, true, tt.isErr, tt.says)
		if !strings.Contains(got.Text, "NEAR/3") {
			t.Errorf("%s %s: no query help", tt.command, tt.sub)
		}
	}
}

func TestSubcommandMayComeInArgs(t *testing.T) {
	e := newEnv(t, envOptions{})
	wantReply(t, e.do(t, req("watch", "", "add walrus")), false, false, "alice added rule w1: walrus")
	wantReply(t, e.do(t, req("/Watch", "", "  LIST")), true, false, "1 rule sends to this channel:")
}

func TestComplete(t *testing.T) {
	e := newEnv(t, envOptions{allowPrivate: true})
	ctx := context.Background()
	if err := e.st.SyncConfigRules(ctx, []store.Rule{{Name: "cfg", Query: "nvidia", Notify: []string{"team-slack:#ai-policy"}}}); err != nil {
		t.Fatal(err)
	}
	long := "walrus " + strings.Repeat("seal ", 30)
	e.do(t, req("watch", "add", "walrus"))           // w2
	e.do(t, req("watch", "add", long))               // w3
	e.do(t, req("watch", "add", "Otter"))            // w4
	e.do(t, req("watch", "pause", "w4"))             // paused
	other := req("watch", "add", "walrus elsewhere") // w5, another channel
	other.Channel = "C2"
	e.do(t, other)
	for i := range 30 {
		e.do(t, req("watch", "add", fmt.Sprintf("bulk%d", i)))
	}

	names := func(cs []commands.Choice) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Value)
		}
		return out
	}
	got := e.core.Complete(ctx, req("watch", "remove", ""), "WAL")
	if !slices.Equal(names(got), []string{"w2", "w3"}) {
		t.Fatalf("remove WAL: %v", names(got))
	}
	if got[0].Name != "w2 — walrus" || len([]rune(got[1].Name)) != 100 || !strings.HasSuffix(got[1].Name, "…") {
		t.Fatalf("labels %q", got)
	}
	if got := e.core.Complete(ctx, req("watch", "pause", ""), "otter"); len(got) != 0 {
		t.Fatalf("pause offers a paused rule: %v", got)
	}
	if got := e.core.Complete(ctx, req("watch", "resume", ""), ""); !slices.Equal(names(got), []string{"w4"}) {
		t.Fatalf("resume: %v", names(got))
	}
	if got := e.core.Complete(ctx, req("watch", "remove", ""), "w3"); !slices.Equal(names(got), []string{"w3", "w30", "w31", "w32", "w33", "w34", "w35"}) {
		t.Fatalf("remove w3: %v", names(got))
	}
	if got := e.core.Complete(ctx, req("watch", "remove", ""), ""); len(got) != 25 {
		t.Fatalf("%d choices, want 25", len(got))
	}

	if _, err := e.st.SyncConfigSources(ctx, []store.Source{{Name: "Reuters", URL: "https://example.com/r.xml"}}); err != nil {
		t.Fatal(err)
	}
	srv := rssServer(t)
	add := req("sources", "add", srv.URL+"/feed.xml")
	add.Admin = true
	e.do(t, add)
	if got := e.core.Complete(ctx, req("sources", "remove", ""), ""); !slices.Equal(names(got), []string{"Walrus Watch"}) {
		t.Fatalf("sources remove: %v", got)
	}
	if got := e.core.Complete(ctx, req("sources", "remove", ""), "xyz"); len(got) != 0 {
		t.Fatalf("sources remove xyz: %v", got)
	}
	if got := e.core.Complete(ctx, req("news", "", ""), ""); got != nil {
		t.Fatalf("news: %v", got)
	}
}

// TestWatchAddIsCappedPerUserAndChannel: /watch add stops at the configured
// number of rules per person and per channel, with a message that says so
// (issue 12, item 5: 300 adds in 2.4 s all worked).
func TestWatchAddIsCappedPerUserAndChannel(t *testing.T) {
	e := newEnv(t, envOptions{perUser: 3, perChannel: 5})
	for i := range 3 {
		if r := e.do(t, req("watch", "add", fmt.Sprintf("walrus%d", i))); r.Error {
			t.Fatalf("add %d: %q", i, r.Text)
		}
	}
	r := e.do(t, req("watch", "add", "walrus9"))
	wantReply(t, r, true, true, "You have 3 rules, the most one person may make in chat; remove one with /watch remove first")
	bob := req("watch", "add", "seal")
	bob.User, bob.UserName = "U2", "bob"
	for i := range 2 {
		bob.Args = fmt.Sprintf("seal%d", i)
		if r := e.do(t, bob); r.Error {
			t.Fatalf("bob's add %d: %q", i, r.Text)
		}
	}
	bob.Args = "seal9"
	wantReply(t, e.do(t, bob), true, true, "This channel has 5 rules, the most one channel may have; remove one with /watch remove first")
	// Another channel is another count.
	bob.Channel = "C2"
	if r := e.do(t, bob); r.Error {
		t.Fatalf("bob in another channel: %q", r.Text)
	}
	rules, err := e.st.Rules(context.Background())
	if err != nil || len(rules) != 6 {
		t.Errorf("%d rules stored (%v), want 6", len(rules), err)
	}
}
