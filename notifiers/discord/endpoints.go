package discord

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// discordgo computes its Endpoint* variables once, at init, from
// "https://discord.com/". They are process-wide, so pointing the library at
// another base (a proxy, a test fake) means reassigning every variable derived
// from it, consistently, in one place: here.

// endpointsMu serialises SetAPIBase and New's check of the current base. It
// cannot stop discordgo from reading the variables while they change: change
// them before any session sends.
var endpointsMu sync.Mutex

// defaultAPI is discordgo's own REST root, captured before anyone changed it.
var defaultAPI = discordgo.EndpointAPI

// apiVersionRE matches the "api/vN/" tail of an API URL.
var apiVersionRE = regexp.MustCompile(`^(.*/)?api/v([0-9]+)/?$`)

// endpoints is the whole group of base-derived discordgo variables.
type endpoints struct {
	version                                                string
	discord, api, guilds, channels, users                  string
	gateway, gatewayBot, webhooks, stickers, stageInstance string
	skus, voice, voiceRegions, stickerPacks, guildCreate   string
	applications, oauth2, oauth2Applications               string
}

// apiBase is a parsed api_url: the root discordgo calls EndpointDiscord and,
// when the URL names one, the API version.
type apiBase struct {
	root    string // "https://discord.com/", always ending in "/"
	version string // "10" from ".../api/v10/"; empty: keep discordgo's
}

// parseAPIBase accepts either a root ("https://discord.com",
// "http://127.0.0.1:PORT/") or a versioned API URL
// ("https://discord.com/api/v10/", with or without the final slash).
func parseAPIBase(raw string) (apiBase, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return apiBase{}, errors.New("api_url is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return apiBase{}, fmt.Errorf("api_url %q: scheme must be http or https", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return apiBase{}, fmt.Errorf("api_url %q: want scheme://host[/path], without credentials, query or fragment", raw)
	}
	path := u.EscapedPath()
	var version string
	if m := apiVersionRE.FindStringSubmatch(path); m != nil {
		path, version = m[1], m[2]
	} else if rest, ok := strings.CutSuffix(strings.TrimSuffix(path, "/"), "/api"); ok {
		path = rest
	}
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return apiBase{root: u.Scheme + "://" + u.Host + path, version: version}, nil
}

// derive computes the group the way discordgo's endpoints.go does at init.
func (b apiBase) derive() endpoints {
	v := b.version
	if v == "" {
		v = discordgo.APIVersion
	}
	var e endpoints
	e.version = v
	e.discord = b.root
	e.api = e.discord + "api/v" + v + "/"
	e.guilds = e.api + "guilds/"
	e.channels = e.api + "channels/"
	e.users = e.api + "users/"
	e.gateway = e.api + "gateway"
	e.gatewayBot = e.gateway + "/bot"
	e.webhooks = e.api + "webhooks/"
	e.stickers = e.api + "stickers/"
	e.stageInstance = e.api + "stage-instances"
	e.skus = e.api + "skus"
	e.voice = e.api + "/voice/"
	e.voiceRegions = e.voice + "regions"
	e.stickerPacks = e.api + "/sticker-packs"
	e.guildCreate = e.api + "guilds"
	e.applications = e.api + "applications"
	e.oauth2 = e.api + "oauth2/"
	e.oauth2Applications = e.oauth2 + "applications"
	return e
}

// current reads the group as discordgo holds it now.
func current() endpoints {
	return endpoints{
		version:            discordgo.APIVersion,
		discord:            discordgo.EndpointDiscord,
		api:                discordgo.EndpointAPI,
		guilds:             discordgo.EndpointGuilds,
		channels:           discordgo.EndpointChannels,
		users:              discordgo.EndpointUsers,
		gateway:            discordgo.EndpointGateway,
		gatewayBot:         discordgo.EndpointGatewayBot,
		webhooks:           discordgo.EndpointWebhooks,
		stickers:           discordgo.EndpointStickers,
		stageInstance:      discordgo.EndpointStageInstances,
		skus:               discordgo.EndpointSKUs,
		voice:              discordgo.EndpointVoice,
		voiceRegions:       discordgo.EndpointVoiceRegions,
		stickerPacks:       discordgo.EndpointNitroStickersPacks,
		guildCreate:        discordgo.EndpointGuildCreate,
		applications:       discordgo.EndpointApplications,
		oauth2:             discordgo.EndpointOAuth2,
		oauth2Applications: discordgo.EndpointOAuth2Applications,
	}
}

// apply writes the group into discordgo. The function-valued endpoints
// (EndpointChannelMessages, EndpointInteractionResponse, …) read these
// variables when called, so they follow.
func (e endpoints) apply() {
	discordgo.APIVersion = e.version
	discordgo.EndpointDiscord = e.discord
	discordgo.EndpointAPI = e.api
	discordgo.EndpointGuilds = e.guilds
	discordgo.EndpointChannels = e.channels
	discordgo.EndpointUsers = e.users
	discordgo.EndpointGateway = e.gateway
	discordgo.EndpointGatewayBot = e.gatewayBot
	discordgo.EndpointWebhooks = e.webhooks
	discordgo.EndpointStickers = e.stickers
	discordgo.EndpointStageInstances = e.stageInstance
	discordgo.EndpointSKUs = e.skus
	discordgo.EndpointVoice = e.voice
	discordgo.EndpointVoiceRegions = e.voiceRegions
	discordgo.EndpointNitroStickersPacks = e.stickerPacks
	discordgo.EndpointGuildCreate = e.guildCreate
	discordgo.EndpointApplications = e.applications
	discordgo.EndpointOAuth2 = e.oauth2
	discordgo.EndpointOAuth2Applications = e.oauth2Applications
	discordgo.EndpointOauth2 = e.oauth2
	discordgo.EndpointOauth2Applications = e.oauth2Applications
}

// SetAPIBase points discordgo's REST and gateway-discovery endpoints at base
// and returns a function that puts back what was there before. base is either
// a root ("http://127.0.0.1:PORT", the form a test fake's Base returns) or an
// API URL with a version ("https://discord.com/api/v10/"), which also sets
// discordgo.APIVersion. The endpoints are process-wide: call it before any
// session sends, and in tests restore with t.Cleanup and run no parallel tests
// against different bases.
func SetAPIBase(base string) (restore func(), err error) {
	b, err := parseAPIBase(base)
	if err != nil {
		return nil, err
	}
	endpointsMu.Lock()
	defer endpointsMu.Unlock()
	saved := current()
	b.derive().apply()
	return func() {
		endpointsMu.Lock()
		defer endpointsMu.Unlock()
		saved.apply()
	}, nil
}

// useAPIBase makes a notifier's api_url effective. The endpoints are shared by
// every session in the process, so it refuses a base that differs from one
// already in force, rather than silently sending one notifier's messages to
// another's API.
func useAPIBase(raw string) error {
	b, err := parseAPIBase(raw)
	if err != nil {
		return err
	}
	want := b.derive()
	endpointsMu.Lock()
	defer endpointsMu.Unlock()
	switch discordgo.EndpointAPI {
	case want.api:
		return nil
	case defaultAPI:
		want.apply()
		return nil
	default:
		return fmt.Errorf("api_url %q conflicts with %q already in use: discordgo's endpoints are shared by the whole process", raw, discordgo.EndpointAPI)
	}
}
