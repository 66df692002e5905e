//! What the OS asks of byokd from outside: to stop (Ctrl-C; SIGTERM on Unix, a service
//! manager's stop or `kill`; the console closing or the system shutting down on Windows), or,
//! on Unix, to read its catalog files again (SIGHUP; on Windows, `catalog.reload` does it).

/// What was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Stop the way `daemon.stop` does, usage records of answered calls committed first.
    Stop,
    /// Read the catalog files again, as `catalog.reload` does.
    #[cfg_attr(windows, allow(dead_code))] // Windows has no SIGHUP
    Reload,
}

/// The signals byokd listens to, set up before it serves.
pub(crate) struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
    #[cfg(windows)]
    close: tokio::signal::windows::CtrlClose,
    #[cfg(windows)]
    shutdown: tokio::signal::windows::CtrlShutdown,
}

impl Signals {
    /// Starts listening (inside the tokio runtime).
    pub(crate) fn new() -> Result<Signals, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                terminate: signal(SignalKind::terminate())
                    .map_err(|e| format!("cannot handle SIGTERM: {e}"))?,
                hangup: signal(SignalKind::hangup())
                    .map_err(|e| format!("cannot handle SIGHUP: {e}"))?,
            })
        }
        #[cfg(windows)]
        {
            use tokio::signal::windows::{ctrl_close, ctrl_shutdown};
            Ok(Signals {
                close: ctrl_close().map_err(|e| format!("cannot handle CTRL_CLOSE: {e}"))?,
                shutdown: ctrl_shutdown()
                    .map_err(|e| format!("cannot handle CTRL_SHUTDOWN: {e}"))?,
            })
        }
    }

    /// The next signal.
    pub(crate) async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => Signal::Stop,
            _ = self.terminate.recv() => Signal::Stop,
            _ = self.hangup.recv() => Signal::Reload,
        }
        #[cfg(windows)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => Signal::Stop,
            _ = self.close.recv() => Signal::Stop,
            _ = self.shutdown.recv() => Signal::Stop,
        }
    }
}
