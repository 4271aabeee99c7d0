//! What changed in one table between two of its versions, read at the cost
//! of the change: the fragment lists of both versions say which fragments
//! are new, which gained deletions and which went away; only those rows are
//! read (new fragments scanned, newly deleted rows taken by address from
//! the older version). A change that rewrote data in place (compaction, a
//! column rewrite, an overwrite) or is larger than the caller's bound has
//! no delta: the caller builds its view from scratch instead.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use futures::TryStreamExt;
use lance::Dataset;
use lance::dataset::fragment::FileFragment;
use lance_table::format::Fragment;

use crate::error::{Error, Result};

/// The rows one version range removed and added, each with the columns asked
/// for. An updated row is both: its old version removed, its new one added.
/// Columns are found by name (`column_by_name`).
pub struct TableDelta {
    pub removed: Vec<RecordBatch>,
    pub added: Vec<RecordBatch>,
}

fn live_rows(f: &Fragment) -> Option<usize> {
    let deleted = match &f.deletion_file {
        Some(d) => d.num_deleted_rows?,
        None => 0,
    };
    Some(f.physical_rows?.saturating_sub(deleted))
}

/// The change from `old` to `new` (two versions of one table, `old` the
/// earlier), reading `removed_cols` of the rows removed and `added_cols` of
/// those added; `None` when it cannot be read as a delta or would touch
/// more than `max_rows` rows.
pub async fn between(old: &Dataset, new: &Dataset, removed_cols: &[&str], added_cols: &[&str], max_rows: usize, key: &str) -> Result<Option<TableDelta>> {
    let lance_err = |e: lance::Error| Error::lance(key, e);
    // Rows are taken by address below, which is what a row id is only
    // without stable row ids (omnigraph's tables do not use them).
    if new.version().version < old.version().version || old.manifest.uses_stable_row_ids() {
        return Ok(None);
    }
    let before: HashMap<u64, &Fragment> = old.manifest.fragments.iter().map(|f| (f.id, f)).collect();
    let mut added_frags = Vec::new();
    let mut changed = Vec::new();
    let mut budget = 0usize;
    for f in new.manifest.fragments.iter() {
        match before.get(&f.id) {
            None => {
                budget += live_rows(f).unwrap_or(usize::MAX / 2);
                added_frags.push(f.clone());
            }
            Some(b) if b.files != f.files || b.physical_rows != f.physical_rows => return Ok(None),
            Some(b) if b.deletion_file != f.deletion_file => changed.push(((*b).clone(), f.clone())),
            Some(_) => {}
        }
    }
    let after: std::collections::HashSet<u64> = new.manifest.fragments.iter().map(|f| f.id).collect();
    let gone: Vec<Fragment> = old.manifest.fragments.iter().filter(|f| !after.contains(&f.id)).cloned().collect();
    budget += gone.iter().map(|f| live_rows(f).unwrap_or(usize::MAX / 2)).sum::<usize>();
    if budget > max_rows {
        return Ok(None);
    }

    // Rows newly deleted in fragments both versions hold, by address.
    let mut addresses = Vec::new();
    for (b, f) in &changed {
        let was = FileFragment::new(std::sync::Arc::new(old.clone()), b.clone()).get_deletion_vector().await.map_err(lance_err)?;
        let now = FileFragment::new(std::sync::Arc::new(new.clone()), f.clone()).get_deletion_vector().await.map_err(lance_err)?;
        let Some(now) = now else { return Ok(None) };
        if let Some(was) = &was
            && was.iter().any(|i| !now.contains(i))
        {
            // Rows came back: not a change this reader follows.
            return Ok(None);
        }
        for i in now.to_sorted_iter() {
            if was.as_ref().is_none_or(|w| !w.contains(i)) {
                addresses.push((f.id << 32) | i as u64);
            }
        }
        if budget + addresses.len() > max_rows {
            return Ok(None);
        }
    }

    let mut removed = Vec::new();
    if !addresses.is_empty() {
        let projection = old.schema().project(removed_cols).map_err(lance_err)?;
        removed.push(old.take_rows(&addresses, projection).await.map_err(lance_err)?);
    }
    if !gone.is_empty() {
        removed.extend(scan(old, gone, removed_cols, key).await?);
    }
    let added = if added_frags.is_empty() { Vec::new() } else { scan(new, added_frags, added_cols, key).await? };
    Ok(Some(TableDelta { removed, added }))
}

async fn scan(ds: &Dataset, fragments: Vec<Fragment>, cols: &[&str], key: &str) -> Result<Vec<RecordBatch>> {
    let lance_err = |e: lance::Error| Error::lance(key, e);
    let mut sc = ds.scan();
    sc.with_fragments(fragments);
    sc.project(cols).map_err(lance_err)?;
    sc.try_into_stream().await.map_err(lance_err)?.try_collect().await.map_err(lance_err)
}
