//! The billing records Kabinet receives from the Organization's billing system and
//! shows to residents. Plain data: the db crate stores them, the demo generator and
//! importers produce them, pages render them.

use crate::{
    AccountId, AccountNumber, Area, Capacity, Kopecks, MeterId, MeterStatus, PayeeId, Period, PremisesId,
    Resource, ServiceId, Volume, VolumeMethod,
};
use time::{Date, OffsetDateTime};

/// The Organization running the portal: shown on pages and receipts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Organization {
    /// Full legal name.
    pub name: String,
    /// Short name for headers.
    pub short_name: String,
    /// ИНН.
    pub inn: String,
    /// КПП.
    pub kpp: String,
    /// ОГРН.
    pub ogrn: String,
    /// Postal address.
    pub address: String,
    /// Office phone.
    pub phone: String,
    /// Emergency dispatch (АДС) phone.
    pub dispatch_phone: String,
    /// Contact e-mail.
    pub email: String,
    /// Website.
    pub website: String,
}

/// Who receives the money for a service, with the bank details the payment QR
/// code needs (ГОСТ Р 56042: Name, PersonalAcc, BankName, BIC, CorrespAcc, PayeeINN, KPP).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Payee {
    /// Row id.
    pub id: PayeeId,
    /// Short code used by the billing system's files.
    pub code: String,
    /// Legal name.
    pub name: String,
    /// ИНН (10 or 12 digits).
    pub inn: String,
    /// КПП (9 digits), empty for a sole trader.
    pub kpp: String,
    /// Bank name.
    pub bank_name: String,
    /// БИК (9 digits).
    pub bic: String,
    /// Correspondent account (20 digits).
    pub correspondent_account: String,
    /// Settlement account (расчётный счёт, 20 digits).
    pub settlement_account: String,
}

/// Premises: a flat or a house at an address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Premises {
    /// Row id.
    pub id: PremisesId,
    /// Address of the building: `г. Тверь, ул. Советская, д. 12`.
    pub address: String,
    /// Flat number when the premises are a flat.
    pub flat: Option<String>,
    /// Total floor area.
    pub total_area: Area,
    /// Living area, when known.
    pub living_area: Option<Area>,
}

impl Premises {
    /// Address with the flat: `г. Тверь, ул. Советская, д. 12, кв. 5`.
    pub fn full_address(&self) -> String {
        full_address(&self.address, self.flat.as_deref())
    }
}

/// A building's address with the flat, as receipts write it (the address is
/// billing's data, in its language): `г. Тверь, ул. Советская, д. 12, кв. 5`.
pub fn full_address(address: &str, flat: Option<&str>) -> String {
    match flat {
        Some(flat) => format!("{address}, кв. {flat}"),
        None => address.to_string(),
    }
}

/// A personal account (лицевой счёт).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    /// Row id.
    pub id: AccountId,
    /// The number residents know.
    pub number: AccountNumber,
    /// The premises it is for.
    pub premises_id: PremisesId,
    /// Account holder's full name as the billing system has it.
    pub holder_name: String,
    /// Registered residents.
    pub residents: i32,
    /// ЕЛС in ГИС ЖКХ, when known.
    pub els: Option<String>,
    /// ИЖКУ in ГИС ЖКХ, when known.
    pub izhku: Option<String>,
    /// Opened on.
    pub opened_on: Date,
    /// Closed on, for closed accounts.
    pub closed_on: Option<Date>,
}

/// A service the Organization charges for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Service {
    /// Row id.
    pub id: ServiceId,
    /// Code used by the billing system's files.
    pub code: String,
    /// Name as printed on the receipt.
    pub name: String,
    /// Unit of the volume (м³, кВт·ч, м², чел.).
    pub unit: String,
    /// Who receives the money.
    pub payee_id: PayeeId,
    /// The metered resource, for metered services.
    pub resource: Option<Resource>,
    /// Tariff zone of the resource (1 = day or single, 2 = night, 3 = peak).
    pub zone: Option<u8>,
    /// Position on the receipt.
    pub sort_order: i32,
}

/// A billing period with its receipt and due dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BillingPeriod {
    /// The month.
    pub period: Period,
    /// When receipts were issued.
    pub issued_on: Date,
    /// Payment due by.
    pub due_date: Date,
}

/// One line of charges: account × period × service.
///
/// `total = charged + recalculation − benefits`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Charge {
    /// The account.
    pub account_id: AccountId,
    /// The month.
    pub period: Period,
    /// The service.
    pub service_id: ServiceId,
    /// Consumed volume, when the service is measured.
    pub volume: Option<Volume>,
    /// Unit of the volume.
    pub unit: String,
    /// Price per unit.
    pub tariff: Option<Kopecks>,
    /// Charged for the volume.
    pub charged: Kopecks,
    /// Recalculation (+ more to pay, − returned).
    pub recalculation: Kopecks,
    /// Benefits and subsidies (a positive amount is subtracted).
    pub benefits: Kopecks,
    /// What the line adds to the bill.
    pub total: Kopecks,
    /// How the volume was determined.
    pub method: VolumeMethod,
}

/// The bill of one account for one period.
///
/// `total_due = opening_balance + charged + penalties − paid`; a positive opening
/// balance is a debt, a negative one an advance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Invoice {
    /// The account.
    pub account_id: AccountId,
    /// The month billed.
    pub period: Period,
    /// Receipt number.
    pub number: String,
    /// Debt (+) or advance (−) at the start of the period.
    pub opening_balance: Kopecks,
    /// Sum of the period's charge totals.
    pub charged: Kopecks,
    /// Payments received during the period.
    pub paid: Kopecks,
    /// Penalties (пени).
    pub penalties: Kopecks,
    /// Total to pay (negative: an advance remains).
    pub total_due: Kopecks,
    /// Payment due by.
    pub due_date: Date,
}

impl Invoice {
    /// Whether the total follows from its parts.
    pub fn is_consistent(&self) -> bool {
        self.total_due == self.opening_balance + self.charged + self.penalties - self.paid
    }
}

/// Where a payment came from.
pub mod payment_source {
    /// Paid by card through the portal.
    pub const PORTAL: &str = "portal";
    /// A bank's payment registry.
    pub const BANK: &str = "bank";
    /// The Organization's cash desk.
    pub const CASH: &str = "cash";
    /// Post office.
    pub const POST: &str = "post";
}

/// A payment credited to an account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Payment {
    /// The account.
    pub account_id: AccountId,
    /// Channel, see [`payment_source`].
    pub source: String,
    /// Id in that channel; unique per source.
    pub external_id: String,
    /// Amount paid.
    pub amount: Kopecks,
    /// When it was paid.
    #[serde(with = "time::serde::rfc3339")]
    pub paid_at: OffsetDateTime,
    /// The period the payer named, if any.
    pub period: Option<Period>,
    /// Reported by the billing system (false for a card payment made in
    /// Kabinet until an import includes it).
    pub confirmed: bool,
}

/// A meter installed at the account's premises.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Meter {
    /// Row id.
    pub id: MeterId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Serial number.
    pub serial: String,
    /// What it measures.
    pub resource: Resource,
    /// Where it is (kitchen, bathroom, …).
    pub location: String,
    /// Tariff zones, 1–4.
    pub tariffs: u8,
    /// Digit capacity.
    pub capacity: Capacity,
    /// Multiplier applied to the counter (transformer meters), usually 1.
    pub scale: i32,
    /// Installed on.
    pub installed_on: Date,
    /// Next verification (поверка) due.
    pub verification_due: Date,
    /// In use or archived.
    pub status: MeterStatus,
}

/// Who handed in a reading.
pub mod reading_source {
    /// Came from the billing system.
    pub const BILLING: &str = "billing";
    /// Submitted by the resident in the portal or app.
    pub const PORTAL: &str = "portal";
    /// Taken by a controller at an inspection.
    pub const INSPECTION: &str = "inspection";
}

/// One reading of one tariff zone of a meter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reading {
    /// The meter.
    pub meter_id: MeterId,
    /// Tariff zone, 1–4.
    pub zone: u8,
    /// Counter value, scaled by the meter's fraction digits.
    pub value: i64,
    /// The day the reading was taken.
    pub taken_on: Date,
    /// Who handed it in, see [`reading_source`].
    pub source: String,
    /// When Kabinet received it.
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InvoiceStatus;
    use time::macros::date;

    fn invoice(total: i64) -> Invoice {
        Invoice {
            account_id: AccountId(1),
            period: Period::new(2026, 10).unwrap(),
            number: "1".into(),
            opening_balance: Kopecks(1000),
            charged: Kopecks(total - 500),
            paid: Kopecks(500),
            penalties: Kopecks::ZERO,
            total_due: Kopecks(total),
            due_date: date!(2026 - 11 - 15),
        }
    }

    /// The status rule (in `portal`) applied to an invoice.
    fn status(inv: &Invoice, paid: i64, today: time::Date) -> InvoiceStatus {
        InvoiceStatus::of(inv.total_due, Kopecks(paid), inv.due_date, today)
    }

    #[test]
    fn invoice_status_and_consistency() {
        let inv = invoice(10_000);
        assert!(inv.is_consistent());
        let before = date!(2026 - 11 - 10);
        let after = date!(2026 - 11 - 16);
        assert_eq!(status(&inv, 0, before), InvoiceStatus::Unpaid);
        assert_eq!(status(&inv, 1, before), InvoiceStatus::PartlyPaid);
        assert_eq!(status(&inv, 10_000, after), InvoiceStatus::Paid);
        assert_eq!(status(&inv, 9_999, after), InvoiceStatus::Overdue);
        assert_eq!(status(&invoice(-5), 0, after), InvoiceStatus::Paid);
    }
}
