//! Catalog files merged over the built-in catalog: read by the CLI (`--catalog`) and by byokd
//! (`--catalog`, again on `catalog.reload` and SIGHUP) with the same rules.

use std::path::PathBuf;

use byokit_core::protocol::CatalogSource;
use byokit_core::{Catalog, CatalogFile, CatalogFormat};

/// Reads the files, in order.
pub fn read(paths: &[PathBuf]) -> Result<Vec<CatalogSource>, String> {
    paths
        .iter()
        .map(|path| {
            let name = path.display().to_string();
            std::fs::read_to_string(path)
                .map(|text| CatalogSource {
                    name: name.clone(),
                    text,
                })
                .map_err(|e| format!("cannot read catalog {name}: {e}"))
        })
        .collect()
}

/// The built-in catalog with the files merged over it, in order; each file's format is
/// `format`, else detected from its content. `today` dates prices that a file leaves undated.
pub fn build(
    sources: &[CatalogSource],
    format: Option<CatalogFormat>,
    today: time::Date,
) -> Result<Catalog, String> {
    let mut catalog = Catalog::embedded().clone();
    for source in sources {
        let format = format.unwrap_or_else(|| CatalogFormat::detect(&source.text));
        let file = CatalogFile::parse(&source.text, &source.name, format, today)
            .map_err(|e| e.to_string())?;
        catalog = catalog.merged(file).map_err(|e| e.to_string())?;
    }
    Ok(catalog)
}
