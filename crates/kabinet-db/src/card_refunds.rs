//! Refunds of card payments and their negative rows in `payments`.
//!
//! Like payments, a refund moves forward by conditional updates: of any
//! number of callers learning that it succeeded (the answer to our call, the
//! gateway's notification, reconciliation) exactly one makes the move, and
//! only that one takes the money back from the accounts, in the same
//! transaction. The gateway's refund id is UNIQUE.

use crate::convert::corrupt;
use crate::entities::{card_payment, card_refund, payment};
use crate::{Backend, Conn, DbError};
use kabinet_domain as d;
use kabinet_domain::payments::CardPayment;
use kabinet_domain::refunds::{CardRefund, RefundStatus};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Value,
};
use time::OffsetDateTime;

/// A refund to write.
#[derive(Debug, Clone)]
pub struct NewCardRefund {
    /// Our id (the idempotence key).
    pub public_id: String,
    /// The payment refunded.
    pub payment_id: d::CardPaymentId,
    /// The gateway's id, when it made the refund before we knew of it.
    pub gateway_id: Option<String>,
    /// How much.
    pub amount: d::Kopecks,
    /// Why.
    pub reason: String,
    /// Who started it.
    pub staff_id: Option<i64>,
    /// When.
    pub now: OffsetDateTime,
    /// When reconciliation first looks at it.
    pub first_check: OffsetDateTime,
}

impl TryFrom<card_refund::Model> for CardRefund {
    type Error = DbError;
    fn try_from(m: card_refund::Model) -> Result<CardRefund, DbError> {
        Ok(CardRefund {
            status: RefundStatus::from_stored(&m.status)
                .ok_or_else(|| corrupt("card_refunds", "status", &m.status))?,
            id: m.id,
            public_id: m.public_id,
            payment_id: d::CardPaymentId(m.payment_id),
            gateway_id: m.gateway_id,
            amount: d::Kopecks(m.amount),
            reason: m.reason,
            staff_id: m.staff_id,
            failure: m.failure,
            created_at: m.created_at,
            settled_at: m.settled_at,
        })
    }
}

const UNSETTLED: [&str; 2] = [RefundStatus::Created.as_str(), RefundStatus::Pending.as_str()];

/// Refunds (see [`crate::Repos::card_refunds`]).
pub struct CardRefunds<'a, C>(pub(crate) &'a C);

impl<C: Conn> CardRefunds<'_, C> {
    async fn list(&self, condition: Condition) -> Result<Vec<CardRefund>, DbError> {
        card_refund::Entity::find()
            .filter(condition)
            .order_by_asc(card_refund::Column::Id)
            .all(self.0.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Writes a new refund (`created`, or `pending` when the gateway's id is
    /// known already).
    pub async fn insert(&self, r: &NewCardRefund) -> Result<CardRefund, DbError> {
        let status = if r.gateway_id.is_some() {
            RefundStatus::Pending
        } else {
            RefundStatus::Created
        };
        let row = card_refund::ActiveModel {
            public_id: Set(r.public_id.clone()),
            payment_id: Set(r.payment_id.0),
            gateway_id: Set(r.gateway_id.clone()),
            status: Set(status.as_str().into()),
            amount: Set(r.amount.0),
            reason: Set(r.reason.chars().take(500).collect()),
            staff_id: Set(r.staff_id),
            failure: Set(None),
            created_at: Set(r.now),
            settled_at: Set(None),
            next_check_at: Set(Some(r.first_check)),
            checks: Set(0),
            ..Default::default()
        };
        card_refund::Entity::insert(row)
            .exec_with_returning(self.0.conn())
            .await?
            .try_into()
    }

    /// A payment's refunds, oldest first.
    pub async fn of_payment(&self, payment: d::CardPaymentId) -> Result<Vec<CardRefund>, DbError> {
        self.list(Condition::all().add(card_refund::Column::PaymentId.eq(payment.0)))
            .await
    }

    /// A refund by the gateway's id.
    pub async fn by_gateway_id(&self, gateway_id: &str) -> Result<Option<CardRefund>, DbError> {
        Ok(self
            .list(Condition::all().add(card_refund::Column::GatewayId.eq(gateway_id)))
            .await?
            .pop())
    }

    /// A refund by our id.
    pub async fn by_public_id(&self, public_id: &str) -> Result<Option<CardRefund>, DbError> {
        Ok(self
            .list(Condition::all().add(card_refund::Column::PublicId.eq(public_id)))
            .await?
            .pop())
    }

    /// The oldest refund of `payment` for `amount` the gateway has not
    /// given an id yet: a notification can overtake the answer to our call.
    pub async fn unanswered(
        &self,
        payment: d::CardPaymentId,
        amount: d::Kopecks,
    ) -> Result<Option<CardRefund>, DbError> {
        Ok(self
            .list(
                Condition::all()
                    .add(card_refund::Column::PaymentId.eq(payment.0))
                    .add(card_refund::Column::Amount.eq(amount.0))
                    .add(card_refund::Column::GatewayId.is_null())
                    .add(card_refund::Column::Status.eq(RefundStatus::Created.as_str())),
            )
            .await?
            .into_iter()
            .next())
    }

    /// What is refunded or on its way back of `payment`.
    pub async fn taken(&self, payment: d::CardPaymentId) -> Result<d::Kopecks, DbError> {
        let amounts: Vec<i64> = card_refund::Entity::find()
            .select_only()
            .column(card_refund::Column::Amount)
            .filter(card_refund::Column::PaymentId.eq(payment.0))
            .filter(card_refund::Column::Status.ne(RefundStatus::Canceled.as_str()))
            .into_tuple()
            .all(self.0.conn())
            .await?;
        Ok(d::Kopecks(amounts.into_iter().sum()))
    }

    /// Moves refund `id` to `to` if it is in a state allowed before it,
    /// recording the gateway's id (if it has none or the same) and why it
    /// failed; true if this call made the move.
    pub async fn transition(
        &self,
        id: i64,
        to: RefundStatus,
        gateway_id: Option<&str>,
        failure: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        use card_refund::Column as R;
        let from: Vec<&str> = to.predecessors().iter().map(|s| s.as_str()).collect();
        if from.is_empty() {
            return Ok(false);
        }
        let mut update = card_refund::Entity::update_many()
            .col_expr(R::Status, Expr::value(to.as_str()))
            .filter(R::Id.eq(id))
            .filter(R::Status.is_in(from));
        if let Some(g) = gateway_id {
            let kept = Func::coalesce([Expr::col(R::GatewayId), Expr::value(g)]);
            update = update.col_expr(R::GatewayId, kept.into()).filter(
                Condition::any()
                    .add(R::GatewayId.is_null())
                    .add(R::GatewayId.eq(g)),
            );
        }
        if let Some(f) = failure {
            update = update.col_expr(R::Failure, Expr::value(f.chars().take(500).collect::<String>()));
        }
        if to.is_final() {
            let none: Option<OffsetDateTime> = None;
            update = update
                .col_expr(R::SettledAt, Expr::value(now))
                .col_expr(R::NextCheckAt, Expr::value(none));
        }
        Ok(update.exec(self.0.conn()).await?.rows_affected == 1)
    }

    /// Adds a succeeded refund to its payment's refunded sum; the sum
    /// before it (the refunds are laid over the shares in that order).
    pub async fn add_refunded(
        &self,
        payment: d::CardPaymentId,
        amount: d::Kopecks,
    ) -> Result<d::Kopecks, DbError> {
        let sql = "UPDATE card_payments SET refunded = refunded + $1 WHERE id = $2 RETURNING refunded";
        let conn = self.0.conn();
        let row = sea_orm::ConnectionTrait::query_one_raw(
            conn,
            sea_orm::Statement::from_sql_and_values(
                sea_orm::ConnectionTrait::get_database_backend(conn),
                sql,
                [Value::BigInt(Some(amount.0)), Value::BigInt(Some(payment.0))],
            ),
        )
        .await?
        .ok_or_else(|| corrupt("card_payments", "id", payment.0))?;
        let after: i64 = row.try_get("", "refunded")?;
        Ok(d::Kopecks(after - amount.0))
    }

    /// Takes a succeeded refund back from the accounts: one negative row per
    /// account part, with the gateway's payment and refund ids (a part
    /// written before is left as it is).
    pub async fn debit(
        &self,
        p: &CardPayment,
        r: &CardRefund,
        gateway_refund_id: &str,
        parts: &[(d::AccountId, d::Kopecks)],
        at: OffsetDateTime,
    ) -> Result<(), DbError> {
        if parts.is_empty() || p.test {
            return Ok(());
        }
        let number = |a: d::AccountId| {
            p.shares
                .iter()
                .find(|s| s.account_id == a)
                .map_or_else(|| a.0.to_string(), |s| s.account.clone())
        };
        let rows = parts.iter().map(|(account, amount)| payment::ActiveModel {
            account_id: Set(account.0),
            source: Set(d::payment_source::PORTAL.into()),
            external_id: Set(format!("{}/{}", r.public_id, number(*account))),
            amount: Set(-amount.0),
            paid_at: Set(at),
            period: Set(None),
            export_run_id: Set(None),
            confirmed: Set(false),
            gateway_payment_id: Set(p.gateway_id.clone()),
            gateway_refund_id: Set(Some(gateway_refund_id.to_string())),
            ..Default::default()
        });
        crate::card_payments::insert_portal_rows(self.0, rows).await
    }

    /// Up to `limit` unsettled refunds due for a look at the gateway.
    pub async fn due(&self, now: OffsetDateTime, limit: u64) -> Result<Vec<(CardRefund, u32)>, DbError> {
        let rows = card_refund::Entity::find()
            .filter(card_refund::Column::Status.is_in(UNSETTLED))
            .filter(card_refund::Column::NextCheckAt.lte(now))
            .order_by_asc(card_refund::Column::NextCheckAt)
            .limit(limit)
            .all(self.0.conn())
            .await?;
        rows.into_iter()
            .map(|m| {
                let checks = u32::try_from(m.checks).unwrap_or(0);
                CardRefund::try_from(m).map(|r| (r, checks))
            })
            .collect()
    }

    /// When reconciliation looks at an unsettled refund next.
    pub async fn reschedule(&self, id: i64, checks: u32, next: OffsetDateTime) -> Result<(), DbError> {
        use card_refund::Column as R;
        card_refund::Entity::update_many()
            .col_expr(R::Checks, Expr::value(i32::try_from(checks).unwrap_or(i32::MAX)))
            .col_expr(R::NextCheckAt, Expr::value(next))
            .filter(R::Id.eq(id))
            .filter(R::Status.is_in(UNSETTLED))
            .exec(self.0.conn())
            .await?;
        Ok(())
    }

    /// Locks a payment's row until the transaction ends (PostgreSQL; a
    /// SQLite write transaction holds the whole database already), so two
    /// refunds of it are checked one after the other.
    pub async fn lock_payment(&self, payment: d::CardPaymentId) -> Result<(), DbError> {
        let mut q = card_payment::Entity::find_by_id(payment.0);
        if self.0.backend() == Backend::Postgres {
            q = q.lock_exclusive();
        }
        q.one(self.0.conn()).await?;
        Ok(())
    }
}
