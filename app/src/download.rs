//! Long downloads (the queue's CSV export, the repair kits) streamed from
//! the database as they are written out: a task reads the rows and sends
//! them in chunks over a channel with room for two, so a slow client slows
//! the reading and the server holds a couple of chunks whatever the size.

use std::future::Future;

use futures::Stream;
use tokio::sync::mpsc;

use crate::error::AppError;

/// Roughly how much of a download is sent at once.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// A piece of a download, or why it stopped.
pub type Chunk = Result<Vec<u8>, std::io::Error>;

/// Where the writing task sends its chunks.
pub struct Chunks(mpsc::Sender<Chunk>);

impl Chunks {
    /// Sends a chunk; false when the client went away (stop writing then).
    pub async fn send(&self, bytes: Vec<u8>) -> bool {
        self.0.send(Ok(bytes)).await.is_ok()
    }
}

/// Runs `write` in its own task and streams what it sends. An error ends
/// the download early (the client sees a broken transfer, never a
/// truncated file that looks whole) and is logged as `what`.
pub fn stream<F, Fut>(what: &'static str, write: F) -> impl Stream<Item = Chunk> + Send + 'static
where
    F: FnOnce(Chunks) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), AppError>> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel::<Chunk>(2);
    tokio::spawn(async move {
        let errors = sender.clone();
        if let Err(error) = write(Chunks(sender)).await {
            tracing::warn!(%error, "{what} stopped early");
            let _ = errors
                .send(Err(std::io::Error::other(error.to_string())))
                .await;
        }
    });
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    })
}

/// A CSV download: records written through it go out a chunk at a time,
/// each cell made safe to open in a spreadsheet.
pub struct CsvDownload<'a> {
    chunks: &'a Chunks,
    writer: csv::Writer<Vec<u8>>,
}

impl<'a> CsvDownload<'a> {
    pub fn new(chunks: &'a Chunks, header: &[&str]) -> Result<Self, AppError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(header).map_err(csv_error)?;
        Ok(CsvDownload { chunks, writer })
    }

    /// Writes a record; false when the client went away.
    pub async fn write(
        &mut self,
        cells: impl IntoIterator<Item = String>,
    ) -> Result<bool, AppError> {
        self.writer
            .write_record(cells.into_iter().map(spreadsheet_safe))
            .map_err(csv_error)?;
        if self.writer.get_ref().len() < CHUNK_BYTES {
            return Ok(true);
        }
        let full = std::mem::replace(&mut self.writer, csv::Writer::from_writer(Vec::new()));
        Ok(self.chunks.send(bytes(full)?).await)
    }

    /// Sends what is left.
    pub async fn finish(self) -> Result<(), AppError> {
        self.chunks.send(bytes(self.writer)?).await;
        Ok(())
    }
}

fn bytes(writer: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, AppError> {
    writer.into_inner().map_err(|e| csv_error(e.into_error()))
}

fn csv_error(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "writing CSV");
    AppError::Internal
}

/// A cell a spreadsheet would run as a formula (it starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return: OWASP's CSV injection) gets a
/// leading `'`, so it shows as the text it is. Keys and notes come from
/// the services and the operators, so any of them may.
fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_shown_as_text() {
        for formula in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(formula.into()), format!("'{formula}"));
        }
        for plain in ["C/3", "2026-11-01T12:00:00+00:00", "", "a=b"] {
            assert_eq!(spreadsheet_safe(plain.into()), plain);
        }
    }
}
