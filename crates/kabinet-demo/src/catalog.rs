//! The demo Organization: its legal details, payees and services with tariffs.

use kabinet_domain::{Kopecks, Organization, Payee, PayeeId, Period, Resource, Service, ServiceId};

/// The demo Organization's details.
pub fn organization() -> Organization {
    Organization {
        name: "Общество с ограниченной ответственностью «Управляющая компания „Северный квартал“»".into(),
        short_name: "УК «Северный квартал»".into(),
        inn: "6950012340".into(),
        kpp: "695001001".into(),
        ogrn: "1156952001238".into(),
        address: "170100, Тверская обл., г. Тверь, ул. Советская, д. 10, оф. 3".into(),
        phone: "+7 (4822) 00-10-20".into(),
        dispatch_phone: "+7 (4822) 00-10-99".into(),
        email: "info@sever-kvartal.example".into(),
        website: "https://sever-kvartal.example".into(),
    }
}

/// Payee of the management company itself.
pub const PAYEE_UK: PayeeId = PayeeId(1);
/// Payee of the regional capital repairs fund.
pub const PAYEE_FUND: PayeeId = PayeeId(2);
/// Payee of the electricity supplier.
pub const PAYEE_ENERGY: PayeeId = PayeeId(3);

/// The demo payees with bank details for the payment QR code.
pub fn payees() -> Vec<Payee> {
    vec![
        Payee {
            id: PAYEE_UK,
            code: "UK".into(),
            name: "ООО «УК „Северный квартал“»".into(),
            inn: "6950012340".into(),
            kpp: "695001001".into(),
            bank_name: "ТВЕРСКОЕ ОТДЕЛЕНИЕ N 8607 ПАО СБЕРБАНК".into(),
            bic: "042809679".into(),
            correspondent_account: "30101810700000000679".into(),
            settlement_account: "40702810563000001234".into(),
        },
        Payee {
            id: PAYEE_FUND,
            code: "FKR".into(),
            name: "НО «Фонд капитального ремонта многоквартирных домов Тверской области»".into(),
            inn: "6950990011".into(),
            kpp: "695001001".into(),
            bank_name: "ТВЕРСКОЕ ОТДЕЛЕНИЕ N 8607 ПАО СБЕРБАНК".into(),
            bic: "042809679".into(),
            correspondent_account: "30101810700000000679".into(),
            settlement_account: "40603810163000000077".into(),
        },
        Payee {
            id: PAYEE_ENERGY,
            code: "ENERGY".into(),
            name: "АО «Тверская энергосбытовая компания»".into(),
            inn: "6901067107".into(),
            kpp: "695001001".into(),
            bank_name: "ФИЛИАЛ «ЦЕНТРАЛЬНЫЙ» БАНКА ВТБ (ПАО)".into(),
            bic: "044525411".into(),
            correspondent_account: "30101810145250000411".into(),
            settlement_account: "40702810500000012345".into(),
        },
    ]
}

/// The demo services, by what the generator needs to know about each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Холодное водоснабжение.
    ColdWater,
    /// Горячее водоснабжение.
    HotWater,
    /// Водоотведение.
    Sewerage,
    /// Electricity, single tariff.
    Electricity,
    /// Electricity, day zone.
    ElectricityDay,
    /// Electricity, night zone.
    ElectricityNight,
    /// Отопление.
    Heating,
    /// Содержание жилого помещения.
    Maintenance,
    /// Обращение с ТКО.
    Waste,
    /// Взнос на капитальный ремонт.
    CapitalRepairs,
    /// Домофон.
    Intercom,
}

/// One demo service with its base tariff (before the yearly indexation).
pub struct DemoService {
    /// What it is.
    pub kind: Kind,
    /// The stored service.
    pub service: Service,
    /// Tariff in kopecks per unit.
    pub base_tariff: Kopecks,
}

/// Kind, code, name, unit, payee, metered resource and zone, base tariff.
type ServiceRow = (
    Kind,
    &'static str,
    &'static str,
    &'static str,
    PayeeId,
    Option<(Resource, u8)>,
    i64,
);

/// The demo services in receipt order.
pub fn services() -> Vec<DemoService> {
    let list: [ServiceRow; 11] = [
        (
            Kind::ColdWater,
            "HVS",
            "Холодное водоснабжение",
            "м³",
            PAYEE_UK,
            Some((Resource::ColdWater, 1)),
            5_231,
        ),
        (
            Kind::HotWater,
            "GVS",
            "Горячее водоснабжение",
            "м³",
            PAYEE_UK,
            Some((Resource::HotWater, 1)),
            24_580,
        ),
        (Kind::Sewerage, "VO", "Водоотведение", "м³", PAYEE_UK, None, 3_917),
        (
            Kind::Electricity,
            "EE",
            "Электроэнергия",
            "кВт·ч",
            PAYEE_ENERGY,
            Some((Resource::Electricity, 1)),
            643,
        ),
        (
            Kind::ElectricityDay,
            "EE_DAY",
            "Электроэнергия (день)",
            "кВт·ч",
            PAYEE_ENERGY,
            Some((Resource::Electricity, 1)),
            712,
        ),
        (
            Kind::ElectricityNight,
            "EE_NIGHT",
            "Электроэнергия (ночь)",
            "кВт·ч",
            PAYEE_ENERGY,
            Some((Resource::Electricity, 2)),
            312,
        ),
        (
            Kind::Heating,
            "OTOP",
            "Отопление",
            "Гкал",
            PAYEE_UK,
            None,
            287_645,
        ),
        (
            Kind::Maintenance,
            "SOD",
            "Содержание жилого помещения",
            "м²",
            PAYEE_UK,
            None,
            3_850,
        ),
        (
            Kind::Waste,
            "TKO",
            "Обращение с ТКО",
            "чел.",
            PAYEE_UK,
            None,
            15_218,
        ),
        (
            Kind::CapitalRepairs,
            "KAPREM",
            "Взнос на капитальный ремонт",
            "м²",
            PAYEE_FUND,
            None,
            1_420,
        ),
        (Kind::Intercom, "DOMOFON", "Домофон", "кв.", PAYEE_UK, None, 6_500),
    ];
    list.into_iter()
        .enumerate()
        .map(
            |(i, (kind, code, name, unit, payee_id, res, tariff))| DemoService {
                kind,
                service: Service {
                    id: ServiceId(i as i64 + 1),
                    code: code.into(),
                    name: name.into(),
                    unit: unit.into(),
                    payee_id,
                    resource: res.map(|r| r.0),
                    zone: res.map(|r| r.1),
                    sort_order: (i as i32 + 1) * 10,
                },
                base_tariff: Kopecks(tariff),
            },
        )
        .collect()
}

/// Tariffs are indexed once a year; from October 2026 they are 9.9 % higher.
pub fn tariff(base: Kopecks, period: Period) -> Kopecks {
    if period.yyyymm() >= 202610 {
        Kopecks((base.get() * 1099 + 500) / 1000)
    } else {
        base
    }
}
