//! Card payments and their shares per account, the sandbox gateway's test
//! payments, and the crediting of a succeeded payment to `payments`.
//!
//! Every change of state is one conditional `UPDATE … WHERE status IN
//! (allowed predecessors)`: of any number of concurrent callers exactly one
//! sees a row changed, and only that one credits the accounts and queues the
//! e-mail (in the same transaction). The gateway's id is UNIQUE.

use crate::convert::{corrupt, stmt};
use crate::{Backend, Conn, Db, DbError, Repos};
use kabinet_domain as d;
use kabinet_domain::payments::{CardPayment, CardPaymentStatus, Share};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::{Duration, OffsetDateTime};

/// A card payment to write.
#[derive(Debug, Clone)]
pub struct NewCardPayment {
    /// The id for URLs and the gateway.
    pub public_id: String,
    /// Who pays.
    pub user_id: d::UserId,
    /// The provider.
    pub gateway: String,
    /// The whole amount (the shares' sum).
    pub amount: d::Kopecks,
    /// What the payer sees.
    pub description: String,
    /// Where the fiscal receipt goes.
    pub email: Option<String>,
    /// The payer's address.
    pub ip: String,
    /// When.
    pub now: OffsetDateTime,
    /// When reconciliation first looks at it, should the create call never
    /// come back.
    pub first_check: OffsetDateTime,
    /// Until when its accounts' pages look for payments in progress (after
    /// the last reconciliation it is settled or expired).
    pub open_until: OffsetDateTime,
    /// Account and amount per share.
    pub shares: Vec<(d::AccountId, d::Kopecks)>,
    /// A test payment from the start (the sandbox gateway).
    pub test: bool,
}

/// What a move to a new status also records.
#[derive(Debug, Clone, Default)]
pub struct Settlement {
    /// The gateway's id, if the row does not have it yet.
    pub gateway_id: Option<String>,
    /// The card, masked.
    pub card: Option<String>,
    /// Why it failed or was canceled.
    pub failure: Option<String>,
    /// The gateway says it was a test payment (it stays one).
    pub test: bool,
}

/// A test payment of the sandbox gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPayment {
    /// Its id at the "gateway".
    pub id: String,
    /// Our reference.
    pub reference: String,
    /// The amount.
    pub amount: d::Kopecks,
    /// What the payer sees.
    pub description: String,
    /// Where the payer goes back to.
    pub return_url: String,
    /// `pending`, `succeeded` or `canceled`.
    pub status: String,
}

const COLUMNS: &str = "id, public_id, user_id, gateway, gateway_id, status, amount, description, email, \
     confirmation_url, card, failure, created_at, settled_at, next_check_at, checks, test";

fn row(r: &QueryResult) -> Result<CardPayment, DbError> {
    let status: String = r.try_get("", "status")?;
    let checks: i32 = r.try_get("", "checks")?;
    Ok(CardPayment {
        id: d::CardPaymentId(r.try_get("", "id")?),
        public_id: r.try_get("", "public_id")?,
        user_id: d::UserId(r.try_get("", "user_id")?),
        gateway: r.try_get("", "gateway")?,
        gateway_id: r.try_get("", "gateway_id")?,
        status: CardPaymentStatus::from_stored(&status)
            .ok_or_else(|| corrupt("card_payments", "status", &status))?,
        amount: d::Kopecks(r.try_get("", "amount")?),
        description: r.try_get("", "description")?,
        email: r.try_get("", "email")?,
        confirmation_url: r.try_get("", "confirmation_url")?,
        card: r.try_get("", "card")?,
        failure: r.try_get("", "failure")?,
        created_at: r.try_get("", "created_at")?,
        settled_at: r.try_get("", "settled_at")?,
        next_check_at: r.try_get("", "next_check_at")?,
        checks: u32::try_from(checks).unwrap_or(0),
        test: r.try_get("", "test")?,
        shares: Vec::new(),
    })
}

fn in_list(statuses: &[CardPaymentStatus]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Card payments (see [`crate::Repos::card_payments`]).
pub struct CardPayments<'a, C>(pub(crate) &'a C);

impl<C: Conn> CardPayments<'_, C> {
    /// Writes a new payment (`created`) with its shares.
    pub async fn insert(&self, p: &NewCardPayment) -> Result<CardPayment, DbError> {
        let c = self.0.conn();
        let r = c
            .query_one_raw(stmt(
                self.0,
                format!(
                    "INSERT INTO card_payments (public_id, user_id, gateway, status, amount, description, email, ip, \
                     created_at, updated_at, next_check_at, checks, test) \
                     VALUES ($1, $2, $3, 'created', $4, $5, $6, $7, $8, $8, $9, 0, $10) RETURNING {COLUMNS}"
                ),
                vec![
                    p.public_id.clone().into(),
                    p.user_id.0.into(),
                    p.gateway.clone().into(),
                    p.amount.0.into(),
                    p.description.clone().into(),
                    p.email.clone().into(),
                    p.ip.chars().take(64).collect::<String>().into(),
                    p.now.into(),
                    p.first_check.into(),
                    p.test.into(),
                ],
            ))
            .await?
            .ok_or_else(|| corrupt("card_payments", "id", "no row returned"))?;
        let mut payment = row(&r)?;
        let mut sql =
            String::from("INSERT INTO card_payment_shares (payment_id, account_id, amount) VALUES ");
        let mut values: Vec<Value> = Vec::new();
        for (i, (account, amount)) in p.shares.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${})", i * 3 + 1, i * 3 + 2, i * 3 + 3));
            values.extend([payment.id.0.into(), account.0.into(), amount.0.into()]);
        }
        c.execute_raw(stmt(self.0, sql, values)).await?;
        let ids = p
            .shares
            .iter()
            .map(|(a, _)| a.0.to_string())
            .collect::<Vec<_>>()
            .join(",");
        c.execute_raw(stmt(
            self.0,
            format!(
                "UPDATE accounts SET card_payments_until = $1 WHERE id IN ({ids}) \
                 AND (card_payments_until IS NULL OR card_payments_until < $1)"
            ),
            vec![p.open_until.into()],
        ))
        .await?;
        payment.shares = self.shares(&[payment.id.0]).await?;
        Ok(payment)
    }

    async fn shares(&self, ids: &[i64]) -> Result<Vec<Share>, DbError> {
        Ok(self.shares_of(ids).await?.into_iter().map(|(_, s)| s).collect())
    }

    async fn shares_of(&self, ids: &[i64]) -> Result<Vec<(i64, Share)>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = self
            .0
            .conn()
            .query_all_raw(stmt(
                self.0,
                format!(
                    "SELECT s.payment_id, s.account_id, a.number, s.amount FROM card_payment_shares s \
                     JOIN accounts a ON a.id = s.account_id WHERE s.payment_id IN ({list}) ORDER BY s.id"
                ),
                vec![],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("", "payment_id")?,
                    Share {
                        account_id: d::AccountId(r.try_get("", "account_id")?),
                        account: r.try_get("", "number")?,
                        amount: d::Kopecks(r.try_get("", "amount")?),
                    },
                ))
            })
            .collect()
    }

    async fn with_shares(&self, mut list: Vec<CardPayment>) -> Result<Vec<CardPayment>, DbError> {
        let ids: Vec<i64> = list.iter().map(|p| p.id.0).collect();
        for (id, share) in self.shares_of(&ids).await? {
            if let Some(p) = list.iter_mut().find(|p| p.id.0 == id) {
                p.shares.push(share);
            }
        }
        Ok(list)
    }

    async fn select(&self, cond: &str, values: Vec<Value>) -> Result<Vec<CardPayment>, DbError> {
        let rows = self
            .0
            .conn()
            .query_all_raw(stmt(
                self.0,
                format!("SELECT {COLUMNS} FROM card_payments WHERE {cond}"),
                values,
            ))
            .await?;
        let list = rows.iter().map(row).collect::<Result<Vec<_>, _>>()?;
        self.with_shares(list).await
    }

    /// How many payments match `cond`.
    async fn count(&self, cond: &str, values: Vec<Value>) -> Result<u64, DbError> {
        let n: i64 = self
            .0
            .conn()
            .query_one_raw(stmt(
                self.0,
                format!("SELECT COUNT(*) AS n FROM card_payments WHERE {cond}"),
                values,
            ))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// A payment by its public id.
    pub async fn by_public_id(&self, public_id: &str) -> Result<Option<CardPayment>, DbError> {
        Ok(self
            .select("public_id = $1", vec![public_id.into()])
            .await?
            .into_iter()
            .next())
    }

    /// A payment by the gateway's id.
    pub async fn by_gateway_id(&self, gateway_id: &str) -> Result<Option<CardPayment>, DbError> {
        Ok(self
            .select("gateway_id = $1", vec![gateway_id.into()])
            .await?
            .into_iter()
            .next())
    }

    /// One page of a user's payments, newest first, and how many there are.
    pub async fn of_user(
        &self,
        user: d::UserId,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<CardPayment>, u64), DbError> {
        let total = self.count("user_id = $1", vec![user.0.into()]).await?;
        let list = self
            .select(
                &format!("user_id = $1 ORDER BY created_at DESC, id DESC LIMIT {limit} OFFSET {offset}"),
                vec![user.0.into()],
            )
            .await?;
        Ok((list, total))
    }

    /// The newest `limit` payments, of one status or all (for staff and the
    /// command line).
    pub async fn newest(
        &self,
        status: Option<CardPaymentStatus>,
        limit: u64,
    ) -> Result<Vec<CardPayment>, DbError> {
        let order = format!("ORDER BY created_at DESC, id DESC LIMIT {limit}");
        match status {
            Some(s) => {
                self.select(&format!("status = $1 {order}"), vec![s.as_str().into()])
                    .await
            }
            None => self.select(&format!("TRUE {order}"), vec![]).await,
        }
    }

    /// An account's payments still in progress (`created` or `pending`),
    /// newest first.
    pub async fn in_progress(&self, account: d::AccountId) -> Result<Vec<CardPayment>, DbError> {
        self.select(
            &format!(
                "status IN ({}) AND id IN (SELECT payment_id FROM card_payment_shares WHERE account_id = $1) \
                 ORDER BY created_at DESC, id DESC LIMIT 20",
                in_list(&[CardPaymentStatus::Created, CardPaymentStatus::Pending])
            ),
            vec![account.0.into()],
        )
        .await
    }

    /// Records the gateway's id and page once the create call returned. A
    /// `created` payment becomes `pending`; one a notification already moved
    /// on keeps its status. False if the row has another gateway id.
    pub async fn attach(
        &self,
        id: d::CardPaymentId,
        gateway_id: &str,
        confirmation_url: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let res = self
            .0
            .conn()
            .execute_raw(stmt(
                self.0,
                "UPDATE card_payments SET gateway_id = $2, confirmation_url = COALESCE($3, confirmation_url), \
                 status = CASE WHEN status = 'created' THEN 'pending' ELSE status END, updated_at = $4 \
                 WHERE id = $1 AND (gateway_id IS NULL OR gateway_id = $2)",
                vec![
                    id.0.into(),
                    gateway_id.into(),
                    confirmation_url.map(str::to_string).into(),
                    now.into(),
                ],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Moves payment `id` to `to` if it is in one of the states allowed
    /// before it; true if this call made the move. A final state clears the
    /// reconciliation schedule.
    pub async fn transition(
        &self,
        id: d::CardPaymentId,
        to: CardPaymentStatus,
        s: &Settlement,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let from = to.predecessors();
        if from.is_empty() {
            return Ok(false);
        }
        let settled = to.is_final().then_some(now);
        let res = self
            .0
            .conn()
            .execute_raw(stmt(
                self.0,
                format!(
                    "UPDATE card_payments SET status = $2, gateway_id = COALESCE(gateway_id, $3), \
                     card = COALESCE($4, card), failure = COALESCE($5, failure), updated_at = $6, \
                     settled_at = COALESCE($7, settled_at), test = (test OR $9), \
                     next_check_at = CASE WHEN $8 THEN NULL ELSE next_check_at END, locked_until = NULL \
                     WHERE id = $1 AND status IN ({}) AND (gateway_id IS NULL OR $3 IS NULL OR gateway_id = $3)",
                    in_list(from)
                ),
                vec![
                    id.0.into(),
                    to.as_str().into(),
                    s.gateway_id.clone().into(),
                    s.card.clone().into(),
                    s.failure.clone().into(),
                    now.into(),
                    settled.into(),
                    to.is_final().into(),
                    s.test.into(),
                ],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Credits a succeeded payment's shares to their accounts (source
    /// `portal`, not yet confirmed by billing); a share credited before is
    /// left as it is, and a test payment is never credited.
    pub async fn credit(&self, p: &CardPayment, paid_at: OffsetDateTime) -> Result<(), DbError> {
        if p.shares.is_empty() || p.test {
            return Ok(());
        }
        let mut sql = String::from(
            "INSERT INTO payments (account_id, source, external_id, amount, paid_at, confirmed) VALUES ",
        );
        let mut values: Vec<Value> = Vec::new();
        for (i, s) in p.shares.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let k = i * 5;
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, FALSE)",
                k + 1,
                k + 2,
                k + 3,
                k + 4,
                k + 5
            ));
            values.extend([
                s.account_id.0.into(),
                d::payment_source::PORTAL.into(),
                p.credit_id(s).into(),
                s.amount.0.into(),
                paid_at.into(),
            ]);
        }
        sql.push_str(" ON CONFLICT (source, external_id) DO NOTHING");
        self.0.conn().execute_raw(stmt(self.0, sql, values)).await?;
        Ok(())
    }

    /// Sets when reconciliation looks at an unsettled payment next, and
    /// releases its lease.
    pub async fn reschedule(
        &self,
        id: d::CardPaymentId,
        checks: u32,
        next: OffsetDateTime,
    ) -> Result<(), DbError> {
        self.0
            .conn()
            .execute_raw(stmt(
                self.0,
                format!(
                    "UPDATE card_payments SET checks = $2, next_check_at = $3, locked_until = NULL \
                     WHERE id = $1 AND status IN ({})",
                    in_list(&[CardPaymentStatus::Created, CardPaymentStatus::Pending])
                ),
                vec![
                    id.0.into(),
                    i32::try_from(checks).unwrap_or(i32::MAX).into(),
                    next.into(),
                ],
            ))
            .await?;
        Ok(())
    }

    /// How many payments a user started at or after `since` (the hourly
    /// limit, counted in the database so it holds across servers).
    pub async fn started_since(&self, user: d::UserId, since: OffsetDateTime) -> Result<u64, DbError> {
        self.count(
            "user_id = $1 AND created_at >= $2",
            vec![user.0.into(), since.into()],
        )
        .await
    }

    /// Counts payments by status (for the tests and the audit).
    pub async fn count_by_status(&self, status: CardPaymentStatus) -> Result<u64, DbError> {
        self.count("status = $1", vec![status.as_str().into()]).await
    }

    /// The sandbox gateway's payment for an idempotence key: the one made
    /// before with that key, or `candidate` as new.
    pub async fn sandbox_open(
        &self,
        candidate: &SandboxPayment,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<SandboxPayment, DbError> {
        let c = self.0.conn();
        c.execute_raw(stmt(
            self.0,
            "INSERT INTO sandbox_payments (id, idempotence_key, reference, amount, description, return_url, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) ON CONFLICT (idempotence_key) DO NOTHING",
            vec![
                candidate.id.clone().into(),
                key.into(),
                candidate.reference.clone().into(),
                candidate.amount.0.into(),
                candidate.description.clone().into(),
                candidate.return_url.clone().into(),
                now.into(),
            ],
        ))
        .await?;
        self.sandbox("idempotence_key = $1", key)
            .await?
            .ok_or_else(|| corrupt("sandbox_payments", "idempotence_key", key))
    }

    /// A sandbox payment by id.
    pub async fn sandbox_get(&self, id: &str) -> Result<Option<SandboxPayment>, DbError> {
        self.sandbox("id = $1", id).await
    }

    async fn sandbox(&self, cond: &str, v: &str) -> Result<Option<SandboxPayment>, DbError> {
        let r = self
            .0
            .conn()
            .query_one_raw(stmt(
                self.0,
                format!(
                    "SELECT id, reference, amount, description, return_url, status FROM sandbox_payments WHERE {cond}"
                ),
                vec![v.into()],
            ))
            .await?;
        r.map(|r| {
            Ok(SandboxPayment {
                id: r.try_get("", "id")?,
                reference: r.try_get("", "reference")?,
                amount: d::Kopecks(r.try_get("", "amount")?),
                description: r.try_get("", "description")?,
                return_url: r.try_get("", "return_url")?,
                status: r.try_get("", "status")?,
            })
        })
        .transpose()
    }

    /// Settles a pending sandbox payment (`succeeded` or `canceled`); false if
    /// it was settled already.
    pub async fn sandbox_settle(&self, id: &str, status: &str) -> Result<bool, DbError> {
        let res = self
            .0
            .conn()
            .execute_raw(stmt(
                self.0,
                "UPDATE sandbox_payments SET status = $2 WHERE id = $1 AND status = 'pending'",
                vec![id.into(), status.into()],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }
}

impl CardPayments<'_, Db> {
    /// Takes up to `limit` unsettled payments due for a look at the gateway
    /// and leases them for `lease`, so another server's reconciliation skips
    /// them meanwhile (its own transaction; `SKIP LOCKED` on PostgreSQL).
    pub async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u64,
    ) -> Result<Vec<CardPayment>, DbError> {
        let tx = self.0.begin().await?;
        let lock = if tx.backend() == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let rows = tx
            .conn()
            .query_all_raw(stmt(
                &tx,
                format!(
                    "SELECT id FROM card_payments WHERE status IN ({}) AND next_check_at <= $1 \
                     AND (locked_until IS NULL OR locked_until < $1) ORDER BY next_check_at LIMIT {limit}{lock}",
                    in_list(&[CardPaymentStatus::Created, CardPaymentStatus::Pending])
                ),
                vec![now.into()],
            ))
            .await?;
        let ids = rows
            .iter()
            .map(|r| r.try_get::<i64>("", "id"))
            .collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        tx.conn()
            .execute_raw(stmt(
                &tx,
                format!("UPDATE card_payments SET locked_until = $1 WHERE id IN ({list})"),
                vec![(now + lease).into()],
            ))
            .await?;
        let claimed = tx
            .card_payments()
            .select(&format!("id IN ({list})"), vec![])
            .await?;
        tx.commit().await?;
        Ok(claimed)
    }
}
