//! Render worker processes for `kabinet receipts`.
//!
//! typst keeps its memoised work in process-wide caches, which the receipt
//! renderer empties after every receipt. Threads of one process would contend
//! for those caches' locks and empty each other's work in the middle of a
//! render, so each core gets a process of its own: `kabinet render-worker`
//! (hidden command) reads one job per line on standard input (JSON: the output
//! path and the receipt's data), writes the PDF and answers one JSON line on
//! standard output. Its log and panic messages go to the shared standard error.

use anyhow::{Context, anyhow, bail};
use kabinet_receipt::{ReceiptView, Renderer};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};

/// One receipt to render.
#[derive(Serialize, Deserialize)]
struct Job {
    path: PathBuf,
    view: ReceiptView,
}

/// A worker's answer.
#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    /// Started and waiting for jobs.
    Ready,
    /// The PDF is in place; with the custom template's error if the built-in
    /// template had to be used.
    Written { warning: Option<String> },
    /// This receipt could not be rendered.
    Failed { error: String },
}

/// The worker's side: serves jobs until standard input closes.
pub fn serve(renderer: &Renderer) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    send(&mut out, &Reply::Ready)?;
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading a job")?;
        let reply = match serde_json::from_str::<Job>(&line) {
            Ok(job) => {
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write_receipt(renderer, &job)))
                {
                    Ok(Ok(warning)) => Reply::Written { warning },
                    Ok(Err(e)) => Reply::Failed {
                        error: format!("{e:#}"),
                    },
                    Err(_) => Reply::Failed {
                        error: "the renderer stopped with an internal error".into(),
                    },
                }
            }
            Err(e) => Reply::Failed {
                error: format!("unreadable job: {e}"),
            },
        };
        send(&mut out, &reply)?;
    }
    Ok(())
}

fn send(out: &mut impl Write, reply: &Reply) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, reply)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Renders and writes one receipt; a crash leaves at most a `.partial` file.
fn write_receipt(renderer: &Renderer, job: &Job) -> anyhow::Result<Option<String>> {
    let (pdf, fallback) = renderer.render(&job.view)?;
    let partial = job.path.with_extension("pdf.partial");
    std::fs::write(&partial, &pdf).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, &job.path).with_context(|| format!("writing {}", job.path.display()))?;
    Ok(fallback.map(|e| e.to_string()))
}

/// One running worker process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start(mut command: Command) -> anyhow::Result<Worker> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a render worker")?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("a render worker has no pipes");
        };
        let mut worker = Worker {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        match worker.receive() {
            Ok(Reply::Ready) => Ok(worker),
            Ok(other) => Err(anyhow!("a render worker answered {other:?} at start")),
            Err(e) => {
                worker.kill();
                Err(e.context("a render worker failed to start (its message is above)"))
            }
        }
    }

    fn receive(&mut self) -> anyhow::Result<Reply> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("the render worker stopped");
        }
        Ok(serde_json::from_str(&line)?)
    }

    fn render(&mut self, job: &Job) -> anyhow::Result<Reply> {
        let mut line = serde_json::to_vec(job)?;
        line.push(b'\n');
        self.stdin.write_all(&line)?;
        self.stdin.flush()?;
        self.receive()
    }

    /// Closes the worker's input, which a healthy worker takes as the end, and
    /// waits for it to exit.
    fn stop(self) {
        let Worker { mut child, stdin, .. } = self;
        drop(stdin);
        let _ = child.wait();
    }

    /// Ends a worker that broke the protocol or died.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What became of one receipt.
pub enum Rendered {
    /// Written; with the custom template's error if the built-in one was used.
    Written(Option<String>),
    /// This receipt failed; the others go on.
    Failed(String),
}

/// A fixed number of worker processes; a worker that dies is replaced.
pub struct Pool {
    command: Arc<dyn Fn() -> Command + Send + Sync>,
    idle: Mutex<Vec<Worker>>,
}

impl Pool {
    /// Starts `size` workers, each from a fresh `command()`.
    pub async fn start(
        size: usize,
        command: impl Fn() -> Command + Send + Sync + 'static,
    ) -> anyhow::Result<Pool> {
        let command: Arc<dyn Fn() -> Command + Send + Sync> = Arc::new(command);
        let starts = (0..size).map(|_| {
            let command = command.clone();
            tokio::task::spawn_blocking(move || Worker::start(command()))
        });
        let mut workers = Vec::with_capacity(size);
        let mut error = None;
        for started in futures::future::join_all(starts).await {
            match started? {
                Ok(w) => workers.push(w),
                Err(e) => error = Some(e),
            }
        }
        if let Some(e) = error {
            workers.into_iter().for_each(Worker::kill);
            return Err(e);
        }
        Ok(Pool {
            command,
            idle: Mutex::new(workers),
        })
    }

    /// Renders one receipt on an idle worker. Call it at most `size` times at
    /// once. An error means no worker is left to render anything.
    pub async fn render(&self, path: PathBuf, view: ReceiptView) -> anyhow::Result<Rendered> {
        let mut worker = self
            .idle
            .lock()
            .map_err(|_| anyhow!("render worker list poisoned"))?
            .pop()
            .ok_or_else(|| anyhow!("no render worker is left"))?;
        let command = self.command.clone();
        let (worker, rendered) = tokio::task::spawn_blocking(move || {
            let job = Job { path, view };
            match worker.render(&job) {
                Ok(Reply::Written { warning }) => (Ok(worker), Rendered::Written(warning)),
                Ok(Reply::Failed { error }) => (Ok(worker), Rendered::Failed(error)),
                Ok(Reply::Ready) => (Ok(worker), Rendered::Failed("unexpected answer".into())),
                Err(e) => {
                    worker.kill();
                    let failed = Rendered::Failed(format!("{e:#}"));
                    (Worker::start(command()), failed)
                }
            }
        })
        .await?;
        let worker = worker?;
        self.idle
            .lock()
            .map_err(|_| anyhow!("render worker list poisoned"))?
            .push(worker);
        Ok(rendered)
    }

    /// Lets every worker finish and exit.
    pub async fn finish(self) {
        let workers = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        let _ = tokio::task::spawn_blocking(move || workers.into_iter().for_each(Worker::stop)).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A stand-in worker: a shell script speaking the protocol.
    fn script(body: &'static str) -> impl Fn() -> Command + Send + Sync + 'static {
        move || {
            let mut c = Command::new("sh");
            c.args(["-c", body]);
            c
        }
    }

    fn view() -> ReceiptView {
        serde_json::from_str(include_str!("../tests/receipt-view.json")).unwrap()
    }

    #[tokio::test]
    async fn a_worker_that_dies_is_replaced() {
        // Each worker answers its first job and dies on the second.
        let pool = Pool::start(
            1,
            script(
                r#"printf '"Ready"\n'; read -r job; printf '{"Written":{"warning":null}}\n'; read -r job"#,
            ),
        )
        .await
        .unwrap();
        let path = PathBuf::from("/nonexistent/receipt.pdf");
        assert!(matches!(
            pool.render(path.clone(), view()).await.unwrap(),
            Rendered::Written(None)
        ));
        match pool.render(path.clone(), view()).await.unwrap() {
            Rendered::Failed(e) => assert!(e.contains("stopped"), "{e}"),
            Rendered::Written(_) => panic!("a dead worker cannot have written"),
        }
        // The replacement works.
        assert!(matches!(
            pool.render(path, view()).await.unwrap(),
            Rendered::Written(None)
        ));
        pool.finish().await;
    }

    #[tokio::test]
    async fn a_worker_that_cannot_start_is_reported() {
        let e = Pool::start(2, script("echo 'no template' >&2; exit 3"))
            .await
            .err()
            .unwrap();
        assert!(format!("{e:#}").contains("failed to start"), "{e:#}");
    }

    #[tokio::test]
    async fn no_worker_left_ends_the_run() {
        // The first worker dies on its job; its replacement cannot start.
        let marker = std::env::temp_dir().join(format!("kabinet-worker-{}", std::process::id()));
        let _ = std::fs::remove_file(&marker);
        let body = format!(
            "if [ -e '{m}' ]; then exit 1; fi; touch '{m}'; printf '\"Ready\"\\n'; read -r job",
            m = marker.display()
        );
        let body: &'static str = Box::leak(body.into_boxed_str());
        let pool = Pool::start(1, script(body)).await.unwrap();
        let path = PathBuf::from("/nonexistent/receipt.pdf");
        assert!(pool.render(path.clone(), view()).await.is_err());
        assert!(pool.render(path, view()).await.is_err(), "no worker is left");
        let _ = std::fs::remove_file(&marker);
    }
}
