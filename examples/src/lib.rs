//! Runnable examples of byokit: `cargo run -p byokit-examples --example <name>`.
