//! Writing exchange files: exports of what residents did in Kabinet, and the
//! CSV writer the demo package uses. Files are written to `<name>.partial` and
//! renamed into place only after the rows are marked as exported.

use crate::ExchangeError;
use crate::source::TextEncoding;
use kabinet_db::Db;
use kabinet_db::exchange::RunOutcome;
use kabinet_db::export::{ExportFilter, ExportSink, ExportedPayment, ExportedReading};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use time::format_description::well_known::Rfc3339;

/// A `Write` that turns UTF-8 into the target encoding, carrying characters
/// split across writes over to the next one.
pub struct Encoded<W: Write> {
    inner: W,
    encoding: TextEncoding,
    pending: Vec<u8>,
}

impl<W: Write> Encoded<W> {
    /// Wraps `inner`.
    pub fn new(inner: W, encoding: TextEncoding) -> Encoded<W> {
        Encoded {
            inner,
            encoding,
            pending: Vec::new(),
        }
    }

    /// Flushes and returns the inner writer.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        self.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Encoded<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.encoding == TextEncoding::Utf8 {
            return self.inner.write(buf);
        }
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(s) => s.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = String::from_utf8_lossy(&self.pending[..valid]).into_owned();
        let (bytes, _, _) = self.encoding.encoding().encode(&text);
        self.inner.write_all(&bytes)?;
        self.pending.drain(..valid);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A CSV file being written with the documented conventions: `;` separator,
/// header row, decimal point, ISO dates.
pub struct CsvFile {
    path: PathBuf,
    partial: PathBuf,
    writer: csv::Writer<Encoded<BufWriter<File>>>,
}

impl CsvFile {
    /// Creates `<path>.partial` and writes the header.
    pub fn create(path: &Path, encoding: TextEncoding, header: &[&str]) -> Result<CsvFile, ExchangeError> {
        let partial = path.with_extension("csv.partial");
        let io = |source| ExchangeError::Io {
            path: partial.display().to_string(),
            source,
        };
        let file = File::create(&partial).map_err(io)?;
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(Encoded::new(BufWriter::with_capacity(256 * 1024, file), encoding));
        writer
            .write_record(header)
            .map_err(|e| ExchangeError::Csv(e.to_string()))?;
        Ok(CsvFile {
            path: path.to_path_buf(),
            partial,
            writer,
        })
    }

    /// Writes one row.
    pub fn row<I: IntoIterator<Item = S>, S: AsRef<[u8]>>(&mut self, cells: I) -> Result<(), ExchangeError> {
        self.writer
            .write_record(cells)
            .map_err(|e| ExchangeError::Csv(e.to_string()))
    }

    /// Flushes and syncs the partial file to disk.
    pub fn sync(&mut self) -> Result<(), ExchangeError> {
        let io = |source| ExchangeError::Io {
            path: self.partial.display().to_string(),
            source,
        };
        self.writer.flush().map_err(io)?;
        self.writer.get_ref().inner.get_ref().sync_all().map_err(io)
    }

    /// Moves the finished file into place.
    pub fn publish(mut self) -> Result<PathBuf, ExchangeError> {
        self.sync()?;
        drop(self.writer);
        std::fs::rename(&self.partial, &self.path).map_err(|source| ExchangeError::Io {
            path: self.path.display().to_string(),
            source,
        })?;
        Ok(self.path)
    }

    /// Removes the partial file.
    pub fn discard(self) {
        let partial = self.partial.clone();
        drop(self.writer);
        let _ = std::fs::remove_file(partial);
    }
}

/// A text cell made safe to open in a spreadsheet: a value that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return would be read by Excel or
/// LibreOffice as a formula (`=HYPERLINK(…)`), so it gets a leading `'`, as
/// OWASP recommends for CSV injection. Applied to every cell whose text came
/// from outside (account numbers, meter serials, payment ids); numbers and
/// dates Kabinet formats itself never start with those characters.
pub fn spreadsheet_safe(value: String) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value
    }
}

/// Formats a timestamp as RFC 3339 in UTC.
pub fn timestamp(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// Meter readings handed in through Kabinet.
    Readings,
    /// Card payments made through Kabinet.
    Payments,
    /// The accounts whose resident chose no paper receipts (a list as it
    /// stands; nothing is marked).
    Paperless,
}

impl ExportKind {
    /// Name on the command line and file stem.
    pub fn name(self) -> &'static str {
        match self {
            ExportKind::Readings => "readings",
            ExportKind::Payments => "payments",
            ExportKind::Paperless => "paperless",
        }
    }

    /// Reads a name given on the command line or in a form.
    pub fn parse(name: &str) -> Option<ExportKind> {
        [ExportKind::Readings, ExportKind::Payments, ExportKind::Paperless]
            .into_iter()
            .find(|k| k.name() == name.trim())
    }

    fn header(self) -> &'static [&'static str] {
        match self {
            ExportKind::Readings => &READINGS_HEADER,
            ExportKind::Payments => &PAYMENTS_HEADER,
            ExportKind::Paperless => &PAPERLESS_HEADER,
        }
    }
}

/// Header of the readings export.
pub const READINGS_HEADER: [&str; 7] = [
    "account",
    "meter",
    "zone",
    "value",
    "taken_on",
    "source",
    "submitted_at",
];
/// Header of the payments export.
/// A refund is a row with a negative amount; `gateway_payment_id` and
/// `gateway_refund_id` are the gateway's ids (ours is `external_id`).
pub const PAYMENTS_HEADER: [&str; 8] = [
    "account",
    "source",
    "external_id",
    "amount",
    "paid_at",
    "period",
    "gateway_payment_id",
    "gateway_refund_id",
];
/// Header of the paperless list.
pub const PAPERLESS_HEADER: [&str; 1] = ["account"];

fn reading_cells(r: ExportedReading) -> [String; 7] {
    [
        spreadsheet_safe(r.account),
        spreadsheet_safe(r.meter),
        r.zone.to_string(),
        r.value.to_decimal_string(),
        r.taken_on.to_string(),
        "portal".to_string(),
        timestamp(r.submitted_at),
    ]
}

fn payment_cells(p: ExportedPayment) -> [String; 8] {
    [
        spreadsheet_safe(p.account),
        "portal".to_string(),
        spreadsheet_safe(p.external_id),
        p.amount.to_decimal_string(),
        timestamp(p.paid_at),
        p.period.map(|x| x.to_string()).unwrap_or_default(),
        spreadsheet_safe(p.gateway_payment_id.unwrap_or_default()),
        spreadsheet_safe(p.gateway_refund_id.unwrap_or_default()),
    ]
}

struct Sink<'a>(&'a mut CsvFile);

impl ExportSink<ExportedReading> for Sink<'_> {
    fn row(&mut self, r: ExportedReading) -> Result<(), String> {
        self.0.row(reading_cells(r)).map_err(|e| e.to_string())
    }
    fn finish(&mut self) -> Result<(), String> {
        self.0.sync().map_err(|e| e.to_string())
    }
}

impl ExportSink<ExportedPayment> for Sink<'_> {
    fn row(&mut self, p: ExportedPayment) -> Result<(), String> {
        self.0.row(payment_cells(p)).map_err(|e| e.to_string())
    }
    fn finish(&mut self) -> Result<(), String> {
        self.0.sync().map_err(|e| e.to_string())
    }
}

/// An export written into memory and handed to the database to keep with
/// its run (the office's downloads).
struct Kept {
    writer: Option<csv::Writer<Encoded<Vec<u8>>>>,
    encoding: TextEncoding,
    done: Option<Vec<u8>>,
}

impl Kept {
    fn new(encoding: TextEncoding, header: &[&str]) -> Result<Kept, ExchangeError> {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(Encoded::new(Vec::new(), encoding));
        writer
            .write_record(header)
            .map_err(|e| ExchangeError::Csv(e.to_string()))?;
        Ok(Kept {
            writer: Some(writer),
            encoding,
            done: None,
        })
    }

    fn row<I: IntoIterator<Item = S>, S: AsRef<[u8]>>(&mut self, cells: I) -> Result<(), String> {
        match &mut self.writer {
            Some(w) => w.write_record(cells).map_err(|e| e.to_string()),
            None => Err("the file is finished".into()),
        }
    }

    fn close(&mut self) -> Result<(), String> {
        let w = self.writer.take().ok_or("the file is finished")?;
        let bytes = w
            .into_inner()
            .map_err(|e| e.to_string())?
            .into_inner()
            .map_err(|e| e.to_string())?;
        self.done = Some(bytes);
        Ok(())
    }
}

impl ExportSink<ExportedReading> for Kept {
    fn row(&mut self, r: ExportedReading) -> Result<(), String> {
        Kept::row(self, reading_cells(r))
    }
    fn finish(&mut self) -> Result<(), String> {
        self.close()
    }
    fn file(&mut self) -> Option<(String, Vec<u8>)> {
        self.done.take().map(|d| (self.encoding.name().to_string(), d))
    }
}

impl ExportSink<ExportedPayment> for Kept {
    fn row(&mut self, p: ExportedPayment) -> Result<(), String> {
        Kept::row(self, payment_cells(p))
    }
    fn finish(&mut self) -> Result<(), String> {
        self.close()
    }
    fn file(&mut self) -> Option<(String, Vec<u8>)> {
        self.done.take().map(|d| (self.encoding.name().to_string(), d))
    }
}

/// The paperless list, page by page, into `row`.
async fn paperless_rows(
    db: &Db,
    row: &mut (dyn FnMut(String) -> Result<(), ExchangeError> + Send),
) -> Result<u64, ExchangeError> {
    let (mut after, mut n) = (0i64, 0u64);
    loop {
        let (numbers, last) = db.exports().paperless(after).await?;
        if numbers.is_empty() {
            return Ok(n);
        }
        for number in numbers {
            row(spreadsheet_safe(number))?;
            n += 1;
        }
        after = last;
    }
}

fn outcome(result: &Result<u64, ExchangeError>) -> RunOutcome {
    match result {
        Ok(n) => RunOutcome {
            ok: true,
            rows_read: *n,
            rows_written: *n,
            errors: 0,
            message: format!("{n} строк выгружено"),
        },
        Err(e) => RunOutcome {
            ok: false,
            rows_read: 0,
            rows_written: 0,
            errors: 1,
            message: e.to_string(),
        },
    }
}

/// Exports `kind` for the office: the file is kept with its run (in the
/// transaction that marks the rows), so it can be downloaded, and again
/// later, from any server. Returns the run and the number of rows; on
/// failure nothing is marked and the run says why. The file is built in
/// memory: it takes about as much as the file itself.
pub async fn export_kept(
    db: &Db,
    kind: ExportKind,
    encoding: TextEncoding,
    actor: &str,
) -> Result<(kabinet_domain::ExchangeRunId, u64), ExchangeError> {
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_default();
    let file_name = format!("{}-{stamp}.csv", kind.name());
    let run = db
        .exchange()
        .start_run("export", kind.name(), &file_name, actor)
        .await?;
    let result = async {
        let mut kept = Kept::new(encoding, kind.header())?;
        let filter = ExportFilter::default();
        match kind {
            ExportKind::Readings => Ok(db.exports().export_readings(run, filter, &mut kept).await?),
            ExportKind::Payments => Ok(db.exports().export_payments(run, filter, &mut kept).await?),
            ExportKind::Paperless => {
                let n =
                    paperless_rows(db, &mut |number| kept.row([number]).map_err(ExchangeError::Csv)).await?;
                kept.close().map_err(ExchangeError::Csv)?;
                let (enc, data) = ExportSink::<ExportedReading>::file(&mut kept)
                    .ok_or_else(|| ExchangeError::Csv("no file".into()))?;
                db.exports().store_file(run, &enc, data).await?;
                Ok(n)
            }
        }
    }
    .await;
    db.exchange().finish_run(run, &outcome(&result)).await?;
    result.map(|n| (run, n))
}

/// Exports `kind` to `path`; returns the number of rows. Nothing is marked
/// unless the whole file was written.
pub async fn export(
    db: &Db,
    kind: ExportKind,
    path: &Path,
    encoding: TextEncoding,
    filter: ExportFilter,
    actor: &str,
) -> Result<u64, ExchangeError> {
    let file_name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
    let run = db
        .exchange()
        .start_run("export", kind.name(), &file_name, actor)
        .await?;
    let result = async {
        let mut file = CsvFile::create(path, encoding, kind.header())?;
        let mut sink = Sink(&mut file);
        let written = match kind {
            ExportKind::Readings => db.exports().export_readings(run, filter, &mut sink).await,
            ExportKind::Payments => db.exports().export_payments(run, filter, &mut sink).await,
            ExportKind::Paperless => paperless_rows(db, &mut |number| sink.0.row([number]))
                .await
                .map_err(|e| kabinet_db::DbError::Refused(e.to_string())),
        };
        match written {
            Ok(n) => {
                file.publish()?;
                Ok(n)
            }
            Err(e) => {
                file.discard();
                Err(ExchangeError::from(e))
            }
        }
    }
    .await;
    db.exchange().finish_run(run, &outcome(&result)).await?;
    result
}
