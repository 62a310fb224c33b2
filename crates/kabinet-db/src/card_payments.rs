//! Card payments and their shares per account, the sandbox gateway's test
//! payments, and the crediting of a succeeded payment to `payments`.
//!
//! Every change of state is one conditional `UPDATE … WHERE status IN
//! (allowed predecessors)`: of any number of concurrent callers exactly one
//! sees a row changed, and only that one credits the accounts and queues the
//! e-mail (in the same transaction). The gateway's id is UNIQUE.

use crate::convert::corrupt;
use crate::entities::{account, card_payment, card_payment_share, payment, sandbox_payment, sandbox_refund};
use crate::{Backend, Conn, Db, DbError, Repos};
use kabinet_domain as d;
use kabinet_domain::payments::{CardPayment, CardPaymentStatus, Share};
use sea_orm::sea_query::{Alias, CaseStatement, Condition, Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Select,
};
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
    /// The method the resident chose, if any.
    pub method: Option<d::payment_methods::PayMethod>,
    /// The fee on top of the shares (part of `amount`).
    pub fee: d::Kopecks,
    /// Ask the gateway to keep the method.
    pub save_method: bool,
    /// The kept method that pays it, if any.
    pub saved_method_id: Option<i64>,
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
    /// `sbp` or `bank_card`, if the resident chose.
    pub method: Option<String>,
}

impl TryFrom<card_payment::Model> for CardPayment {
    type Error = DbError;
    fn try_from(m: card_payment::Model) -> Result<CardPayment, DbError> {
        Ok(CardPayment {
            id: d::CardPaymentId(m.id),
            status: CardPaymentStatus::from_stored(&m.status)
                .ok_or_else(|| corrupt("card_payments", "status", &m.status))?,
            public_id: m.public_id,
            user_id: d::UserId(m.user_id),
            gateway: m.gateway,
            gateway_id: m.gateway_id,
            amount: d::Kopecks(m.amount),
            description: m.description,
            email: m.email,
            confirmation_url: m.confirmation_url,
            card: m.card,
            failure: m.failure,
            created_at: m.created_at,
            settled_at: m.settled_at,
            next_check_at: m.next_check_at,
            checks: u32::try_from(m.checks).unwrap_or(0),
            test: m.test,
            shares: Vec::new(),
            method: m.method.as_deref().and_then(d::payment_methods::PayMethod::parse),
            fee: d::Kopecks(m.fee),
            refunded: d::Kopecks(m.refunded),
            save_method: m.save_method,
            saved_method_id: m.saved_method_id,
        })
    }
}

impl From<sandbox_payment::Model> for SandboxPayment {
    fn from(m: sandbox_payment::Model) -> SandboxPayment {
        SandboxPayment {
            id: m.id,
            reference: m.reference,
            amount: d::Kopecks(m.amount),
            description: m.description,
            return_url: m.return_url,
            status: m.status,
            method: m.method,
        }
    }
}

/// A share's row with its account's number.
#[derive(FromQueryResult)]
struct ShareRow {
    #[sea_orm(nested)]
    s: card_payment_share::Model,
    number: String,
}

/// The states reconciliation looks at.
const UNSETTLED: [CardPaymentStatus; 2] = [CardPaymentStatus::Created, CardPaymentStatus::Pending];

fn stored(statuses: &[CardPaymentStatus]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.as_str()).collect()
}

/// Newest first.
fn newest_first(select: Select<card_payment::Entity>) -> Select<card_payment::Entity> {
    select
        .order_by_desc(card_payment::Column::CreatedAt)
        .order_by_desc(card_payment::Column::Id)
}

/// A refund of the sandbox gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxRefund {
    /// Its id at the "gateway".
    pub id: String,
    /// The sandbox payment refunded.
    pub payment_id: String,
    /// The amount.
    pub amount: d::Kopecks,
    /// `succeeded` (the sandbox's refunds go through at once).
    pub status: String,
}

impl From<sandbox_refund::Model> for SandboxRefund {
    fn from(m: sandbox_refund::Model) -> SandboxRefund {
        SandboxRefund {
            id: m.id,
            payment_id: m.payment_id,
            amount: d::Kopecks(m.amount),
            status: m.status,
        }
    }
}

/// Card payments (see [`crate::Repos::card_payments`]).
pub struct CardPayments<'a, C>(pub(crate) &'a C);

impl<C: Conn> CardPayments<'_, C> {
    /// Writes a new payment (`created`) with its shares.
    pub async fn insert(&self, p: &NewCardPayment) -> Result<CardPayment, DbError> {
        let c = self.0.conn();
        let row = card_payment::ActiveModel {
            public_id: Set(p.public_id.clone()),
            user_id: Set(p.user_id.0),
            gateway: Set(p.gateway.clone()),
            gateway_id: Set(None),
            status: Set(CardPaymentStatus::Created.as_str().into()),
            amount: Set(p.amount.0),
            description: Set(p.description.clone()),
            email: Set(p.email.clone()),
            confirmation_url: Set(None),
            card: Set(None),
            failure: Set(None),
            ip: Set(Some(p.ip.chars().take(64).collect())),
            created_at: Set(p.now),
            updated_at: Set(p.now),
            settled_at: Set(None),
            next_check_at: Set(Some(p.first_check)),
            checks: Set(0),
            locked_until: Set(None),
            test: Set(p.test),
            method: Set(p.method.map(|m| m.as_str().to_string())),
            fee: Set(p.fee.0),
            refunded: Set(0),
            save_method: Set(p.save_method),
            saved_method_id: Set(p.saved_method_id),
            ..Default::default()
        };
        let mut payment: CardPayment = card_payment::Entity::insert(row)
            .exec_with_returning(c)
            .await?
            .try_into()?;
        if !p.shares.is_empty() {
            let shares = p
                .shares
                .iter()
                .map(|(account, amount)| card_payment_share::ActiveModel {
                    payment_id: Set(payment.id.0),
                    account_id: Set(account.0),
                    amount: Set(amount.0),
                    ..Default::default()
                });
            card_payment_share::Entity::insert_many(shares)
                .exec_without_returning(c)
                .await?;
            // The accounts' pages look for payments in progress until then.
            let until = Alias::new("card_payments_until");
            let mut open = Query::update();
            open.table(account::Entity)
                .value(until.clone(), p.open_until)
                .and_where(account::Column::Id.is_in(p.shares.iter().map(|(a, _)| a.0)))
                .cond_where(
                    Condition::any()
                        .add(Expr::col(until.clone()).is_null())
                        .add(Expr::col(until).lt(p.open_until)),
                );
            c.execute(&open).await?;
        }
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
        let rows = card_payment_share::Entity::find()
            .join(JoinType::InnerJoin, card_payment_share::Relation::Account.def())
            .column_as(account::Column::Number, "number")
            .filter(card_payment_share::Column::PaymentId.is_in(ids.iter().copied()))
            .order_by_asc(card_payment_share::Column::Id)
            .into_model::<ShareRow>()
            .all(self.0.conn())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let share = Share {
                    account_id: d::AccountId(r.s.account_id),
                    account: r.number,
                    amount: d::Kopecks(r.s.amount),
                };
                (r.s.payment_id, share)
            })
            .collect())
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

    /// The payments `select` finds, with their shares.
    async fn select(&self, select: Select<card_payment::Entity>) -> Result<Vec<CardPayment>, DbError> {
        let list = select
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<CardPayment>, DbError>>()?;
        self.with_shares(list).await
    }

    /// How many payments match `condition`.
    async fn count(&self, condition: Condition) -> Result<u64, DbError> {
        Ok(card_payment::Entity::find()
            .filter(condition)
            .count(self.0.conn())
            .await?)
    }

    /// A payment by its row id.
    pub async fn by_id(&self, id: d::CardPaymentId) -> Result<Option<CardPayment>, DbError> {
        let found = card_payment::Entity::find().filter(card_payment::Column::Id.eq(id.0));
        Ok(self.select(found).await?.into_iter().next())
    }

    /// A payment by its public id.
    pub async fn by_public_id(&self, public_id: &str) -> Result<Option<CardPayment>, DbError> {
        let found = card_payment::Entity::find().filter(card_payment::Column::PublicId.eq(public_id));
        Ok(self.select(found).await?.into_iter().next())
    }

    /// A payment by the gateway's id.
    pub async fn by_gateway_id(&self, gateway_id: &str) -> Result<Option<CardPayment>, DbError> {
        let found = card_payment::Entity::find().filter(card_payment::Column::GatewayId.eq(gateway_id));
        Ok(self.select(found).await?.into_iter().next())
    }

    /// One page of a user's payments, newest first, and how many there are.
    pub async fn of_user(
        &self,
        user: d::UserId,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<CardPayment>, u64), DbError> {
        let mine = Condition::all().add(card_payment::Column::UserId.eq(user.0));
        let total = self.count(mine.clone()).await?;
        let page = newest_first(card_payment::Entity::find().filter(mine))
            .limit(limit)
            .offset(offset);
        Ok((self.select(page).await?, total))
    }

    /// The newest `limit` payments, of one status or all (for staff and the
    /// command line).
    pub async fn newest(
        &self,
        status: Option<CardPaymentStatus>,
        limit: u64,
    ) -> Result<Vec<CardPayment>, DbError> {
        let mut select = card_payment::Entity::find();
        if let Some(s) = status {
            select = select.filter(card_payment::Column::Status.eq(s.as_str()));
        }
        self.select(newest_first(select).limit(limit)).await
    }

    /// An account's payments still in progress (`created` or `pending`),
    /// newest first.
    pub async fn in_progress(&self, account: d::AccountId) -> Result<Vec<CardPayment>, DbError> {
        let of_account = Query::select()
            .column(card_payment_share::Column::PaymentId)
            .from(card_payment_share::Entity)
            .and_where(card_payment_share::Column::AccountId.eq(account.0))
            .to_owned();
        let select = card_payment::Entity::find()
            .filter(card_payment::Column::Status.is_in(stored(&UNSETTLED)))
            .filter(card_payment::Column::Id.in_subquery(of_account));
        self.select(newest_first(select).limit(20)).await
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
        use card_payment::Column as P;
        let status = CaseStatement::new()
            .case(
                Expr::col(P::Status).eq(CardPaymentStatus::Created.as_str()),
                Expr::value(CardPaymentStatus::Pending.as_str()),
            )
            .finally(Expr::col(P::Status));
        let mut update = card_payment::Entity::update_many()
            .col_expr(P::GatewayId, Expr::value(gateway_id))
            .col_expr(P::Status, status.into())
            .col_expr(P::UpdatedAt, Expr::value(now));
        if let Some(url) = confirmation_url {
            update = update.col_expr(P::ConfirmationUrl, Expr::value(url));
        }
        let n = update
            .filter(P::Id.eq(id.0))
            .filter(
                Condition::any()
                    .add(P::GatewayId.is_null())
                    .add(P::GatewayId.eq(gateway_id)),
            )
            .exec(self.0.conn())
            .await?
            .rows_affected;
        Ok(n == 1)
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
        use card_payment::Column as P;
        let from = to.predecessors();
        if from.is_empty() {
            return Ok(false);
        }
        let none: Option<OffsetDateTime> = None;
        let mut update = card_payment::Entity::update_many()
            .col_expr(P::Status, Expr::value(to.as_str()))
            .col_expr(P::UpdatedAt, Expr::value(now))
            .col_expr(P::LockedUntil, Expr::value(none))
            .filter(P::Id.eq(id.0))
            .filter(P::Status.is_in(stored(from)));
        if let Some(g) = &s.gateway_id {
            let kept = Func::coalesce([Expr::col(P::GatewayId), Expr::value(g.as_str())]);
            update = update.col_expr(P::GatewayId, kept.into()).filter(
                Condition::any()
                    .add(P::GatewayId.is_null())
                    .add(P::GatewayId.eq(g.as_str())),
            );
        }
        if let Some(card) = &s.card {
            update = update.col_expr(P::Card, Expr::value(card.as_str()));
        }
        if let Some(failure) = &s.failure {
            update = update.col_expr(P::Failure, Expr::value(failure.as_str()));
        }
        if s.test {
            update = update.col_expr(P::Test, Expr::value(true));
        }
        if to.is_final() {
            update = update
                .col_expr(P::SettledAt, Expr::value(now))
                .col_expr(P::NextCheckAt, Expr::value(none));
        }
        Ok(update.exec(self.0.conn()).await?.rows_affected == 1)
    }

    /// Credits a succeeded payment's shares to their accounts (source
    /// `portal`, not yet confirmed by billing); a share credited before is
    /// left as it is, and a test payment is never credited.
    pub async fn credit(
        &self,
        p: &CardPayment,
        paid_at: OffsetDateTime,
        gateway_id: &str,
    ) -> Result<(), DbError> {
        if p.shares.is_empty() || p.test {
            return Ok(());
        }
        let rows = p.shares.iter().map(|s| payment::ActiveModel {
            account_id: Set(s.account_id.0),
            source: Set(d::payment_source::PORTAL.into()),
            external_id: Set(p.credit_id(s)),
            amount: Set(s.amount.0),
            paid_at: Set(paid_at),
            period: Set(None),
            export_run_id: Set(None),
            confirmed: Set(false),
            gateway_payment_id: Set(Some(gateway_id.to_string())),
            gateway_refund_id: Set(None),
            ..Default::default()
        });
        insert_portal_rows(self.0, rows).await
    }

    /// Sets when reconciliation looks at an unsettled payment next, and
    /// releases its lease.
    pub async fn reschedule(
        &self,
        id: d::CardPaymentId,
        checks: u32,
        next: OffsetDateTime,
    ) -> Result<(), DbError> {
        use card_payment::Column as P;
        let none: Option<OffsetDateTime> = None;
        card_payment::Entity::update_many()
            .col_expr(P::Checks, Expr::value(i32::try_from(checks).unwrap_or(i32::MAX)))
            .col_expr(P::NextCheckAt, Expr::value(next))
            .col_expr(P::LockedUntil, Expr::value(none))
            .filter(P::Id.eq(id.0))
            .filter(P::Status.is_in(stored(&UNSETTLED)))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// How many payments a user started at or after `since` (the hourly
    /// limit, counted in the database so it holds across servers).
    pub async fn started_since(&self, user: d::UserId, since: OffsetDateTime) -> Result<u64, DbError> {
        self.count(
            Condition::all()
                .add(card_payment::Column::UserId.eq(user.0))
                .add(card_payment::Column::CreatedAt.gte(since)),
        )
        .await
    }

    /// Counts payments by status (for the tests and the audit).
    pub async fn count_by_status(&self, status: CardPaymentStatus) -> Result<u64, DbError> {
        self.count(Condition::all().add(card_payment::Column::Status.eq(status.as_str())))
            .await
    }

    /// The sandbox gateway's payment for an idempotence key: the one made
    /// before with that key, or `candidate` as new.
    pub async fn sandbox_open(
        &self,
        candidate: &SandboxPayment,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<SandboxPayment, DbError> {
        let row = sandbox_payment::ActiveModel {
            id: Set(candidate.id.clone()),
            idempotence_key: Set(key.into()),
            reference: Set(candidate.reference.clone()),
            amount: Set(candidate.amount.0),
            description: Set(candidate.description.clone()),
            return_url: Set(candidate.return_url.clone()),
            status: Set(candidate.status.clone()),
            created_at: Set(now),
            method: Set(candidate.method.clone()),
        };
        sandbox_payment::Entity::insert(row)
            .on_conflict(
                OnConflict::column(sandbox_payment::Column::IdempotenceKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.0.conn())
            .await?;
        sandbox_payment::Entity::find()
            .filter(sandbox_payment::Column::IdempotenceKey.eq(key))
            .one(self.0.conn())
            .await?
            .map(SandboxPayment::from)
            .ok_or_else(|| corrupt("sandbox_payments", "idempotence_key", key))
    }

    /// The sandbox's refund for an idempotence key: the one made before
    /// with that key, or `candidate` as new.
    pub async fn sandbox_refund_open(
        &self,
        candidate: &SandboxRefund,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<SandboxRefund, DbError> {
        let row = sandbox_refund::ActiveModel {
            id: Set(candidate.id.clone()),
            idempotence_key: Set(key.into()),
            payment_id: Set(candidate.payment_id.clone()),
            amount: Set(candidate.amount.0),
            status: Set(candidate.status.clone()),
            created_at: Set(now),
        };
        sandbox_refund::Entity::insert(row)
            .on_conflict(
                OnConflict::column(sandbox_refund::Column::IdempotenceKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.0.conn())
            .await?;
        sandbox_refund::Entity::find()
            .filter(sandbox_refund::Column::IdempotenceKey.eq(key))
            .one(self.0.conn())
            .await?
            .map(SandboxRefund::from)
            .ok_or_else(|| corrupt("sandbox_refunds", "idempotence_key", key))
    }

    /// A sandbox refund by id.
    pub async fn sandbox_refund_get(&self, id: &str) -> Result<Option<SandboxRefund>, DbError> {
        Ok(sandbox_refund::Entity::find_by_id(id.to_string())
            .one(self.0.conn())
            .await?
            .map(SandboxRefund::from))
    }

    /// A sandbox payment by id.
    pub async fn sandbox_get(&self, id: &str) -> Result<Option<SandboxPayment>, DbError> {
        Ok(sandbox_payment::Entity::find_by_id(id.to_string())
            .one(self.0.conn())
            .await?
            .map(SandboxPayment::from))
    }

    /// Settles a pending sandbox payment (`succeeded` or `canceled`); false if
    /// it was settled already.
    pub async fn sandbox_settle(&self, id: &str, status: &str) -> Result<bool, DbError> {
        let n = sandbox_payment::Entity::update_many()
            .col_expr(sandbox_payment::Column::Status, Expr::value(status))
            .filter(sandbox_payment::Column::Id.eq(id))
            .filter(sandbox_payment::Column::Status.eq("pending"))
            .exec(self.0.conn())
            .await?
            .rows_affected;
        Ok(n == 1)
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
        use card_payment::Column as P;
        let tx = self.0.begin().await?;
        let mut due = card_payment::Entity::find()
            .select_only()
            .column(P::Id)
            .filter(P::Status.is_in(stored(&UNSETTLED)))
            .filter(P::NextCheckAt.lte(now))
            .filter(
                Condition::any()
                    .add(P::LockedUntil.is_null())
                    .add(P::LockedUntil.lt(now)),
            )
            .order_by_asc(P::NextCheckAt)
            .limit(limit);
        if tx.backend() == Backend::Postgres {
            due = due.lock_with_behavior(
                sea_orm::sea_query::LockType::Update,
                sea_orm::sea_query::LockBehavior::SkipLocked,
            );
        }
        let ids: Vec<i64> = due.into_tuple().all(tx.conn()).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        card_payment::Entity::update_many()
            .col_expr(P::LockedUntil, Expr::value(now + lease))
            .filter(P::Id.is_in(ids.iter().copied()))
            .exec(tx.conn())
            .await?;
        let claimed = tx
            .card_payments()
            .select(card_payment::Entity::find().filter(P::Id.is_in(ids)))
            .await?;
        tx.commit().await?;
        Ok(claimed)
    }
}

/// Writes portal payment rows (a card payment's credits, a refund's
/// debits); a row written before (same source and id) is left as it is.
pub(crate) async fn insert_portal_rows<C: Conn>(
    c: &C,
    rows: impl IntoIterator<Item = payment::ActiveModel>,
) -> Result<(), DbError> {
    payment::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([payment::Column::Source, payment::Column::ExternalId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(c.conn())
        .await?;
    Ok(())
}
