//! byokd's IPC front end: JSON-RPC 2.0, one message per line, over the local socket (a Unix
//! socket in a private directory, or a named pipe on Windows: `byokit_client::local_socket`).
//! Many clients at once; a bad message gets an error reply and the connection goes on. It
//! translates lines into [`Service`] calls and their results and errors into replies, and
//! nothing else.

mod dispatch;
mod framing;

use std::sync::Arc;

use byokit_client::local_socket::{self, TokioStream};
use serde_json::value::RawValue;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufReader};

use crate::service::Service;
use framing::{read_line, reply_bytes, Line};

/// Requests one connection may have in progress at once.
const IN_FLIGHT_PER_CONNECTION: usize = 256;

/// Serves one connection. Requests are handled concurrently (a client may send many before
/// reading replies, which come back as they finish, matched by `id`), so that concurrent
/// writes share transactions.
///
/// The reader passes each line to one task that runs the connection's requests and writes
/// their replies: replies that are ready together (a commit answers many records) go out in
/// one write.
pub(crate) async fn serve(service: Arc<Service>, stream: TokioStream) {
    let (read, write) = local_socket::split(stream);
    let (lines, inbox) = tokio::sync::mpsc::channel::<Line>(IN_FLIGHT_PER_CONNECTION);
    let requests = tokio::spawn(run_requests(service, inbox, write));
    let mut reader = BufReader::new(read);
    let mut buf = Vec::new();
    loop {
        let line = match read_line(&mut reader, &mut buf).await {
            Ok(Line::End) | Err(_) => break,
            Ok(Line::Message(line)) if line.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(line) => line,
        };
        if lines.send(line).await.is_err() {
            break;
        }
    }
    drop(lines);
    let _ = requests.await;
}

/// Runs one connection's requests and writes their replies and notifications, until the reader
/// and every request are done.
async fn run_requests(
    service: Arc<Service>,
    mut inbox: tokio::sync::mpsc::Receiver<Line>,
    mut write: impl AsyncWrite + Unpin,
) {
    use futures_util::{FutureExt, StreamExt};
    let (notes, mut notes_inbox) = tokio::sync::mpsc::channel::<Vec<u8>>(IN_FLIGHT_PER_CONNECTION);
    let mut pending = futures_util::stream::FuturesUnordered::new();
    let mut out = Vec::new();
    let (mut reading, mut connected) = (true, true);
    while reading || !pending.is_empty() {
        tokio::select! {
            line = inbox.recv(), if reading && pending.len() < IN_FLIGHT_PER_CONNECTION => {
                match line {
                    Some(line) => {
                        let (service, notes) = (Arc::clone(&service), notes.clone());
                        pending.push(async move {
                            match line {
                                Line::Message(line) => {
                                    dispatch::handle(&service, &line, &notes).await
                                }
                                Line::TooLong => Some(reply_bytes(
                                    RawValue::NULL,
                                    &Err(dispatch::too_large()),
                                )),
                                Line::End => None, // the reader stops instead of sending it
                            }
                        }.boxed());
                    }
                    None => reading = false,
                }
            }
            Some(reply) = pending.next() => {
                // Every reply that is ready now goes out in the same write, each after the
                // notifications sent before it (a streaming call sends all of its own first).
                let mut ready = Some(reply);
                while let Some(reply) = ready {
                    while let Ok(note) = notes_inbox.try_recv() {
                        out.extend(note);
                    }
                    out.extend(reply.unwrap_or_default());
                    ready = pending.next().now_or_never().flatten();
                }
            }
            Some(note) = notes_inbox.recv() => out.extend(note),
        }
        // Once the client is gone, its requests still finish (a chat's usage is recorded) and
        // their replies are dropped; a streaming chat finds no one to stream to and stops.
        if connected && !out.is_empty() && write.write_all(&out).await.is_err() {
            connected = false;
            notes_inbox.close();
        }
        out.clear();
    }
}
