// Package notifiertest holds what every notifier's tests share: a scripted
// HTTP receiver, assertions (no secret in errors, JSON compared by meaning) and
// builders for stories and alerts. It is imported by tests only and never
// reaches the internet.
package notifiertest
