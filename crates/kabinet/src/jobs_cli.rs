//! `kabinet jobs`: what the job queue holds, and what to do with a dead job.

use crate::JobsAction;
use anyhow::bail;
use kabinet_db::jobs::JobFilter;
use kabinet_db::{Db, Repos};
use kabinet_domain::JobId;
use time::OffsetDateTime;

/// Runs one `kabinet jobs` action.
pub async fn run(db: &Db, action: JobsAction) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    match action {
        JobsAction::List { dead } => {
            let counts = db.jobs().counts(now).await?;
            eprintln!(
                "{} waiting, {} running, {} dead",
                counts.waiting, counts.running, counts.dead
            );
            let filter = if dead { JobFilter::Dead } else { JobFilter::All };
            for j in db.jobs().list(filter, now, 200).await? {
                let state = match j.status {
                    kabinet_domain::jobs::JobStatus::Dead => "dead",
                    _ if j.running(now) => "running",
                    _ => "waiting",
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}/{} attempt(s)\t{}",
                    j.id, j.kind, state, j.run_at, j.attempts, j.max_attempts, j.last_error
                );
            }
        }
        JobsAction::Retry { id } => {
            if !db.jobs().retry(JobId(id), now).await? {
                bail!("job {id} is not a dead job");
            }
            eprintln!("Job {id} is queued again.");
        }
        JobsAction::Discard { id } => {
            if !db.jobs().discard(JobId(id)).await? {
                bail!("job {id} is not a dead job");
            }
            eprintln!("Job {id} is discarded.");
        }
    }
    Ok(())
}
