//! The schema version and its migrations.

use super::Db;
use super::StoreError;

/// The schema this Leadline writes. Bump it with a migration whenever a tree's layout, a
/// key encoding or an index changes meaning.
pub const CURRENT_SCHEMA: u32 = 1;

/// One step from `from` to `from + 1`. It runs in the daemon before anything else touches
/// the store, and the version is bumped only after it succeeded.
pub struct Migration {
    pub from: u32,
    pub describe: &'static str,
    pub run: fn(&Db) -> Result<(), StoreError>,
}

/// The migrations of this release, oldest first. Schema 1 is the first; nothing to migrate yet.
pub const MIGRATIONS: &[Migration] = &[];

/// Brings the store to `target`, running each migration in order.
pub(super) fn migrate(db: &Db, found: u32, target: u32, migrations: &[Migration]) -> Result<(), StoreError> {
    if found > target {
        return Err(StoreError::NewerSchema { found, supported: target });
    }
    for version in found..target {
        let step = migrations.iter().find(|m| m.from == version).ok_or_else(|| StoreError::Migration {
            from: version,
            message: format!("no migration from schema {version} is known to this Leadline"),
        })?;
        tracing::info!(from = version, what = step.describe, "migrating the store");
        (step.run)(db).map_err(|e| StoreError::Migration { from: version, message: e.to_string() })?;
        db.set_schema_version(version + 1)?;
    }
    Ok(())
}
