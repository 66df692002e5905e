//! `byokd`: the local byokit daemon. Keeps API keys encrypted, usage in SQLite, and answers
//! JSON-RPC on a local socket. Runs in the foreground; `byokit` starts it in the background.

use std::path::PathBuf;
use std::process::ExitCode;

use byokit_daemon::paths::{default_data_dir, default_socket};
use byokit_daemon::server::{run, Options};
use clap::Parser;

/// byokd: the local byokit daemon.
#[derive(Parser)]
#[command(name = "byokd", version, about)]
struct Args {
    /// Where the database and the master key live (default: $BYOKIT_DATA_DIR or ~/.local/share/byokit).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The socket to listen on (default: $BYOKIT_SOCKET or $XDG_RUNTIME_DIR/byokit/byokd.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Also serve an OpenAI-compatible HTTP endpoint on this loopback address (e.g. 127.0.0.1:8787).
    #[arg(long, value_name = "ADDR")]
    http: Option<std::net::SocketAddr>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    let socket = args.socket.unwrap_or_else(|| default_socket(&data_dir));
    if let Some(addr) = args.http.filter(|a| !a.ip().is_loopback()) {
        eprintln!("byokd: --http {addr}: only a loopback address (127.0.0.1, ::1) is allowed");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("byokd: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(Options {
        data_dir,
        socket,
        http: args.http,
    })) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("byokd: {e}");
            ExitCode::FAILURE
        }
    }
}
