//! `byokit`: prices, costs and (to come) keys and usage from the command line.

fn main() -> std::process::ExitCode {
    byokit_daemon::cli::main()
}
