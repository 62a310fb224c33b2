//! Row → domain conversions. A stored value that does not parse is reported as
//! [`DbError::Corrupt`] instead of being guessed at.

use crate::DbError;
use crate::entities::*;
use kabinet_domain as d;

pub(crate) fn corrupt(table: &'static str, column: &'static str, value: impl ToString) -> DbError {
    DbError::Corrupt {
        table,
        column,
        value: value.to_string(),
    }
}

pub(crate) fn period(table: &'static str, v: i32) -> Result<d::Period, DbError> {
    d::Period::from_yyyymm(v).map_err(|_| corrupt(table, "period", v))
}

impl TryFrom<account::Model> for d::Account {
    type Error = DbError;
    fn try_from(m: account::Model) -> Result<Self, DbError> {
        Ok(d::Account {
            id: d::AccountId(m.id),
            number: d::AccountNumber::parse(&m.number)
                .map_err(|_| corrupt("accounts", "number", &m.number))?,
            premises_id: d::PremisesId(m.premises_id),
            holder_name: m.holder_name,
            residents: m.residents,
            els: m.els,
            izhku: m.izhku,
            opened_on: m.opened_on,
            closed_on: m.closed_on,
        })
    }
}

impl From<premises::Model> for d::Premises {
    fn from(m: premises::Model) -> Self {
        d::Premises {
            id: d::PremisesId(m.id),
            address: m.address,
            flat: m.flat,
            total_area: d::Area(m.total_area),
            living_area: m.living_area.map(d::Area),
        }
    }
}

impl From<organization::Model> for d::Organization {
    fn from(m: organization::Model) -> Self {
        d::Organization {
            name: m.name,
            short_name: m.short_name,
            inn: m.inn,
            kpp: m.kpp,
            ogrn: m.ogrn,
            address: m.address,
            phone: m.phone,
            dispatch_phone: m.dispatch_phone,
            email: m.email,
            website: m.website,
        }
    }
}

impl From<payee::Model> for d::Payee {
    fn from(m: payee::Model) -> Self {
        d::Payee {
            id: d::PayeeId(m.id),
            code: m.code,
            name: m.name,
            inn: m.inn,
            kpp: m.kpp,
            bank_name: m.bank_name,
            bic: m.bic,
            correspondent_account: m.correspondent_account,
            settlement_account: m.settlement_account,
        }
    }
}

impl TryFrom<service::Model> for d::Service {
    type Error = DbError;
    fn try_from(m: service::Model) -> Result<Self, DbError> {
        let resource = match &m.resource {
            Some(code) => {
                Some(d::Resource::from_code(code).ok_or_else(|| corrupt("services", "resource", code))?)
            }
            None => None,
        };
        let zone = match m.zone {
            Some(z) => Some(u8::try_from(z).map_err(|_| corrupt("services", "zone", z))?),
            None => None,
        };
        Ok(d::Service {
            id: d::ServiceId(m.id),
            code: m.code,
            name: m.name,
            unit: m.unit,
            payee_id: d::PayeeId(m.payee_id),
            resource,
            zone,
            sort_order: m.sort_order,
        })
    }
}

impl TryFrom<billing_period::Model> for d::BillingPeriod {
    type Error = DbError;
    fn try_from(m: billing_period::Model) -> Result<Self, DbError> {
        Ok(d::BillingPeriod {
            period: period("billing_periods", m.period)?,
            issued_on: m.issued_on,
            due_date: m.due_date,
        })
    }
}

impl TryFrom<charge::Model> for d::Charge {
    type Error = DbError;
    fn try_from(m: charge::Model) -> Result<Self, DbError> {
        Ok(d::Charge {
            account_id: d::AccountId(m.account_id),
            period: period("charges", m.period)?,
            service_id: d::ServiceId(m.service_id),
            volume: m.volume.map(d::Volume),
            unit: m.unit,
            tariff: m.tariff.map(d::Kopecks),
            charged: d::Kopecks(m.charged),
            recalculation: d::Kopecks(m.recalculation),
            benefits: d::Kopecks(m.benefits),
            total: d::Kopecks(m.total),
            method: d::VolumeMethod::from_code(&m.method)
                .ok_or_else(|| corrupt("charges", "method", &m.method))?,
        })
    }
}

impl TryFrom<invoice::Model> for d::Invoice {
    type Error = DbError;
    fn try_from(m: invoice::Model) -> Result<Self, DbError> {
        Ok(d::Invoice {
            account_id: d::AccountId(m.account_id),
            period: period("invoices", m.period)?,
            number: m.number,
            opening_balance: d::Kopecks(m.opening_balance),
            charged: d::Kopecks(m.charged),
            paid: d::Kopecks(m.paid),
            penalties: d::Kopecks(m.penalties),
            total_due: d::Kopecks(m.total_due),
            due_date: m.due_date,
        })
    }
}

impl TryFrom<payment::Model> for d::Payment {
    type Error = DbError;
    fn try_from(m: payment::Model) -> Result<Self, DbError> {
        Ok(d::Payment {
            account_id: d::AccountId(m.account_id),
            source: m.source,
            external_id: m.external_id,
            amount: d::Kopecks(m.amount),
            paid_at: m.paid_at,
            period: m.period.map(|p| period("payments", p)).transpose()?,
            confirmed: m.confirmed,
        })
    }
}

impl TryFrom<meter::Model> for d::Meter {
    type Error = DbError;
    fn try_from(m: meter::Model) -> Result<Self, DbError> {
        let digits = |v: i16, col| u8::try_from(v).map_err(|_| corrupt("meters", col, v));
        Ok(d::Meter {
            id: d::MeterId(m.id),
            account_id: d::AccountId(m.account_id),
            serial: m.serial,
            resource: d::Resource::from_code(&m.resource)
                .ok_or_else(|| corrupt("meters", "resource", &m.resource))?,
            location: m.location,
            tariffs: digits(m.tariffs, "tariffs")?,
            capacity: d::Capacity::new(
                digits(m.integer_digits, "integer_digits")?,
                digits(m.fraction_digits, "fraction_digits")?,
            )
            .map_err(|_| corrupt("meters", "integer_digits", m.integer_digits))?,
            scale: m.scale,
            installed_on: m.installed_on,
            verification_due: m.verification_due,
            status: d::MeterStatus::from_code(&m.status)
                .ok_or_else(|| corrupt("meters", "status", &m.status))?,
        })
    }
}

impl TryFrom<meter_reading::Model> for d::Reading {
    type Error = DbError;
    fn try_from(m: meter_reading::Model) -> Result<Self, DbError> {
        Ok(d::Reading {
            meter_id: d::MeterId(m.meter_id),
            zone: u8::try_from(m.zone).map_err(|_| corrupt("meter_readings", "zone", m.zone))?,
            value: m.value,
            taken_on: m.taken_on,
            source: m.source,
            submitted_at: m.submitted_at,
        })
    }
}
