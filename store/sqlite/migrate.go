package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/wirewatch/wirewatch/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change; after it, PRAGMA user_version is Version.
type migration = store.Migration

// loadMigrations reads the migrations in fsys and checks that they are
// numbered 1, 2, 3, … without gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	return store.LoadMigrations(fsys, "migrations/*.sql")
}

// migrate brings the schema up to the newest embedded migration. Each
// migration runs in its own write transaction together with the user_version
// it leads to, so a failed one leaves the database at the previous version.
// A database written by a newer wirewatch is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, m, len(ms)); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// applyMigration applies m unless the database is already at or past it. The
// version is read inside the (immediate) transaction, so two processes opening
// one new file do not both apply it.
func applyMigration(ctx context.Context, db *sql.DB, m migration, newest int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > newest {
		return fmt.Errorf("database schema version %d is newer than this wirewatch knows (%d)", v, newest)
	}
	if v >= m.Version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	// PRAGMA takes no bound parameters; Version is an int from the file name.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.Version)); err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	return tx.Commit()
}
