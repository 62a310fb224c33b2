//! The figures of the office's home page: residents, today's card payments,
//! requests by desk, readings handed in this period and the last billing
//! exchange.

use crate::entities::{card_payment, exchange_run, meter, meter_reading, request, user};
use crate::exchange::ExchangeRun;
use crate::{Conn, DbError};
use kabinet_domain as d;
use kabinet_domain::requests::{Desk, RequestStatus};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use time::OffsetDateTime;

/// The office's figures (see [`crate::Repos::office`]).
pub struct Office<'a, C>(pub(crate) &'a C);

impl<C: Conn> Office<'_, C> {
    /// Residents registered in all, and since `since`.
    pub async fn residents(&self, since: OffsetDateTime) -> Result<(u64, u64), DbError> {
        let all = user::Entity::find().count(self.0.conn()).await?;
        let recent = user::Entity::find()
            .filter(user::Column::CreatedAt.gte(since))
            .count(self.0.conn())
            .await?;
        Ok((all, recent))
    }

    /// Accounts with a reading handed in through the portal for `period`,
    /// and accounts with an active meter. The first reads the readings of
    /// one period by `ix_meter_readings_period_meter`, the second
    /// `ix_meters_status_account` alone.
    pub async fn readings(&self, period: d::Period) -> Result<(u64, u64), DbError> {
        use sea_orm::sea_query::{Expr, Func};
        let count = |n: Option<i64>| u64::try_from(n.unwrap_or(0)).unwrap_or(0);
        let read: Option<i64> = meter_reading::Entity::find()
            .select_only()
            .expr_as(
                Func::count_distinct(Expr::col((meter::Entity, meter::Column::AccountId))),
                "n",
            )
            .join(
                sea_orm::JoinType::InnerJoin,
                meter_reading::Entity::belongs_to(meter::Entity)
                    .from(meter_reading::Column::MeterId)
                    .to(meter::Column::Id)
                    .into(),
            )
            .filter(meter_reading::Column::Period.eq(period.yyyymm()))
            .into_tuple()
            .one(self.0.conn())
            .await?;
        let with_meters: Option<i64> = meter::Entity::find()
            .select_only()
            .expr_as(Func::count_distinct(Expr::col(meter::Column::AccountId)), "n")
            .filter(meter::Column::Status.eq(d::MeterStatus::Active.code()))
            .into_tuple()
            .one(self.0.conn())
            .await?;
        Ok((count(read), count(with_meters)))
    }

    /// Real (not test) card payments that succeeded since `since`: how many
    /// and their sum.
    pub async fn card_payments_since(&self, since: OffsetDateTime) -> Result<(u64, d::Kopecks), DbError> {
        use card_payment::Column as P;
        let row: Option<(i64, Option<i64>)> = card_payment::Entity::find()
            .select_only()
            .column_as(P::Id.count(), "n")
            .column_as(P::Amount.sum(), "total")
            .filter(P::Status.eq(d::payments::CardPaymentStatus::Succeeded.as_str()))
            .filter(P::Test.eq(false))
            .filter(P::SettledAt.gte(since))
            .into_tuple()
            .one(self.0.conn())
            .await?;
        let (n, total) = row.unwrap_or((0, None));
        Ok((u64::try_from(n).unwrap_or(0), d::Kopecks(total.unwrap_or(0))))
    }

    /// Requests of `desk` (in `buildings`, when given) still open, and of
    /// those past their deadline at `now`.
    pub async fn requests(
        &self,
        desk: Desk,
        buildings: Option<&[String]>,
        now: OffsetDateTime,
    ) -> Result<(u64, u64), DbError> {
        use request::Column as R;
        let scope = match buildings {
            Some(b) => sea_orm::Condition::all().add(crate::requests::in_buildings(b)),
            None => sea_orm::Condition::all(),
        };
        let open = [RequestStatus::New, RequestStatus::InWork, RequestStatus::Deferred];
        let open = request::Entity::find()
            .filter(scope.clone())
            .filter(R::Desk.eq(desk.as_str()))
            .filter(R::Status.is_in(open.iter().map(|s| s.as_str())))
            .count(self.0.conn())
            .await?;
        let overdue = request::Entity::find()
            .filter(scope)
            .filter(R::Desk.eq(desk.as_str()))
            .filter(R::Status.is_in([RequestStatus::New.as_str(), RequestStatus::InWork.as_str()]))
            .filter(R::DueAt.lt(now))
            .count(self.0.conn())
            .await?;
        Ok((open, overdue))
    }

    /// The newest import run and the newest export run.
    pub async fn last_exchange(&self) -> Result<(Option<ExchangeRun>, Option<ExchangeRun>), DbError> {
        let newest = |direction: &'static str| {
            exchange_run::Entity::find()
                .filter(exchange_run::Column::Direction.eq(direction))
                .order_by_desc(exchange_run::Column::Id)
                .limit(1)
        };
        let import = newest("import").one(self.0.conn()).await?.map(ExchangeRun::from);
        let export = newest("export").one(self.0.conn()).await?.map(ExchangeRun::from);
        Ok((import, export))
    }
}
