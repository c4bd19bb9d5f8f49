package quizzes

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"gorm.io/gorm"
)

// Catalog holds the current scenarios and every older version an attempt
// may still be pinned to (loaded from PostgreSQL on first use).
type Catalog struct {
	db      *gorm.DB
	current map[string]*Scenario
	list    []*Scenario
	mu      sync.RWMutex
	pinned  map[string]*Scenario // by slug + "@" + version
}

// NewCatalog records the scenarios in PostgreSQL (each version once) and
// returns a catalog over them. Instances starting together take turns.
func NewCatalog(ctx context.Context, db *gorm.DB, list []*Scenario) (*Catalog, error) {
	c := &Catalog{db: db, current: map[string]*Scenario{}, list: list, pinned: map[string]*Scenario{}}
	for _, sc := range list {
		c.current[sc.Slug] = sc
		c.pinned[sc.Slug+"@"+sc.Version] = sc
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.content_sync'))").Error; err != nil {
			return err
		}
		slugs := make([]string, 0, len(list))
		for _, sc := range list {
			slugs = append(slugs, sc.Slug)
			if err := tx.Exec(`INSERT INTO scenario_versions (quiz_slug, version, module_slug, source) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, sc.Slug, sc.Version, sc.Module, sc.Source).Error; err != nil {
				return err
			}
			if err := tx.Exec(`INSERT INTO scenarios (slug, module_slug, title, current_version) VALUES (?, ?, ?, ?)
				ON CONFLICT (slug) DO UPDATE SET module_slug = EXCLUDED.module_slug, title = EXCLUDED.title,
				  current_version = EXCLUDED.current_version, retired_at = NULL, updated_at = now()
				WHERE (scenarios.module_slug, scenarios.title, scenarios.current_version) IS DISTINCT FROM
				      (EXCLUDED.module_slug, EXCLUDED.title, EXCLUDED.current_version) OR scenarios.retired_at IS NOT NULL`,
				sc.Slug, sc.Module, sc.Title, sc.Version).Error; err != nil {
				return err
			}
		}
		return tx.Exec(`UPDATE scenarios SET retired_at = now() WHERE retired_at IS NULL AND slug NOT IN ?`, slugs).Error
	})
	if err != nil {
		return nil, fmt.Errorf("sync scenarios: %w", err)
	}
	return c, nil
}

// Get returns the current version of a scenario.
func (c *Catalog) Get(slug string) (*Scenario, bool) {
	sc, ok := c.current[slug]
	return sc, ok
}

// All lists the current scenarios in load order.
func (c *Catalog) All() []*Scenario { return c.list }

// ForModule lists the scenarios of a module.
func (c *Catalog) ForModule(module string) []*Scenario {
	var out []*Scenario
	for _, sc := range c.list {
		if sc.Module == module {
			out = append(out, sc)
		}
	}
	return out
}

// ErrUnknownVersion means an attempt names a version nobody stored.
var ErrUnknownVersion = errors.New("unknown scenario version")

// Version returns the scenario as it was at version, parsing the stored
// source of an older version once and keeping it.
func (c *Catalog) Version(ctx context.Context, slug, version string) (*Scenario, error) {
	key := slug + "@" + version
	c.mu.RLock()
	sc, ok := c.pinned[key]
	c.mu.RUnlock()
	if ok {
		return sc, nil
	}
	var row struct{ Source []byte }
	err := c.db.WithContext(ctx).Raw(`SELECT source FROM scenario_versions WHERE quiz_slug = ? AND version = ?`, slug, version).Scan(&row).Error
	if err != nil {
		return nil, err
	}
	if row.Source == nil {
		return nil, ErrUnknownVersion
	}
	sc, err = ParseStored(slug+".yaml", row.Source)
	if err != nil {
		return nil, fmt.Errorf("stored version %s of %s no longer parses: %w", version, slug, err)
	}
	c.mu.Lock()
	c.pinned[key] = sc
	c.mu.Unlock()
	return sc, nil
}

// Pinned is the variant an attempt is pinned to, in its pinned version.
func (c *Catalog) Pinned(ctx context.Context, slug, version, variant string) (*Variant, error) {
	sc, err := c.Version(ctx, slug, version)
	if err != nil {
		return nil, err
	}
	v, ok := sc.Variant(variant)
	if !ok {
		return nil, fmt.Errorf("%w: %s@%s has no variant %q", ErrUnknownVersion, slug, version, variant)
	}
	return v, nil
}
