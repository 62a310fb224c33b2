//! The organization's own details as the office enters them: the checks of
//! Russian registration and bank numbers (ИНН, КПП, ОГРН, БИК, the
//! settlement account's control key) and what a complete set of details
//! needs before residents are served.

use crate::model::Organization;
use crate::text::Text;

fn digits(s: &str) -> Option<Vec<u32>> {
    s.chars().map(|c| c.to_digit(10)).collect()
}

fn weighted(d: &[u32], weights: &[u32]) -> u32 {
    d.iter().zip(weights).map(|(a, b)| a * b).sum()
}

/// Whether `inn` is a valid ИНН: 10 digits (a legal entity) or 12 (a
/// person or sole trader) with their check digits.
pub fn inn_valid(inn: &str) -> bool {
    let Some(d) = digits(inn) else { return false };
    match d.len() {
        10 => weighted(&d, &[2, 4, 10, 3, 5, 9, 4, 6, 8]) % 11 % 10 == d[9],
        12 => {
            weighted(&d, &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) % 11 % 10 == d[10]
                && weighted(&d, &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) % 11 % 10 == d[11]
        }
        _ => false,
    }
}

/// Whether `kpp` is a valid КПП: four digits (the tax office), two digits
/// or capital Latin letters (the reason), three digits.
pub fn kpp_valid(kpp: &str) -> bool {
    let b = kpp.as_bytes();
    b.len() == 9
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4..6]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && b[6..].iter().all(u8::is_ascii_digit)
}

/// Whether `ogrn` is a valid ОГРН (13 digits) or ОГРНИП (15) with its
/// check digit.
pub fn ogrn_valid(ogrn: &str) -> bool {
    if !ogrn.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let (body, check, m) = match ogrn.len() {
        13 => (&ogrn[..12], &ogrn[12..], 11),
        15 => (&ogrn[..14], &ogrn[14..], 13),
        _ => return false,
    };
    match (body.parse::<u64>(), check.parse::<u64>()) {
        (Ok(b), Ok(c)) => b % m % 10 == c,
        _ => false,
    }
}

/// Whether `bic` is a БИК: nine digits.
pub fn bic_valid(bic: &str) -> bool {
    bic.len() == 9 && bic.bytes().all(|c| c.is_ascii_digit())
}

/// Whether `account` is 20 digits whose control key (the ninth digit)
/// agrees with `bic`: the account at a bank is keyed with the BIC's last
/// three digits, one at a Bank of Russia settlement centre (BIC ending
/// 000–002) with "0" and the BIC's fifth and sixth.
pub fn account_valid(bic: &str, account: &str) -> bool {
    if !bic_valid(bic) || account.len() != 20 {
        return false;
    }
    let Some(acc) = digits(account) else { return false };
    let Some(b) = digits(bic) else { return false };
    let prefix: [u32; 3] = if b[6] == 0 && b[7] == 0 && b[8] <= 2 {
        [0, b[4], b[5]]
    } else {
        [b[6], b[7], b[8]]
    };
    let all: Vec<u32> = prefix.into_iter().chain(acc).collect();
    let weights: Vec<u32> = [7, 1, 3].into_iter().cycle().take(all.len()).collect();
    weighted(&all, &weights).is_multiple_of(10)
}

/// Whether `account` may be the correspondent account of the bank `bic`:
/// a bank's account at the Bank of Russia (20 digits starting `30101` and
/// ending in the BIC's last three, keyed with "0" and the BIC's fifth and
/// sixth digits), or the single
/// treasury account (`40102…`, 20 digits) that treasury payees give in its
/// place.
pub fn correspondent_valid(bic: &str, account: &str) -> bool {
    if !bic_valid(bic) || account.len() != 20 || digits(account).is_none() {
        return false;
    }
    if account.starts_with("40102") {
        return true;
    }
    // A bank's correspondent account ends in the last three digits of its BIC.
    if !account.starts_with("30101") || account[17..] != bic[6..] {
        return false;
    }
    let (Some(acc), Some(b)) = (digits(account), digits(bic)) else {
        return false;
    };
    let all: Vec<u32> = [0, b[4], b[5]].into_iter().chain(acc).collect();
    let weights: Vec<u32> = [7, 1, 3].into_iter().cycle().take(all.len()).collect();
    weighted(&all, &weights).is_multiple_of(10)
}

/// One problem with details the office entered (the organization's, a
/// request category's): the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailProblem {
    /// The field (`name`, `inn`, …).
    pub field: &'static str,
    /// What to tell the reader.
    pub text: Text,
}

fn problem(field: &'static str, id: &'static str) -> DetailProblem {
    DetailProblem {
        field,
        text: Text::new(id),
    }
}

/// The bank details of payee `p` that would not carry money to it from a
/// receipt's QR code (ИНН and КПП, the BIC, the settlement account's key
/// against the BIC, the bank's correspondent account), as field names.
/// The billing import refuses such payees; this names them where they came
/// in before that check.
pub fn payee_problems(p: &crate::Payee) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !inn_valid(&p.inn) {
        out.push("inn");
    }
    if !p.kpp.is_empty() && !kpp_valid(&p.kpp) {
        out.push("kpp");
    }
    if !bic_valid(&p.bic) {
        out.push("bic");
    } else {
        if !account_valid(&p.bic, &p.settlement_account) {
            out.push("settlement_account");
        }
        if !correspondent_valid(&p.bic, &p.correspondent_account) {
            out.push("correspondent_account");
        }
    }
    out
}

/// Every problem with `o` as the office entered it: the fields residents
/// need (full and short name, ИНН, address, office and dispatch phones)
/// must be filled, and the numbers given must be valid. Empty: complete.
pub fn check_details(o: &Organization) -> Vec<DetailProblem> {
    let mut out = Vec::new();
    for (field, value) in [
        ("name", &o.name),
        ("short_name", &o.short_name),
        ("address", &o.address),
        ("phone", &o.phone),
        ("dispatch_phone", &o.dispatch_phone),
    ] {
        if value.trim().is_empty() {
            out.push(problem(field, "error-field-required"));
        } else if value.chars().count() > 500 {
            out.push(problem(field, "error-field-too-long"));
        }
    }
    if o.inn.is_empty() {
        out.push(problem("inn", "error-field-required"));
    } else if !inn_valid(&o.inn) {
        out.push(problem("inn", "error-inn-invalid"));
    }
    if !o.kpp.is_empty() && !kpp_valid(&o.kpp) {
        out.push(problem("kpp", "error-kpp-invalid"));
    }
    if !o.ogrn.is_empty() && !ogrn_valid(&o.ogrn) {
        out.push(problem("ogrn", "error-ogrn-invalid"));
    }
    if !o.email.is_empty() && crate::EmailAddress::parse(&o.email).is_err() {
        out.push(problem("email", "error-email-invalid"));
    }
    let site = o.website.trim();
    let web = site.starts_with("https://") || site.starts_with("http://");
    if !site.is_empty() && (!web || site.chars().any(char::is_whitespace)) {
        out.push(problem("website", "error-website-invalid"));
    }
    for (field, value) in [
        ("kpp", &o.kpp),
        ("ogrn", &o.ogrn),
        ("email", &o.email),
        ("website", &o.website),
    ] {
        if value.chars().count() > 500 {
            out.push(problem(field, "error-field-too-long"));
        }
    }
    out
}

/// The fields residents need that are still missing from `o` (for the log
/// and the "being set up" notice); empty when residents can be served.
pub fn missing_details(o: Option<&Organization>) -> Vec<&'static str> {
    match o {
        None => vec!["name", "short_name", "inn", "address", "phone", "dispatch_phone"],
        Some(o) => check_details(o)
            .into_iter()
            .filter(|p| p.text.id() == "error-field-required")
            .map(|p| p.field)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inn_check_digits() {
        // Published example numbers with correct check digits.
        assert!(inn_valid("7707083893"));
        assert!(inn_valid("500100732259"));
        assert!(!inn_valid("7707083894"));
        assert!(!inn_valid("500100732250"));
        assert!(!inn_valid("77070838"));
        assert!(!inn_valid("770708389a"));
    }

    #[test]
    fn kpp_and_ogrn() {
        assert!(kpp_valid("773601001"));
        assert!(kpp_valid("7736AB001"));
        assert!(!kpp_valid("77360100"));
        assert!(!kpp_valid("7736ab001"));
        assert!(ogrn_valid("1027700132195"));
        assert!(!ogrn_valid("1027700132194"));
        assert!(ogrn_valid("304500116000157"));
        assert!(!ogrn_valid("304500116000158"));
    }

    #[test]
    fn account_key_against_the_bic() {
        let good = (0..10)
            .map(|k| format!("40702810{k}00000000001"))
            .filter(|a| account_valid("044525225", a))
            .count();
        assert_eq!(good, 1, "exactly one control key fits");
        assert!(!account_valid("04452522", "40702810400000000001"));
        assert!(!account_valid("044525225", "4070281040000000000"));
        // Sberbank's own correspondent account at the Bank of Russia.
        assert!(correspondent_valid("044525225", "30101810400000000225"));
        assert!(!correspondent_valid("044525225", "30101810500000000225"));
        assert!(!correspondent_valid("044525225", "40702810400000000225"));
        assert!(
            correspondent_valid("014525988", "40102810545370000003"),
            "a treasury payee"
        );
    }

    #[test]
    fn details_need_the_residents_fields() {
        let mut o = Organization {
            name: "ООО «Дом»".into(),
            short_name: "Дом".into(),
            inn: "7707083893".into(),
            kpp: String::new(),
            ogrn: String::new(),
            address: "Москва".into(),
            phone: "+7 495 000-00-00".into(),
            dispatch_phone: "+7 495 000-00-01".into(),
            email: String::new(),
            website: String::new(),
        };
        assert!(check_details(&o).is_empty());
        assert!(missing_details(Some(&o)).is_empty());
        o.dispatch_phone.clear();
        o.inn = "123".into();
        o.website = "javascript:alert(1)".into();
        let fields: Vec<_> = check_details(&o).iter().map(|p| p.field).collect();
        assert_eq!(fields, ["dispatch_phone", "inn", "website"]);
        assert_eq!(missing_details(Some(&o)), ["dispatch_phone"]);
        assert_eq!(missing_details(None).len(), 6);
    }

    #[test]
    fn a_payee_s_bank_details_are_checked_for_the_qr_code() {
        let good = crate::Payee {
            id: crate::PayeeId(1),
            code: "uk".into(),
            name: "ООО «УК „Северный квартал“»".into(),
            inn: "6950012340".into(),
            kpp: "695001001".into(),
            bank_name: "ПАО СБЕРБАНК".into(),
            bic: "042809679".into(),
            correspondent_account: "30101810700000000679".into(),
            settlement_account: "40702810563000001234".into(),
        };
        assert_eq!(payee_problems(&good), Vec::<&str>::new());
        let mut p = good.clone();
        p.inn = "6950012341".into();
        p.settlement_account = "40702810563000001235".into();
        p.correspondent_account = "30101810700000000678".into();
        assert_eq!(
            payee_problems(&p),
            ["inn", "settlement_account", "correspondent_account"]
        );
        let mut p = good;
        p.kpp = "69500100".into();
        p.bic = "04280967".into();
        assert_eq!(
            payee_problems(&p),
            ["kpp", "bic"],
            "no account is judged without a BIC"
        );
    }
}
