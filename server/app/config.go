package app

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/sealing"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/mail"
	"github.com/baton-course/baton/server/notify"
	"github.com/baton-course/baton/server/xapi"
)

// Config is everything Baton reads from its environment, validated once at
// start-up so a bad value fails fast with one clear line.
type Config struct {
	Addr        string // BATON_ADDR
	DatabaseURL string // DATABASE_URL; empty starts the embedded cluster
	ReadURL     string // BATON_READ_DATABASE_URL: a streaming replica for reads that may lag
	// DirectURL is the primary itself when DATABASE_URL is a pooler in
	// transaction mode (PgBouncer): LISTEN and the migrations' session
	// locks connect there. Equal to DatabaseURL when unset.
	DirectURL      string        // BATON_DIRECT_DATABASE_URL
	DataDir        string        // BATON_DATA_DIR
	AdminEmails    []string      // BATON_ADMIN_EMAILS, normalised
	AccessTTL      time.Duration // BATON_ACCESS_TTL
	Demo           bool          // BATON_DEMO=1
	TrustedProxies []netip.Prefix
	SecureCookies  bool   // BATON_SECURE_COOKIES=1 forces the Secure flag behind a TLS proxy
	LogFormat      string // BATON_LOG_FORMAT: text or json
	// ReminderInterval is how often due-soon and overdue reminders are produced.
	ReminderInterval time.Duration // BATON_REMINDER_INTERVAL
	// DigestAt is when in the week (UTC) managers' weekly digests go out;
	// the reminder job sends them on its first run after that moment.
	DigestAt notify.DigestSchedule // BATON_DIGEST_AT, e.g. "Mon 08:00"
	SMTP     mail.Config           // BATON_SMTP_*: email reminders when set
	// PublicURL is where people reach Baton, without a trailing slash: the
	// links in emails start with it, and browsers on its origin may call the
	// sign-in routes.
	PublicURL string // BATON_PUBLIC_URL; default http:// + BATON_ADDR
	// HashCost is argon2id's cost for new password hashes; zero is the
	// default. No variable sets it: only tests lower it, where hashing is
	// not what they measure.
	HashCost accounts.HashCost
	// PprofAddr serves net/http/pprof when set; it must be a loopback address.
	PprofAddr string // BATON_PPROF_ADDR
	// SecretKey seals the token signing secrets in PostgreSQL; recommended
	// in production (a database dump then cannot mint tokens).
	SecretKey string // BATON_SECRET_KEY
	// MetricsToken lets a scraper that is not on loopback read /metrics.
	MetricsToken string // BATON_METRICS_TOKEN
	// OIDC is the company's OpenID provider for single sign-on; its
	// Issuer empty: off.
	OIDC OIDCConfig
	// SCIMToken turns SCIM provisioning on at /scim/v2: the bearer token the
	// company's identity provider sends. It is admin-equivalent.
	SCIMToken string // BATON_SCIM_TOKEN
	// XAPI is the learning record store every learning event goes to as an
	// xAPI statement; off without an endpoint.
	XAPI xapi.Config // BATON_XAPI_ENDPOINT, _USERNAME, _PASSWORD, _MBOX
}

// Pooled reports whether DATABASE_URL is a pooler in front of the primary
// at DirectURL. (A Config built in code may leave DirectURL empty: not
// pooled.)
func (c Config) Pooled() bool { return c.DirectURL != "" && c.DirectURL != c.DatabaseURL }

// PublicOrigin is the scheme and host of PublicURL (RFC 6454), as a
// browser sends it in Origin.
func (c Config) PublicOrigin() string {
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// LoadConfig reads the configuration through getenv (os.Getenv in main).
func LoadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{
		Addr:        orDefault(getenv("BATON_ADDR"), "127.0.0.1:8080"),
		DatabaseURL: strings.TrimSpace(getenv("DATABASE_URL")),
		ReadURL:     strings.TrimSpace(getenv("BATON_READ_DATABASE_URL")),
		DataDir:     orDefault(getenv("BATON_DATA_DIR"), "./.baton"),
		LogFormat:   orDefault(getenv("BATON_LOG_FORMAT"), "text"),
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return cfg, fmt.Errorf("BATON_ADDR %q is not host:port: %v", cfg.Addr, err)
	}
	if cfg.DirectURL = strings.TrimSpace(getenv("BATON_DIRECT_DATABASE_URL")); cfg.DirectURL == "" {
		cfg.DirectURL = cfg.DatabaseURL
	} else {
		if cfg.DatabaseURL == "" {
			return cfg, fmt.Errorf("BATON_DIRECT_DATABASE_URL is the primary behind DATABASE_URL's pooler: set DATABASE_URL too (the embedded cluster has no pooler)")
		}
		// pgconn redacts the password in its parse errors.
		if _, err := pgx.ParseConfig(cfg.DirectURL); err != nil {
			return cfg, fmt.Errorf("BATON_DIRECT_DATABASE_URL is not a valid PostgreSQL URL: %w", err)
		}
		if cfg.Pooled() {
			if _, err := database.PooledQueryMode(cfg.DatabaseURL); err != nil {
				return cfg, err
			}
		}
	}
	if cfg.ReadURL != "" {
		if cfg.DatabaseURL == "" {
			return cfg, fmt.Errorf("BATON_READ_DATABASE_URL is a replica of DATABASE_URL's primary: set DATABASE_URL too (the embedded cluster has no replica)")
		}
		// pgconn redacts the password in its parse errors.
		if _, err := pgx.ParseConfig(cfg.ReadURL); err != nil {
			return cfg, fmt.Errorf("BATON_READ_DATABASE_URL is not a valid PostgreSQL URL: %w", err)
		}
	}
	ttl, err := time.ParseDuration(orDefault(getenv("BATON_ACCESS_TTL"), "15m"))
	if err != nil || ttl < 30*time.Second || ttl > 24*time.Hour {
		return cfg, fmt.Errorf("BATON_ACCESS_TTL %q must be a Go duration between 30s and 24h", getenv("BATON_ACCESS_TTL"))
	}
	cfg.AccessTTL = ttl
	if cfg.SecretKey = getenv("BATON_SECRET_KEY"); cfg.SecretKey != "" && len(cfg.SecretKey) < sealing.MinKeyLen {
		return cfg, sealing.ErrShortKey
	}
	for _, e := range strings.Split(getenv("BATON_ADMIN_EMAILS"), ",") {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			cfg.AdminEmails = append(cfg.AdminEmails, e)
		}
	}
	if cfg.Demo, err = flag("BATON_DEMO", getenv("BATON_DEMO")); err != nil {
		return cfg, err
	}
	if cfg.SecureCookies, err = flag("BATON_SECURE_COOKIES", getenv("BATON_SECURE_COOKIES")); err != nil {
		return cfg, err
	}
	for _, p := range strings.Split(getenv("BATON_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, addrErr := netip.ParseAddr(p)
			if addrErr != nil {
				return cfg, fmt.Errorf("BATON_TRUSTED_PROXIES: %q is neither an address nor a CIDR range", p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, prefix)
	}
	cfg.ReminderInterval, err = time.ParseDuration(orDefault(getenv("BATON_REMINDER_INTERVAL"), "5m"))
	if err != nil || cfg.ReminderInterval < time.Second {
		return cfg, fmt.Errorf("BATON_REMINDER_INTERVAL %q must be a Go duration of at least 1s", getenv("BATON_REMINDER_INTERVAL"))
	}
	if cfg.DigestAt, err = notify.ParseDigestAt(orDefault(getenv("BATON_DIGEST_AT"), notify.DefaultDigestAt)); err != nil {
		return cfg, fmt.Errorf("BATON_DIGEST_AT: %v", err)
	}
	cfg.SMTP = mail.Config{
		Addr: strings.TrimSpace(getenv("BATON_SMTP_ADDR")), From: strings.TrimSpace(getenv("BATON_SMTP_FROM")),
		Username: getenv("BATON_SMTP_USER"), Password: getenv("BATON_SMTP_PASSWORD"),
	}
	if cfg.SMTP.Addr != "" {
		if _, _, err := net.SplitHostPort(cfg.SMTP.Addr); err != nil {
			return cfg, fmt.Errorf("BATON_SMTP_ADDR %q is not host:port", cfg.SMTP.Addr)
		}
		if !strings.Contains(cfg.SMTP.From, "@") {
			return cfg, fmt.Errorf("BATON_SMTP_FROM must be an email address when BATON_SMTP_ADDR is set")
		}
		if _, err := mail.New(cfg.SMTP); err != nil {
			return cfg, fmt.Errorf("BATON_SMTP_ADDR or BATON_SMTP_FROM: %v", err)
		}
	}
	if cfg.PprofAddr = strings.TrimSpace(getenv("BATON_PPROF_ADDR")); cfg.PprofAddr != "" {
		host, _, err := net.SplitHostPort(cfg.PprofAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return cfg, fmt.Errorf("BATON_PPROF_ADDR %q must be a loopback host:port (profiles expose internals)", cfg.PprofAddr)
		}
	}
	cfg.PublicURL = strings.TrimRight(orDefault(getenv("BATON_PUBLIC_URL"), "http://"+cfg.Addr), "/")
	if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return cfg, fmt.Errorf("BATON_PUBLIC_URL %q must be an http:// or https:// address such as https://baton.example.com", getenv("BATON_PUBLIC_URL"))
	}
	// A short token could be guessed; 16 characters is far past that.
	if cfg.SCIMToken = strings.TrimSpace(getenv("BATON_SCIM_TOKEN")); cfg.SCIMToken != "" && len(cfg.SCIMToken) < 32 {
		return cfg, fmt.Errorf("BATON_SCIM_TOKEN must be at least 32 characters (for example: openssl rand -hex 32)")
	}
	if cfg.MetricsToken = strings.TrimSpace(getenv("BATON_METRICS_TOKEN")); cfg.MetricsToken != "" && len(cfg.MetricsToken) < 16 {
		return cfg, fmt.Errorf("BATON_METRICS_TOKEN must be at least 16 characters (for example: openssl rand -hex 32)")
	}
	if cfg.OIDC, err = loadOIDC(getenv); err != nil {
		return cfg, err
	}
	cfg.XAPI = xapi.Config{Endpoint: strings.TrimRight(strings.TrimSpace(getenv("BATON_XAPI_ENDPOINT")), "/"),
		Username: getenv("BATON_XAPI_USERNAME"), Password: getenv("BATON_XAPI_PASSWORD")}
	if cfg.XAPI.Mbox, err = flag("BATON_XAPI_MBOX", getenv("BATON_XAPI_MBOX")); err != nil {
		return cfg, err
	}
	if err := cfg.XAPI.Check(); err != nil {
		return cfg, err
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return cfg, fmt.Errorf("BATON_LOG_FORMAT %q must be text or json", cfg.LogFormat)
	}
	return cfg, nil
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

func flag(name, v string) (bool, error) {
	switch strings.TrimSpace(v) {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, fmt.Errorf("%s %q must be 1 or 0", name, v)
}

// OIDCConfig is BATON_OIDC_*: single sign-on through one OpenID provider.
type OIDCConfig struct {
	Issuer       string // BATON_OIDC_ISSUER; empty: single sign-on off
	ClientID     string // BATON_OIDC_CLIENT_ID
	ClientSecret string // BATON_OIDC_CLIENT_SECRET
	Name         string // BATON_OIDC_NAME: the provider's name on the sign-in button
}

// loadOIDC reads BATON_OIDC_*: with an issuer, the client id and secret
// are required (a confidential client, as the code exchange needs).
func loadOIDC(getenv func(string) string) (OIDCConfig, error) {
	c := OIDCConfig{
		Issuer:       strings.TrimRight(strings.TrimSpace(getenv("BATON_OIDC_ISSUER")), "/"),
		ClientID:     strings.TrimSpace(getenv("BATON_OIDC_CLIENT_ID")),
		ClientSecret: strings.TrimSpace(getenv("BATON_OIDC_CLIENT_SECRET")),
		Name:         strings.TrimSpace(getenv("BATON_OIDC_NAME")),
	}
	if c.Issuer == "" {
		return OIDCConfig{}, nil
	}
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) || u.Host == "" {
		return c, fmt.Errorf("BATON_OIDC_ISSUER %q must be an https:// address (http:// only on loopback, for testing)", c.Issuer)
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return c, fmt.Errorf("BATON_OIDC_ISSUER is set: BATON_OIDC_CLIENT_ID and BATON_OIDC_CLIENT_SECRET are required too")
	}
	return c, nil
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}
