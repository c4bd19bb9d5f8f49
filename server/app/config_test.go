package app

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", env: nil, check: func(t *testing.T, c Config) {
			if c.Addr != "127.0.0.1:8080" || c.DataDir != "./.baton" || c.AccessTTL != 15*time.Minute || c.Demo || c.DatabaseURL != "" {
				t.Errorf("defaults wrong: %+v", c)
			}
		}},
		{name: "admin emails normalised", env: map[string]string{"BATON_ADMIN_EMAILS": " Ann@Example.com, ,bo@x.io "}, check: func(t *testing.T, c Config) {
			if strings.Join(c.AdminEmails, "|") != "ann@example.com|bo@x.io" {
				t.Errorf("got %v", c.AdminEmails)
			}
		}},
		{name: "read replica", env: map[string]string{"DATABASE_URL": "postgres://db/baton", "BATON_READ_DATABASE_URL": " postgres://replica/baton "}, check: func(t *testing.T, c Config) {
			if c.ReadURL != "postgres://replica/baton" {
				t.Errorf("read URL %q", c.ReadURL)
			}
		}},
		{name: "read replica without a primary", env: map[string]string{"BATON_READ_DATABASE_URL": "postgres://replica/baton"}, wantErr: "set DATABASE_URL too"},
		{name: "read replica not a URL", env: map[string]string{"DATABASE_URL": "postgres://db/baton", "BATON_READ_DATABASE_URL": "postgres://replica:99999999/baton"}, wantErr: "BATON_READ_DATABASE_URL is not a valid"},
		{name: "direct URL defaults to DATABASE_URL", env: map[string]string{"DATABASE_URL": "postgres://db/baton"}, check: func(t *testing.T, c Config) {
			if c.DirectURL != "postgres://db/baton" || c.Pooled() {
				t.Errorf("direct URL %q, pooled %v", c.DirectURL, c.Pooled())
			}
		}},
		{name: "direct URL behind a pooler", env: map[string]string{"DATABASE_URL": "postgres://pgbouncer:6432/baton", "BATON_DIRECT_DATABASE_URL": " postgres://db/baton "}, check: func(t *testing.T, c Config) {
			if c.DirectURL != "postgres://db/baton" || !c.Pooled() {
				t.Errorf("direct URL %q, pooled %v", c.DirectURL, c.Pooled())
			}
		}},
		{name: "direct URL without DATABASE_URL", env: map[string]string{"BATON_DIRECT_DATABASE_URL": "postgres://db/baton"}, wantErr: "set DATABASE_URL too"},
		{name: "direct URL not a URL", env: map[string]string{"DATABASE_URL": "postgres://pgbouncer:6432/baton", "BATON_DIRECT_DATABASE_URL": "postgres://db:99999999/baton"}, wantErr: "BATON_DIRECT_DATABASE_URL is not a valid"},
		{name: "pooler with named prepared statements", env: map[string]string{"DATABASE_URL": "postgres://pgbouncer:6432/baton?default_query_exec_mode=cache_statement", "BATON_DIRECT_DATABASE_URL": "postgres://db/baton"}, wantErr: "cache_statement breaks"},
		{name: "pooler with exec mode", env: map[string]string{"DATABASE_URL": "postgres://pgbouncer:6432/baton?default_query_exec_mode=exec", "BATON_DIRECT_DATABASE_URL": "postgres://db/baton"}, check: func(t *testing.T, c Config) {
			if !c.Pooled() {
				t.Error("not pooled")
			}
		}},
		{name: "demo on", env: map[string]string{"BATON_DEMO": "1"}, check: func(t *testing.T, c Config) {
			if !c.Demo {
				t.Error("demo off")
			}
		}},
		{name: "ttl", env: map[string]string{"BATON_ACCESS_TTL": "5m"}, check: func(t *testing.T, c Config) {
			if c.AccessTTL != 5*time.Minute {
				t.Errorf("ttl %v", c.AccessTTL)
			}
		}},
		{name: "trusted proxies", env: map[string]string{"BATON_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7"}, check: func(t *testing.T, c Config) {
			if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].Bits() != 32 {
				t.Errorf("got %v", c.TrustedProxies)
			}
		}},
		{name: "public url defaults to the listen address", env: map[string]string{"BATON_ADDR": "127.0.0.1:9090"}, check: func(t *testing.T, c Config) {
			if c.PublicURL != "http://127.0.0.1:9090" {
				t.Errorf("public url %q", c.PublicURL)
			}
		}},
		{name: "public url", env: map[string]string{"BATON_PUBLIC_URL": "https://baton.example.com/"}, check: func(t *testing.T, c Config) {
			if c.PublicURL != "https://baton.example.com" {
				t.Errorf("public url %q", c.PublicURL)
			}
		}},
		{name: "bad public url", env: map[string]string{"BATON_PUBLIC_URL": "javascript:alert(1)"}, wantErr: "BATON_PUBLIC_URL"},
		{name: "bad addr", env: map[string]string{"BATON_ADDR": "8080"}, wantErr: "BATON_ADDR"},
		{name: "scim token too short", env: map[string]string{"BATON_SCIM_TOKEN": "secret"}, wantErr: "BATON_SCIM_TOKEN"},
		{name: "scim token", env: map[string]string{"BATON_SCIM_TOKEN": " 0123456789abcdef0123456789abcdef "}, check: func(t *testing.T, c Config) {
			if c.SCIMToken != "0123456789abcdef0123456789abcdef" {
				t.Fatalf("scim token %q", c.SCIMToken)
			}
		}},
		{name: "xapi off by default", env: nil, check: func(t *testing.T, c Config) {
			if c.XAPI.Enabled() {
				t.Fatalf("xapi on without an endpoint: %+v", c.XAPI)
			}
		}},
		{name: "xapi", env: map[string]string{"BATON_XAPI_ENDPOINT": " http://lrs.example/xAPI/ ", "BATON_XAPI_USERNAME": "baton",
			"BATON_XAPI_PASSWORD": "pw", "BATON_XAPI_MBOX": "1"}, check: func(t *testing.T, c Config) {
			if !c.XAPI.Enabled() || c.XAPI.Endpoint != "http://lrs.example/xAPI" || c.XAPI.Username != "baton" || !c.XAPI.Mbox {
				t.Fatalf("xapi %+v", c.XAPI)
			}
		}},
		{name: "xapi endpoint not a URL", env: map[string]string{"BATON_XAPI_ENDPOINT": "lrs:8080"}, wantErr: "BATON_XAPI_ENDPOINT"},
		{name: "xapi user without password", env: map[string]string{"BATON_XAPI_ENDPOINT": "https://lrs.example/xAPI", "BATON_XAPI_USERNAME": "baton"}, wantErr: "BATON_XAPI_PASSWORD"},
		{name: "xapi mbox not a flag", env: map[string]string{"BATON_XAPI_MBOX": "maybe"}, wantErr: "BATON_XAPI_MBOX"},
		{name: "oidc", env: map[string]string{"BATON_OIDC_ISSUER": "https://acme.okta.com/", "BATON_OIDC_CLIENT_ID": "baton", "BATON_OIDC_CLIENT_SECRET": "s", "BATON_OIDC_NAME": "Acme Okta"},
			check: func(t *testing.T, c Config) {
				if c.OIDC.Issuer != "https://acme.okta.com" || c.OIDC.ClientID != "baton" || c.OIDC.Name != "Acme Okta" {
					t.Fatalf("oidc %+v", c.OIDC)
				}
			}},
		{name: "oidc issuer over plain http", env: map[string]string{"BATON_OIDC_ISSUER": "http://idp.example", "BATON_OIDC_CLIENT_ID": "b", "BATON_OIDC_CLIENT_SECRET": "s"}, wantErr: "BATON_OIDC_ISSUER"},
		{name: "oidc issuer without a client", env: map[string]string{"BATON_OIDC_ISSUER": "https://idp.example"}, wantErr: "BATON_OIDC_CLIENT_ID"},
		{name: "bad ttl", env: map[string]string{"BATON_ACCESS_TTL": "forever"}, wantErr: "BATON_ACCESS_TTL"},
		{name: "ttl too short", env: map[string]string{"BATON_ACCESS_TTL": "1s"}, wantErr: "BATON_ACCESS_TTL"},
		{name: "bad demo", env: map[string]string{"BATON_DEMO": "yes please"}, wantErr: "BATON_DEMO"},
		{name: "bad proxy", env: map[string]string{"BATON_TRUSTED_PROXIES": "the internet"}, wantErr: "BATON_TRUSTED_PROXIES"},
		{name: "pprof on loopback", env: map[string]string{"BATON_PPROF_ADDR": "127.0.0.1:6060"}, check: func(t *testing.T, c Config) {
			if c.PprofAddr != "127.0.0.1:6060" {
				t.Error(c.PprofAddr)
			}
		}},
		{name: "pprof not on loopback", env: map[string]string{"BATON_PPROF_ADDR": "0.0.0.0:6060"}, wantErr: "BATON_PPROF_ADDR"},
		{name: "bad reminder interval", env: map[string]string{"BATON_REMINDER_INTERVAL": "often"}, wantErr: "BATON_REMINDER_INTERVAL"},
		{name: "digest default", env: nil, check: func(t *testing.T, c Config) {
			if c.DigestAt.String() != "Mon 08:00" {
				t.Errorf("digest at %s", c.DigestAt)
			}
		}},
		{name: "digest at", env: map[string]string{"BATON_DIGEST_AT": "friday 17:30"}, check: func(t *testing.T, c Config) {
			if c.DigestAt.Weekday != time.Friday || c.DigestAt.Hour != 17 || c.DigestAt.Minute != 30 {
				t.Errorf("digest at %+v", c.DigestAt)
			}
		}},
		{name: "bad digest at", env: map[string]string{"BATON_DIGEST_AT": "Mon 8am"}, wantErr: "BATON_DIGEST_AT"},
		{name: "smtp without from", env: map[string]string{"BATON_SMTP_ADDR": "127.0.0.1:25"}, wantErr: "BATON_SMTP_FROM"},
		{name: "smtp port unknown", env: map[string]string{"BATON_SMTP_ADDR": "127.0.0.1:post", "BATON_SMTP_FROM": "baton@example.com"}, wantErr: "BATON_SMTP_ADDR"},
		{name: "smtp", env: map[string]string{"BATON_SMTP_ADDR": "mail.example.com:587", "BATON_SMTP_FROM": "Baton <baton@example.com>", "BATON_SMTP_USER": "baton"}, check: func(t *testing.T, c Config) {
			if !c.SMTP.Enabled() || c.SMTP.From != "Baton <baton@example.com>" || c.SMTP.Username != "baton" {
				t.Errorf("%+v", c.SMTP)
			}
		}},
		{name: "public url", env: map[string]string{"BATON_PUBLIC_URL": "HTTPS://Baton.Example.com/"}, check: func(t *testing.T, c Config) {
			if c.PublicURL != "HTTPS://Baton.Example.com" || c.PublicOrigin() != "https://baton.example.com" {
				t.Errorf("%q %q", c.PublicURL, c.PublicOrigin())
			}
		}},
		{name: "public url default", env: map[string]string{"BATON_ADDR": "0.0.0.0:9000"}, check: func(t *testing.T, c Config) {
			if c.PublicOrigin() != "http://0.0.0.0:9000" {
				t.Error(c.PublicOrigin())
			}
		}},
		{name: "bad public url", env: map[string]string{"BATON_PUBLIC_URL": "baton.example.com"}, wantErr: "BATON_PUBLIC_URL"},
		{name: "metrics token", env: map[string]string{"BATON_METRICS_TOKEN": " 0123456789abcdef0123 "}, check: func(t *testing.T, c Config) {
			if c.MetricsToken != "0123456789abcdef0123" {
				t.Error(c.MetricsToken)
			}
		}},
		{name: "short metrics token", env: map[string]string{"BATON_METRICS_TOKEN": "secret"}, wantErr: "BATON_METRICS_TOKEN"},
		{name: "bad log format", env: map[string]string{"BATON_LOG_FORMAT": "xml"}, wantErr: "BATON_LOG_FORMAT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

// A Config built in code with only DATABASE_URL is not pooled.
func TestConfigPooledNeedsADirectURL(t *testing.T) {
	if (Config{DatabaseURL: "postgres://db/baton"}).Pooled() {
		t.Fatal("a config without BATON_DIRECT_DATABASE_URL counts as pooled")
	}
}
