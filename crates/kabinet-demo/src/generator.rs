//! Pure generation of demo billing records for a range of accounts. Every
//! account's data depends only on the seed and its index, so generation can
//! resume where an interrupted run stopped and gives the same data every time.

use crate::catalog::{self, DemoService, Kind};
use crate::names::*;
use kabinet_db::bulk::Batch;
use kabinet_domain::{
    Account, AccountId, AccountNumber, Area, BillingPeriod, Capacity, Charge, Invoice, Kopecks, Meter,
    MeterId, MeterStatus, Payment, Period, Premises, PremisesId, Reading, Resource, Volume, VolumeMethod,
    payment_source, reading_source,
};
use time::{Date, Duration, OffsetDateTime, Time};

/// Flats per demo building.
const FLATS_PER_BUILDING: i64 = 80;
/// Meter ids are `account id × METER_SLOTS + n`, so they stay unique and stable.
const METER_SLOTS: i64 = 8;

/// What the generator needs to know about the whole run.
pub struct Plan {
    /// Seed for everything.
    pub seed: u64,
    /// Billing periods, oldest first.
    pub periods: Vec<BillingPeriod>,
    /// "Today": no payment or reading is later.
    pub today: Date,
    services: Vec<DemoService>,
}

impl Plan {
    /// A plan of `months` periods ending with the month before `today`.
    pub fn new(seed: u64, months: u32, today: Date, receipt_day: u8, due_day: u8) -> Plan {
        let last = Period::containing(today).prev();
        let months = months.max(1) as i32;
        let periods = (0..months)
            .map(|i| {
                let period = last.add_months(i - months + 1);
                BillingPeriod {
                    period,
                    issued_on: period.next().day(receipt_day),
                    due_date: period.next().day(due_day),
                }
            })
            .collect();
        Plan {
            seed,
            periods,
            today,
            services: catalog::services(),
        }
    }

    fn service(&self, kind: Kind) -> &DemoService {
        // Every Kind is in the catalog; the index is a fallback that is never taken.
        self.services
            .iter()
            .find(|s| s.kind == kind)
            .unwrap_or(&self.services[0])
    }

    /// The account number of the account with this index (1-based).
    pub fn account_number(index: i64) -> AccountNumber {
        AccountNumber::parse(&format!("{}", 7_100_000_000i64 + index))
            .unwrap_or_else(|_| unreachable_number())
    }

    /// Generates every record of the accounts with indexes in `range` (1-based,
    /// ids equal to indexes).
    pub fn batch(&self, range: std::ops::RangeInclusive<i64>) -> Batch {
        let mut b = Batch::default();
        for i in range {
            self.account(i, &mut b);
        }
        b
    }

    fn account(&self, i: i64, b: &mut Batch) {
        let mut rng = fastrand::Rng::with_seed(self.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let building = (i - 1) / FLATS_PER_BUILDING;
        let flat = (i - 1) % FLATS_PER_BUILDING + 1;
        let mut brng = fastrand::Rng::with_seed(
            self.seed ^ 0xB1D ^ (building as u64).wrapping_mul(0x2545_F491_4F6C_DD1D),
        );
        let street = STREETS[(building as usize) % STREETS.len()];
        let house = building / STREETS.len() as i64 + 1;
        let korpus = if brng.u8(..) < 40 {
            format!(", корп. {}", brng.u8(1..4))
        } else {
            String::new()
        };
        let has_intercom = brng.u8(..) < 180;

        let total_area = Area(rng.i64(2_800..9_500));
        let residents = rng.i32(1..=5);
        let premises = Premises {
            id: PremisesId(i),
            address: format!("170100, Тверская обл., г. Тверь, {street}, д. {house}{korpus}"),
            flat: Some(flat.to_string()),
            total_area,
            living_area: Some(Area(total_area.0 * 6 / 10)),
        };
        let male = rng.bool();
        let surname = SURNAMES[rng.usize(..SURNAMES.len())];
        let (first, surname, patronymic) = if male {
            (
                MALE_NAMES[rng.usize(..MALE_NAMES.len())],
                surname.to_string(),
                PATRONYMIC_STEMS[rng.usize(..PATRONYMIC_STEMS.len())].0,
            )
        } else {
            (
                FEMALE_NAMES[rng.usize(..FEMALE_NAMES.len())],
                feminine(surname),
                PATRONYMIC_STEMS[rng.usize(..PATRONYMIC_STEMS.len())].1,
            )
        };
        let first_period = self
            .periods
            .first()
            .map_or(Period::containing(self.today), |p| p.period);
        let els = (rng.u8(..) < 80).then(|| {
            (0..10)
                .map(|_| {
                    let c = rng.u8(0..36);
                    char::from(if c < 10 { b'0' + c } else { b'A' + c - 10 })
                })
                .collect::<String>()
        });
        let account = Account {
            id: AccountId(i),
            number: Self::account_number(i),
            premises_id: premises.id,
            holder_name: format!("{surname} {first} {patronymic}"),
            residents,
            izhku: els.as_ref().map(|e| format!("{e}-01")),
            els,
            opened_on: first_period.add_months(-rng.i32(1..120)).first_day(),
            closed_on: None,
        };

        // Meters: electricity always; water risers with cold and hot water meters
        // in most flats; a few flats have none and pay by the norm.
        let water_risers = match rng.u8(0..100) {
            0..=9 => 0,
            10..=84 => 1,
            _ => 2,
        };
        let two_tariff = rng.u8(0..100) < 60;
        let mut meters: Vec<(Meter, i64)> = Vec::new();
        let mut add_meter =
            |rng: &mut fastrand::Rng, resource: Resource, location: &str, tariffs: u8, monthly: i64| {
                let n = meters.len() as i64 + 1;
                let capacity = match resource {
                    Resource::Electricity => Capacity::new(6, 1),
                    _ => Capacity::new(5, 3),
                }
                .unwrap_or_else(|_| unreachable_capacity());
                let installed = first_period.add_months(-rng.i32(6..84)).day(rng.u8(1..28));
                let years = match resource {
                    Resource::HotWater => 4,
                    Resource::ColdWater => 6,
                    _ => 16,
                };
                let mut verification_due = installed
                    .replace_year(installed.year() + years)
                    .unwrap_or(installed);
                if rng.u8(0..100) < 3 {
                    verification_due = first_period.add_months(rng.i32(1..6)).day(1);
                }
                // Serials are unique within an account (the exchange key).
                let mut serial = rng.u32(10_000_000..99_999_999);
                while meters.iter().any(|(m, _)| m.serial == format!("{serial:08}")) {
                    serial += 1;
                }
                meters.push((
                    Meter {
                        id: MeterId(i * METER_SLOTS + n),
                        account_id: AccountId(i),
                        serial: format!("{serial:08}"),
                        resource,
                        location: location.to_string(),
                        tariffs,
                        capacity,
                        scale: 1,
                        installed_on: installed,
                        verification_due,
                        status: MeterStatus::Active,
                    },
                    monthly,
                ));
            };
        let locations = ["кухня", "санузел"];
        for (r, location) in locations.iter().copied().enumerate().take(water_risers) {
            let per_person = i64::from(residents as u8);
            let monthly = (1_200 + rng.i64(0..1_400)) * per_person / water_risers as i64;
            add_meter(&mut rng, Resource::ColdWater, location, 1, monthly);
            if r == 0 {
                let monthly = (800 + rng.i64(0..900)) * per_person;
                add_meter(&mut rng, Resource::HotWater, location, 1, monthly);
            }
        }
        let monthly = 80 + rng.i64(0..140);
        add_meter(
            &mut rng,
            Resource::Electricity,
            "прихожая",
            if two_tariff { 2 } else { 1 },
            monthly,
        );

        // Readings, month by month: each meter has a starting value and a
        // monthly consumption with noise; the resident forgets some months.
        let forgetful = rng.u8(0..100) < 12;
        let mut values: Vec<[i64; 2]> = meters
            .iter()
            .map(|(m, _)| {
                let start = match m.resource {
                    Resource::Electricity => rng.i64(10_000..400_000),
                    _ => rng.i64(10_000..900_000),
                };
                [start, start / 2]
            })
            .collect();
        let behaviour = match rng.u8(0..100) {
            0..=79 => Payer::OnTime,
            80..=89 => Payer::Partial,
            90..=96 => Payer::Debtor,
            _ => Payer::Ahead,
        };
        let benefit = rng.u8(0..100) < 6;
        let mut balance = match rng.u8(0..100) {
            0..=74 => Kopecks::ZERO,
            75..=84 => Kopecks(-rng.i64(100..300_000)),
            _ => Kopecks(rng.i64(100_000..3_000_000)),
        };
        let mut prev_charged = Kopecks::ZERO;
        let mut payment_no = 0u32;
        let pay_day = rng.u8(1..26);

        for bp in &self.periods {
            let p = bp.period;
            // Payments during month p settle the previous balance.
            let paid = self.pay(&mut rng, behaviour, balance, p, pay_day, i, &mut payment_no, b);
            let submitted = !(forgetful && rng.u8(0..100) < 40);
            let taken_on = p.day(rng.u8(20..26));
            // Actual consumption this month, in each meter's scaled units.
            let mut consumed: Vec<[i64; 2]> = Vec::with_capacity(meters.len());
            for (k, (m, monthly)) in meters.iter().enumerate() {
                let f = 10i64.pow(u32::from(m.capacity.fraction_digits()));
                let season = if matches!(p.month(), 6..=8) { 85 } else { 100 };
                let base = monthly * season / 100;
                let noise = |rng: &mut fastrand::Rng| (base * rng.i64(70..131) / 100).max(0);
                let c = match m.resource {
                    // monthly is in litres for water, in kWh for electricity
                    // A single-tariff meter counts day and night on one register.
                    Resource::Electricity if m.tariffs == 1 => {
                        [noise(&mut rng) * f + noise(&mut rng) / 2 * f, 0]
                    }
                    Resource::Electricity => [noise(&mut rng) * f, noise(&mut rng) / 2 * f],
                    _ => [noise(&mut rng) * f / 1000, 0],
                };
                let modulus = m.capacity.modulus();
                values[k][0] = (values[k][0] + c[0]) % modulus;
                values[k][1] = (values[k][1] + c[1]) % modulus;
                consumed.push(c);
                if submitted {
                    let zones = if m.tariffs == 2 { 2 } else { 1 };
                    for (z, value) in values[k].iter().copied().enumerate().take(zones) {
                        b.readings.push(Reading {
                            meter_id: m.id,
                            zone: z as u8 + 1,
                            value,
                            taken_on,
                            source: reading_source::BILLING.to_string(),
                            submitted_at: OffsetDateTime::new_utc(
                                taken_on,
                                Time::from_hms(9, 0, 0).unwrap_or(Time::MIDNIGHT),
                            ) + Duration::minutes(rng.i64(0..600)),
                        });
                    }
                }
            }

            // Charges.
            let mut lines: Vec<Charge> = Vec::new();
            let mut push = |kind: Kind,
                            volume: Option<Volume>,
                            method: VolumeMethod,
                            fixed: Option<Kopecks>,
                            rng: &mut fastrand::Rng| {
                let s = self.service(kind);
                let tariff = catalog::tariff(s.base_tariff, p);
                let charged = match (volume, fixed) {
                    (_, Some(f)) => f,
                    (Some(v), None) => Kopecks((v.0 * tariff.get() + Volume::SCALE / 2) / Volume::SCALE),
                    (None, None) => Kopecks::ZERO,
                };
                let recalculation = if rng.u16(0..1000) < 8 {
                    Kopecks(-(charged.get() * rng.i64(5..30) / 100))
                } else {
                    Kopecks::ZERO
                };
                let benefits = if benefit && matches!(kind, Kind::Maintenance | Kind::Waste | Kind::Heating) {
                    Kopecks(charged.get() / 2)
                } else {
                    Kopecks::ZERO
                };
                lines.push(Charge {
                    account_id: AccountId(i),
                    period: p,
                    service_id: s.service.id,
                    volume,
                    unit: s.service.unit.clone(),
                    tariff: Some(tariff),
                    charged,
                    recalculation,
                    benefits,
                    total: charged + recalculation - benefits,
                    method,
                });
            };
            let to_volume = |scaled: i64, m: &Meter| {
                Volume(scaled * Volume::SCALE / 10i64.pow(u32::from(m.capacity.fraction_digits())))
            };
            let water = |res: Resource, norm_per_person: i64| -> (Volume, VolumeMethod) {
                let mut total = 0;
                let mut any = false;
                for ((m, monthly), c) in meters.iter().zip(&consumed) {
                    if m.resource == res {
                        any = true;
                        total += if submitted {
                            to_volume(c[0], m).0
                        } else {
                            monthly * Volume::SCALE / 1000
                        };
                    }
                }
                if !any {
                    (Volume(norm_per_person * i64::from(residents)), VolumeMethod::Norm)
                } else if submitted {
                    (Volume(total), VolumeMethod::Meter)
                } else {
                    (Volume(total), VolumeMethod::Average)
                }
            };
            let (cold, cold_m) = water(Resource::ColdWater, 4_850_000);
            let (hot, hot_m) = water(Resource::HotWater, 3_500_000);
            push(Kind::ColdWater, Some(cold), cold_m, None, &mut rng);
            push(Kind::HotWater, Some(hot), hot_m, None, &mut rng);
            push(
                Kind::Sewerage,
                Some(Volume(cold.0 + hot.0)),
                cold_m,
                None,
                &mut rng,
            );
            if let Some(((m, monthly), c)) = meters
                .iter()
                .zip(&consumed)
                .find(|((m, _), _)| m.resource == Resource::Electricity)
            {
                let method = if submitted {
                    VolumeMethod::Meter
                } else {
                    VolumeMethod::Average
                };
                let (day, night) = if submitted {
                    (to_volume(c[0], m), to_volume(c[1], m))
                } else {
                    (
                        Volume(monthly * Volume::SCALE),
                        Volume(monthly / 2 * Volume::SCALE),
                    )
                };
                if m.tariffs == 2 {
                    push(Kind::ElectricityDay, Some(day), method, None, &mut rng);
                    push(Kind::ElectricityNight, Some(night), method, None, &mut rng);
                } else {
                    push(
                        Kind::Electricity,
                        Some(Volume(day.0 + night.0)),
                        method,
                        None,
                        &mut rng,
                    );
                }
            }
            if matches!(p.month(), 1..=4 | 10..=12) {
                // 0,0213 Gcal per m² a month, the norm for the heating season
                push(
                    Kind::Heating,
                    Some(Volume(total_area.0 * 21_300 / 100)),
                    VolumeMethod::Norm,
                    None,
                    &mut rng,
                );
            }
            push(
                Kind::Maintenance,
                Some(Volume(total_area.0 * 10_000)),
                VolumeMethod::Fixed,
                None,
                &mut rng,
            );
            push(
                Kind::Waste,
                Some(Volume(i64::from(residents) * Volume::SCALE)),
                VolumeMethod::Fixed,
                None,
                &mut rng,
            );
            push(
                Kind::CapitalRepairs,
                Some(Volume(total_area.0 * 10_000)),
                VolumeMethod::Fixed,
                None,
                &mut rng,
            );
            if has_intercom {
                let fee = catalog::tariff(self.service(Kind::Intercom).base_tariff, p);
                push(
                    Kind::Intercom,
                    Some(Volume(Volume::SCALE)),
                    VolumeMethod::Fixed,
                    Some(fee),
                    &mut rng,
                );
            }
            let charged: Kopecks = lines.iter().map(|c| c.total).sum();
            b.charges.append(&mut lines);

            // Penalties on debt older than the last month's charges (1/300 of
            // 9.5 % a day, over 30 days).
            let old_debt = balance - prev_charged;
            let penalties = if old_debt.get() > 0 {
                Kopecks(old_debt.get() * 95 * 30 / 300_000)
            } else {
                Kopecks::ZERO
            };
            let total_due = balance + charged + penalties - paid;
            b.invoices.push(Invoice {
                account_id: AccountId(i),
                period: p,
                number: format!("{}-{}", p.yyyymm(), i),
                opening_balance: balance,
                charged,
                paid,
                penalties,
                total_due,
                due_date: bp.due_date,
            });
            balance = total_due;
            prev_charged = charged;
        }
        // The current month: some residents have already paid the last invoice.
        if let Some(last) = self.periods.last() {
            let current = last.period.next();
            if self.today.day() > pay_day {
                self.pay(
                    &mut rng,
                    behaviour,
                    balance,
                    current,
                    pay_day,
                    i,
                    &mut payment_no,
                    b,
                );
            }
        }
        b.meters.extend(meters.into_iter().map(|(m, _)| m));
        b.premises.push(premises);
        b.accounts.push(account);
    }

    /// Generates the payment a resident makes during `month` against `balance`,
    /// and returns the amount.
    #[allow(clippy::too_many_arguments)]
    fn pay(
        &self,
        rng: &mut fastrand::Rng,
        behaviour: Payer,
        balance: Kopecks,
        month: Period,
        pay_day: u8,
        account: i64,
        seq: &mut u32,
        b: &mut Batch,
    ) -> Kopecks {
        if balance.get() <= 0 {
            return Kopecks::ZERO;
        }
        let amount = match behaviour {
            Payer::OnTime => balance,
            Payer::Partial => Kopecks(balance.get() * rng.i64(50..95) / 100 / 10_000 * 10_000),
            Payer::Debtor if rng.u8(0..100) < 70 => Kopecks::ZERO,
            Payer::Debtor => Kopecks(balance.get() / 3 / 10_000 * 10_000),
            Payer::Ahead => Kopecks((balance.get() / 100_000 + 2) * 100_000),
        };
        if amount.get() <= 0 {
            return Kopecks::ZERO;
        }
        let day = month.day(pay_day);
        let paid_at =
            OffsetDateTime::new_utc(day, Time::MIDNIGHT) + Duration::minutes(rng.i64(6 * 60..21 * 60));
        if paid_at.date() >= self.today {
            return Kopecks::ZERO;
        }
        let source = match rng.u8(0..100) {
            0..=79 => payment_source::BANK,
            80..=91 => payment_source::CASH,
            _ => payment_source::POST,
        };
        *seq += 1;
        b.payments.push(Payment {
            account_id: AccountId(account),
            source: source.to_string(),
            external_id: format!("DEMO-{account}-{}-{}", month.yyyymm(), seq),
            amount,
            paid_at,
            period: Some(month.prev()),
            confirmed: true,
        });
        amount
    }
}

#[derive(Clone, Copy)]
enum Payer {
    OnTime,
    Partial,
    Debtor,
    Ahead,
}

#[cold]
fn unreachable_number() -> AccountNumber {
    panic!("demo account numbers are digits")
}

#[cold]
fn unreachable_capacity() -> Capacity {
    panic!("demo capacities are valid")
}
