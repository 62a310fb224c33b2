//! Records of the billing data exchange: what one line of an exchange file says,
//! after parsing. References to other records are by their natural keys
//! (account number, service code, payee code, meter serial), which the storage
//! layer resolves.

use crate::{AccountNumber, Area, Capacity, Kopecks, MeterStatus, Period, Resource, Volume, VolumeMethod};
use time::{Date, OffsetDateTime};

/// A payee (`payees.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayeeRecord {
    /// Natural key.
    pub code: String,
    /// Legal name.
    pub name: String,
    /// ИНН.
    pub inn: String,
    /// КПП.
    pub kpp: String,
    /// Bank name.
    pub bank_name: String,
    /// БИК.
    pub bic: String,
    /// Correspondent account.
    pub correspondent_account: String,
    /// Settlement account.
    pub settlement_account: String,
}

/// A service (`services.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// Natural key.
    pub code: String,
    /// Name on the receipt.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Payee's code.
    pub payee: String,
    /// Metered resource.
    pub resource: Option<Resource>,
    /// Tariff zone.
    pub zone: Option<u8>,
    /// Receipt order.
    pub sort_order: i32,
}

/// An account with its premises (`accounts.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Natural key.
    pub number: AccountNumber,
    /// Building address.
    pub address: String,
    /// Flat.
    pub flat: Option<String>,
    /// Total area.
    pub total_area: Area,
    /// Living area.
    pub living_area: Option<Area>,
    /// Holder's name.
    pub holder_name: String,
    /// Registered residents.
    pub residents: i32,
    /// ЕЛС.
    pub els: Option<String>,
    /// ИЖКУ.
    pub izhku: Option<String>,
    /// Opened on.
    pub opened_on: Date,
    /// Closed on.
    pub closed_on: Option<Date>,
}

/// A meter (`meters.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterRecord {
    /// Account it belongs to.
    pub account: AccountNumber,
    /// Serial, unique within the account.
    pub serial: String,
    /// Resource.
    pub resource: Resource,
    /// Location.
    pub location: String,
    /// Tariff zones.
    pub tariffs: u8,
    /// Digit capacity.
    pub capacity: Capacity,
    /// Multiplier.
    pub scale: i32,
    /// Installed on.
    pub installed_on: Date,
    /// Verification due.
    pub verification_due: Date,
    /// Status.
    pub status: MeterStatus,
}

/// A meter reading (`readings.csv`). The value is kept with four decimals
/// (`value_e4 = value × 10 000`) until the meter's capacity is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingRecord {
    /// Account.
    pub account: AccountNumber,
    /// Meter serial.
    pub meter: String,
    /// Tariff zone.
    pub zone: u8,
    /// Value × 10 000.
    pub value_e4: i64,
    /// Day taken.
    pub taken_on: Date,
    /// Who handed it in.
    pub source: String,
    /// When it reached the billing system or Kabinet; the import time when not given.
    pub submitted_at: Option<OffsetDateTime>,
}

/// A charge line (`charges.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRecord {
    /// Account.
    pub account: AccountNumber,
    /// Period.
    pub period: Period,
    /// Service code.
    pub service: String,
    /// Volume.
    pub volume: Option<Volume>,
    /// Unit.
    pub unit: String,
    /// Tariff.
    pub tariff: Option<Kopecks>,
    /// Charged.
    pub charged: Kopecks,
    /// Recalculation.
    pub recalculation: Kopecks,
    /// Benefits.
    pub benefits: Kopecks,
    /// Total.
    pub total: Kopecks,
    /// Method.
    pub method: VolumeMethod,
}

/// An invoice (`invoices.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRecord {
    /// Account.
    pub account: AccountNumber,
    /// Period.
    pub period: Period,
    /// Receipt number.
    pub number: String,
    /// Opening balance.
    pub opening_balance: Kopecks,
    /// Charged.
    pub charged: Kopecks,
    /// Paid.
    pub paid: Kopecks,
    /// Penalties.
    pub penalties: Kopecks,
    /// Total due.
    pub total_due: Kopecks,
    /// Due date.
    pub due_date: Date,
}

/// A payment made through another channel (`payments.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// Account.
    pub account: AccountNumber,
    /// Channel.
    pub source: String,
    /// Id in the channel.
    pub external_id: String,
    /// Amount.
    pub amount: Kopecks,
    /// When.
    pub paid_at: OffsetDateTime,
    /// Period named by the payer.
    pub period: Option<Period>,
}
