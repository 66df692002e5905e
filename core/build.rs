//! Embeds the default catalog as JSON: people edit `catalog/default.toml` (with its comments on
//! sources); builds read the same data as compact JSON, so a build without TOML support (the
//! WebAssembly package) needs no TOML parser for it.

use std::path::Path;

#[path = "src/catalog/toml_json.rs"]
mod toml_json;

fn main() {
    println!("cargo::rerun-if-changed=catalog/default.toml");
    println!("cargo::rerun-if-changed=src/catalog/toml_json.rs");
    let text =
        std::fs::read_to_string("catalog/default.toml").expect("catalog/default.toml is readable");
    let table: toml::Table = toml::from_str(&text)
        .unwrap_or_else(|e| panic!("catalog/default.toml is not valid TOML: {e}"));
    let json = serde_json::to_string(&toml_json::toml_to_json(toml::Value::Table(table)))
        .expect("JSON values serialize");
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("default-catalog.json"), json)
        .expect("OUT_DIR is writable");
}
