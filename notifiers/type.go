package notifiers

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/wirewatch/wirewatch/config"
)

// DefaultTimeout bounds one exchange with a receiver when Env gives no
// HTTP client.
const DefaultTimeout = 30 * time.Second

// Type is one type of notifier as the registry lists it: how the
// configuration reads its [[notifiers]] entries and what its targets look
// like (config.NotifierType), how fast it may send to one target, and how it
// is built. A notifier package defines its Type with Define.
type Type struct {
	config.NotifierType
	// Pace is the type's default pace of messages to one target, kept by the
	// Paced stage the registry wraps around every notifier; an entry's pace
	// key overrides it.
	Pace config.Pace
	// Build makes the notifier of an entry named name, whose settings are
	// what NotifierType.Settings returned, filled in and checked.
	Build func(name string, settings any, env Env) (Notifier, error)
	// Sample is the keys of one valid [[notifiers]] entry of the type
	// besides name and type, one TOML line each. The registry's tests parse
	// and build every type from its Sample, so they need no edit when a type
	// is added.
	Sample []string
}

// Env is what building a notifier may draw on besides its settings.
type Env struct {
	// Logger is narrowed to the notifier already; nil discards.
	Logger *slog.Logger
	// Stdout is where the console notifier writes.
	Stdout io.Writer
	// HTTPClient sends the notifier's HTTP requests; nil: a client of the
	// notifier's own that gives up after DefaultTimeout.
	HTTPClient *http.Client
	// Now is the clock that Retry-After dates are read against; nil: time.Now.
	Now func() time.Time
}

// Log returns the logger, or one that discards when there is none.
func (e Env) Log() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// Client returns the HTTP client, or a new one with DefaultTimeout.
func (e Env) Client() *http.Client {
	if e.HTTPClient == nil {
		return &http.Client{Timeout: DefaultTimeout}
	}
	return e.HTTPClient
}

// Clock returns the clock, or time.Now.
func (e Env) Clock() func() time.Time {
	if e.Now == nil {
		return time.Now
	}
	return e.Now
}

// Spec describes a notifier type whose settings are an S, for Define.
type Spec[S any] struct {
	// Name is the value of type = "…".
	Name string
	// Channel says whether and how targets name a channel.
	Channel config.Channel
	// Pace is the default pace per target (the zero Pace is off).
	Pace config.Pace
	// Build makes the notifier from its checked settings.
	Build func(name string, settings *S, env Env) (Notifier, error)
	// Sample is the keys of one valid entry, one TOML line each (see
	// Type.Sample).
	Sample []string
}

// Define returns the Type of spec: its settings are a new S, read from the
// entry's keys by their toml tags (see config.NotifierType).
func Define[S any](spec Spec[S]) Type {
	return Type{
		NotifierType: config.NotifierType{
			Name:     spec.Name,
			Settings: func() any { return new(S) },
			Channel:  spec.Channel,
		},
		Pace:   spec.Pace,
		Sample: spec.Sample,
		Build: func(name string, settings any, env Env) (Notifier, error) {
			s, ok := settings.(*S)
			if !ok || s == nil {
				return nil, fmt.Errorf("%s %q: settings are a %T, not a %T", spec.Name, name, settings, s)
			}
			return spec.Build(name, s, env)
		},
	}
}
