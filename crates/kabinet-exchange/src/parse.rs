//! Turning one CSV line into a record of its kind, with a plain-language
//! message for every bad cell.

use crate::ImportKind;
use kabinet_domain::records::*;
use kabinet_domain::{
    AccountNumber, Area, Capacity, Els, Izhku, Kopecks, MeterStatus, Period, Resource, Volume, VolumeMethod,
};
use std::collections::HashMap;
use std::fmt::Display;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A bad cell or line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line of the file (the header is line 1).
    pub line: u64,
    /// Column name, empty for the whole line.
    pub column: String,
    /// What is wrong, in Russian.
    pub message: String,
}

/// Required and optional columns of each kind, in documented order.
pub fn columns(kind: ImportKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        ImportKind::Payees => (
            &[
                "code",
                "name",
                "inn",
                "bank_name",
                "bic",
                "correspondent_account",
                "settlement_account",
            ],
            &["kpp"],
        ),
        ImportKind::Services => (
            &["code", "name", "unit", "payee"],
            &["resource", "zone", "sort_order"],
        ),
        ImportKind::Accounts => (
            &["account", "address", "total_area", "holder", "residents"],
            &["flat", "living_area", "els", "izhku", "opened_on", "closed_on"],
        ),
        ImportKind::Meters => (
            &[
                "account",
                "serial",
                "resource",
                "integer_digits",
                "fraction_digits",
                "verification_due",
            ],
            &["location", "tariffs", "scale", "installed_on", "status"],
        ),
        ImportKind::Readings => (
            &["account", "meter", "value", "taken_on"],
            &["zone", "source", "submitted_at"],
        ),
        ImportKind::Charges => (
            &["account", "period", "service", "charged"],
            &[
                "volume",
                "unit",
                "tariff",
                "recalculation",
                "benefits",
                "total",
                "method",
            ],
        ),
        ImportKind::Invoices => (
            &[
                "account",
                "period",
                "opening_balance",
                "charged",
                "paid",
                "total_due",
                "due_date",
            ],
            &["number", "penalties"],
        ),
        ImportKind::Payments => (
            &["account", "source", "external_id", "amount", "paid_at"],
            &["period"],
        ),
    }
}

/// The longest value a text column takes, in characters (docs/exchange.md).
/// Each limit is what the portal, the receipt and its QR code can show, and
/// no more than the database column holds.
pub fn max_len(column: &str) -> usize {
    match column {
        // Payee name: the QR code's mandatory Name holds 160.
        "name" => 160,
        "bank_name" => 200,
        "address" => 200,
        "holder" => 150,
        "location" => 64,
        "external_id" => 64,
        "code" | "payee" | "service" | "serial" | "meter" | "number" => 32,
        "flat" | "unit" | "source" => 16,
        _ => 32,
    }
}

/// Where each column is in the file.
pub struct Header {
    index: HashMap<String, usize>,
    /// Columns the file has that the kind does not use.
    pub ignored: Vec<String>,
}

impl Header {
    /// Maps the header row; reports missing required columns.
    pub fn new(kind: ImportKind, header: &csv::StringRecord) -> Result<Header, Vec<Problem>> {
        let (required, optional) = columns(kind);
        let mut index = HashMap::new();
        let mut ignored = Vec::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
            if required.contains(&name.as_str()) || optional.contains(&name.as_str()) {
                index.insert(name, i);
            } else if !name.is_empty() {
                ignored.push(name);
            }
        }
        let missing: Vec<Problem> = required
            .iter()
            .filter(|c| !index.contains_key(**c))
            .map(|c| Problem {
                line: 1,
                column: (*c).to_string(),
                message: format!("в заголовке нет обязательного столбца «{c}»"),
            })
            .collect();
        if missing.is_empty() {
            Ok(Header { index, ignored })
        } else {
            Err(missing)
        }
    }
}

/// One line being parsed: collects problems instead of stopping at the first.
pub struct Line<'a> {
    record: &'a csv::StringRecord,
    header: &'a Header,
    line: u64,
    offset: UtcOffset,
    /// Problems found so far.
    pub problems: Vec<Problem>,
}

impl<'a> Line<'a> {
    /// Starts parsing a record found at `line`.
    pub fn new(record: &'a csv::StringRecord, header: &'a Header, line: u64, offset: UtcOffset) -> Line<'a> {
        Line {
            record,
            header,
            line,
            offset,
            problems: Vec::new(),
        }
    }

    fn raw(&self, col: &str) -> &'a str {
        self.header
            .index
            .get(col)
            .and_then(|&i| self.record.get(i))
            .map(str::trim)
            .unwrap_or("")
    }

    fn problem(&mut self, col: &str, message: impl Display) {
        self.problems.push(Problem {
            line: self.line,
            column: col.to_string(),
            message: message.to_string(),
        });
    }

    /// A text cell that must be filled in and fit [`max_len`].
    fn text(&mut self, col: &str) -> String {
        let v = self.raw(col);
        if v.is_empty() {
            self.problem(col, "значение не указано");
        }
        self.fits(col, v);
        v.to_string()
    }

    /// A text cell that may be empty and must fit [`max_len`].
    fn opt_text(&mut self, col: &str) -> Option<String> {
        let v = self.raw(col);
        self.fits(col, v);
        (!v.is_empty()).then(|| v.to_string())
    }

    fn fits(&mut self, col: &str, v: &str) {
        let max = max_len(col);
        let len = v.chars().count();
        if len > max {
            self.problem(
                col,
                format!(
                    "значение длиннее {max} символов ({len}): так его не показать в квитанции и кабинете"
                ),
            );
        }
    }

    /// A required cell parsed with `f`; `default` when unusable (a problem is recorded).
    fn req<T, E: Display>(&mut self, col: &str, default: T, f: impl Fn(&str) -> Result<T, E>) -> T {
        let v = self.raw(col);
        if v.is_empty() {
            self.problem(col, "значение не указано");
            return default;
        }
        match f(v) {
            Ok(x) => x,
            Err(e) => {
                self.problem(col, e);
                default
            }
        }
    }

    /// An optional cell parsed with `f`.
    fn opt<T, E: Display>(&mut self, col: &str, f: impl Fn(&str) -> Result<T, E>) -> Option<T> {
        let v = self.raw(col);
        if v.is_empty() {
            return None;
        }
        match f(v) {
            Ok(x) => Some(x),
            Err(e) => {
                self.problem(col, e);
                None
            }
        }
    }

    fn account(&mut self) -> AccountNumber {
        let fallback = AccountNumber::parse("0").unwrap_or_else(|_| unreachable_account());
        self.req("account", fallback, AccountNumber::parse)
    }

    fn money(&mut self, col: &str) -> Kopecks {
        self.req(col, Kopecks::ZERO, Kopecks::parse)
    }

    fn opt_money(&mut self, col: &str) -> Option<Kopecks> {
        self.opt(col, Kopecks::parse)
    }

    fn date(&mut self, col: &str) -> Date {
        self.req(col, Date::MIN, parse_date)
    }

    fn int<T: std::str::FromStr>(&mut self, col: &str, default: T, what: &str) -> T {
        let msg = format!("ожидается {what}");
        self.req(col, default, |s| s.parse::<T>().map_err(|_| msg.clone()))
    }

    fn opt_int<T: std::str::FromStr>(&mut self, col: &str, what: &str) -> Option<T> {
        let msg = format!("ожидается {what}");
        self.opt(col, |s| s.parse::<T>().map_err(|_| msg.clone()))
    }

    fn digits(&mut self, col: &str, len: &[usize]) -> String {
        let v = self.text(col);
        if !v.is_empty() && (!len.contains(&v.len()) || !v.chars().all(|c| c.is_ascii_digit())) {
            let lens = len.iter().map(usize::to_string).collect::<Vec<_>>().join(" или ");
            self.problem(col, format!("ожидается {lens} цифр"));
        }
        v
    }
}

#[cold]
fn unreachable_account() -> AccountNumber {
    panic!("\"0\" is a valid account number")
}

/// What an optional date that was not given is stored as (`0001-01-01`):
/// an account's opening day or a meter's installation day the billing system
/// did not send. Both databases hold it (PostgreSQL has no year −9999).
pub const UNKNOWN_DATE: Date = time::macros::date!(0001 - 01 - 01);

/// Parses `DD.MM.YYYY` or `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let bad = || format!("дата «{s}» не распознана: ожидается ДД.ММ.ГГГГ или ГГГГ-ММ-ДД");
    let (y, m, d) = if let Some((d, rest)) = s.split_once('.') {
        let (m, y) = rest.split_once('.').ok_or_else(bad)?;
        (y, m, d)
    } else {
        let mut it = s.splitn(3, '-');
        let (y, m, d) = (
            it.next().ok_or_else(bad)?,
            it.next().ok_or_else(bad)?,
            it.next().ok_or_else(bad)?,
        );
        (y, m, d)
    };
    if y.len() != 4 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    let d: u8 = d.parse().map_err(|_| bad())?;
    let month = Month::try_from(m).map_err(|_| bad())?;
    Date::from_calendar_date(y, month, d).map_err(|_| format!("даты «{s}» не существует"))
}

/// Parses a date and time: `DD.MM.YYYY HH:MM[:SS]` or ISO 8601 (`T` or space,
/// optional `Z`/`±HH:MM`). Without an offset, `offset` (the Organization's) applies.
pub fn parse_datetime(s: &str, offset: UtcOffset) -> Result<OffsetDateTime, String> {
    let bad =
        || format!("дата и время «{s}» не распознаны: ожидается ДД.ММ.ГГГГ ЧЧ:ММ или ГГГГ-ММ-ДДTЧЧ:ММ:СС");
    let (date, rest) = s.split_once([' ', 'T']).ok_or_else(bad)?;
    let date = parse_date(date).map_err(|_| bad())?;
    let rest = rest.trim();
    let (clock, tz) = if let Some(c) = rest.strip_suffix('Z') {
        (c, Some(UtcOffset::UTC))
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (c, z) = rest.split_at(pos);
        let sign: i8 = if z.starts_with('-') { -1 } else { 1 };
        let (h, m) = z[1..].split_once(':').unwrap_or((&z[1..], "0"));
        let h: i8 = h.parse().map_err(|_| bad())?;
        let m: i8 = m.parse().map_err(|_| bad())?;
        (
            c,
            Some(UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| bad())?),
        )
    } else {
        (rest, None)
    };
    let mut parts = clock.split(':');
    let h: u8 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let m: u8 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let (sec, nano) = match parts.next() {
        Some(sec) => {
            let (w, f) = sec.split_once('.').unwrap_or((sec, ""));
            let w: u8 = w.parse().map_err(|_| bad())?;
            if !f.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let f = format!("{:0<9}", &f[..f.len().min(9)]);
            (w, f.parse::<u32>().map_err(|_| bad())?)
        }
        None => (0, 0),
    };
    let time = Time::from_hms_nano(h, m, sec, nano).map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, time)
        .assume_offset(tz.unwrap_or(offset))
        .to_offset(UtcOffset::UTC))
}

/// Parses a reading value into ten-thousandths (four decimals at most).
fn value_e4(s: &str) -> Result<i64, String> {
    let cap = Capacity::new(9, 4).map_err(|e| e.to_string())?;
    cap.parse_reading(s)
        .map(|v| v.scaled())
        .map_err(|e| e.to_string())
}

fn resource(s: &str) -> Result<Resource, String> {
    Resource::from_code(&s.to_ascii_lowercase()).ok_or_else(|| {
        format!("неизвестный ресурс «{s}»: ожидается cold_water, hot_water, electricity, heat или gas")
    })
}

fn period(s: &str) -> Result<Period, String> {
    Period::parse(s).map_err(|e| e.to_string())
}

/// A record of any kind.
#[derive(Debug, Clone)]
pub enum Record {
    /// `payees.csv`
    Payee(PayeeRecord),
    /// `services.csv`
    Service(ServiceRecord),
    /// `accounts.csv`
    Account(AccountRecord),
    /// `meters.csv`
    Meter(MeterRecord),
    /// `readings.csv`
    Reading(ReadingRecord),
    /// `charges.csv`
    Charge(ChargeRecord),
    /// `invoices.csv`
    Invoice(InvoiceRecord),
    /// `payments.csv`
    Payment(PaymentRecord),
}

impl Line<'_> {
    /// A payee: its INN with check digits, its accounts keyed against its BIC
    /// (a wrong digit there sends residents' money nowhere).
    fn payee(&mut self) -> PayeeRecord {
        use kabinet_domain::organization::{
            account_valid, bic_valid, correspondent_valid, inn_valid, kpp_valid,
        };
        let p = PayeeRecord {
                code: self.text("code"),
                name: self.text("name"),
                inn: self.digits("inn", &[10, 12]),
                kpp: self
                    .opt("kpp", |s| {
                        if kpp_valid(s) {
                            Ok(s.to_string())
                        } else {
                            Err("КПП: 9 знаков — четыре цифры, две цифры или заглавные латинские буквы, три цифры")
                        }
                    })
                    .unwrap_or_default(),
                bank_name: self.text("bank_name"),
                bic: self.digits("bic", &[9]),
                correspondent_account: self.digits("correspondent_account", &[20]),
                settlement_account: self.digits("settlement_account", &[20]),
            };
        if p.inn.len() >= 10 && p.inn.chars().all(|c| c.is_ascii_digit()) && !inn_valid(&p.inn) {
            self.problem("inn", "ИНН с неверными контрольными цифрами");
        }
        if bic_valid(&p.bic) {
            if p.settlement_account.len() == 20 && !account_valid(&p.bic, &p.settlement_account) {
                self.problem(
                    "settlement_account",
                    "расчётный счёт не сходится с БИК (неверный контрольный ключ)",
                );
            }
            if p.correspondent_account.len() == 20 && !correspondent_valid(&p.bic, &p.correspondent_account) {
                self.problem(
                    "correspondent_account",
                    "корреспондентский счёт не сходится с БИК",
                );
            }
        }
        p
    }

    /// Parses the line as `kind`; `None` when it has problems (see `problems`).
    pub fn parse(&mut self, kind: ImportKind) -> Option<Record> {
        let record = match kind {
            ImportKind::Payees => Record::Payee(self.payee()),
            ImportKind::Services => Record::Service(ServiceRecord {
                code: self.text("code"),
                name: self.text("name"),
                unit: self.text("unit"),
                payee: self.text("payee"),
                resource: self.opt("resource", resource),
                zone: self
                    .opt_int("zone", "номер тарифной зоны 1–3")
                    .filter(|z| (1..=3).contains(z)),
                sort_order: self.opt_int("sort_order", "целое число").unwrap_or(0),
            }),
            ImportKind::Accounts => {
                let els = self.opt("els", |s| Els::parse(s).map(|e| e.as_str().to_string()));
                let izhku = self.opt("izhku", |s| Izhku::parse(s).map(|e| e.as_str().to_string()));
                Record::Account(AccountRecord {
                    number: self.account(),
                    address: self.text("address"),
                    flat: self.opt_text("flat"),
                    total_area: self.req("total_area", Area(0), Area::parse),
                    living_area: self.opt("living_area", Area::parse),
                    holder_name: self.text("holder"),
                    residents: self.int("residents", 0, "число проживающих"),
                    els,
                    izhku,
                    opened_on: self.opt("opened_on", parse_date).unwrap_or(UNKNOWN_DATE),
                    closed_on: self.opt("closed_on", parse_date),
                })
            }
            ImportKind::Meters => {
                let int = self.int::<u8>("integer_digits", 5, "число целых разрядов");
                let frac = self.int::<u8>("fraction_digits", 3, "число дробных разрядов");
                let capacity = match Capacity::new(int, frac) {
                    Ok(c) => c,
                    Err(e) => {
                        self.problem("integer_digits", e);
                        Capacity::new(5, 3).ok()?
                    }
                };
                let tariffs = self.opt_int::<u8>("tariffs", "число тарифов 1–4").unwrap_or(1);
                if !(1..=4).contains(&tariffs) {
                    self.problem("tariffs", "число тарифов должно быть от 1 до 4");
                }
                let status = self
                    .opt("status", |s| {
                        MeterStatus::from_code(&s.to_ascii_lowercase())
                            .ok_or("статус счётчика: active или archived")
                    })
                    .unwrap_or(MeterStatus::Active);
                Record::Meter(MeterRecord {
                    account: self.account(),
                    serial: self.text("serial"),
                    resource: self.req("resource", Resource::ColdWater, resource),
                    location: self.opt_text("location").unwrap_or_default(),
                    tariffs,
                    capacity,
                    scale: self.opt_int("scale", "целый коэффициент").unwrap_or(1),
                    installed_on: self.opt("installed_on", parse_date).unwrap_or(UNKNOWN_DATE),
                    verification_due: self.date("verification_due"),
                    status,
                })
            }
            ImportKind::Readings => {
                let zone = self.opt_int::<u8>("zone", "номер тарифной зоны 1–3").unwrap_or(1);
                if !(1..=3).contains(&zone) {
                    self.problem("zone", "номер тарифной зоны должен быть от 1 до 3");
                }
                let offset = self.offset;
                Record::Reading(ReadingRecord {
                    account: self.account(),
                    meter: self.text("meter"),
                    zone,
                    value_e4: self.req("value", 0, value_e4),
                    taken_on: self.date("taken_on"),
                    source: self.opt_text("source").unwrap_or_else(|| "billing".into()),
                    submitted_at: self.opt("submitted_at", |s| parse_datetime(s, offset)),
                })
            }
            ImportKind::Charges => {
                let charged = self.money("charged");
                let recalculation = self.opt_money("recalculation").unwrap_or_default();
                let benefits = self.opt_money("benefits").unwrap_or_default();
                let expected = charged + recalculation - benefits;
                let total = self.opt_money("total").unwrap_or(expected);
                if total != expected {
                    self.problem(
                        "total",
                        format!("итого {total} не равно начислено + перерасчёт − льготы = {expected}"),
                    );
                }
                let method = self
                    .opt("method", |s| {
                        VolumeMethod::from_code(&s.to_ascii_lowercase())
                            .ok_or("способ определения объёма: meter, average, norm или fixed")
                    })
                    .unwrap_or(VolumeMethod::Fixed);
                Record::Charge(ChargeRecord {
                    account: self.account(),
                    period: self.req("period", Period::containing(Date::MIN), period),
                    service: self.text("service"),
                    volume: self.opt("volume", Volume::parse),
                    unit: self.opt_text("unit").unwrap_or_default(),
                    tariff: self.opt_money("tariff"),
                    charged,
                    recalculation,
                    benefits,
                    total,
                    method,
                })
            }
            ImportKind::Invoices => {
                let p = self.req("period", Period::containing(Date::MIN), period);
                let inv = InvoiceRecord {
                    account: self.account(),
                    period: p,
                    number: self.opt_text("number").unwrap_or_default(),
                    opening_balance: self.money("opening_balance"),
                    charged: self.money("charged"),
                    paid: self.money("paid"),
                    penalties: self.opt_money("penalties").unwrap_or_default(),
                    total_due: self.money("total_due"),
                    due_date: self.date("due_date"),
                };
                let expected = inv.opening_balance + inv.charged + inv.penalties - inv.paid;
                if self.problems.is_empty() && inv.total_due != expected {
                    self.problem(
                        "total_due",
                        format!(
                            "к оплате {} не равно долг + начислено + пени − оплачено = {expected}",
                            inv.total_due
                        ),
                    );
                }
                Record::Invoice(inv)
            }
            ImportKind::Payments => {
                let offset = self.offset;
                let amount = self.money("amount");
                if amount.get() <= 0 && self.problems.is_empty() {
                    self.problem("amount", "сумма платежа должна быть больше нуля");
                }
                Record::Payment(PaymentRecord {
                    account: self.account(),
                    source: self.text("source"),
                    external_id: self.text("external_id"),
                    amount,
                    paid_at: self.req("paid_at", OffsetDateTime::UNIX_EPOCH, |s| {
                        parse_datetime(s, offset)
                    }),
                    period: self.opt("period", period),
                })
            }
        };
        self.problems.is_empty().then_some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn dates_and_times() {
        assert_eq!(parse_date("05.11.2026"), Ok(date!(2026 - 11 - 05)));
        assert_eq!(parse_date("2026-11-05"), Ok(date!(2026 - 11 - 05)));
        assert!(parse_date("31.02.2026").unwrap_err().contains("не существует"));
        assert!(parse_date("5/11/2026").is_err());
        let msk = UtcOffset::from_hms(3, 0, 0).unwrap();
        assert_eq!(
            parse_datetime("05.11.2026 12:30", msk),
            Ok(datetime!(2026-11-05 09:30 UTC))
        );
        assert_eq!(
            parse_datetime("2026-11-05T12:30:15Z", msk),
            Ok(datetime!(2026-11-05 12:30:15 UTC))
        );
        assert_eq!(
            parse_datetime("2026-11-05 12:30:00+05:00", msk),
            Ok(datetime!(2026-11-05 07:30 UTC))
        );
        assert_eq!(
            parse_datetime("2026-11-05T12:30:00.5-01:30", msk),
            Ok(datetime!(2026-11-05 14:00:00.5 UTC))
        );
        assert!(parse_datetime("2026-11-05", msk).is_err());
        // Non-ASCII in the fraction is an error, not a panic on a char boundary.
        assert!(parse_datetime("2026-11-05 12:30:00.ёёёёё", msk).is_err());
    }

    #[test]
    fn reading_values_keep_four_decimals() {
        assert_eq!(value_e4("123,456"), Ok(1_234_560));
        assert!(value_e4("1,23456").is_err());
    }
}
