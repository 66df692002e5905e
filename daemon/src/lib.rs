//! byokit's command-line tool and, to come, the local daemon `byokd` and the IPC client they
//! share. Today the CLI answers from the price catalog alone and needs no daemon.

pub mod cli;
