//! Phone verification: before any SMS goes to a resident's phone, a code
//! sent to it is typed back. A code has six digits and works ten minutes
//! for five guesses; at most five codes a day go to one phone, and as many
//! to one resident, whichever phone they name. Codes are kept only as an
//! HMAC under the server key, and go out as SMS through the outbox and its
//! job, quiet hours or not.

use crate::Error;
use crate::auth::{Client, Resident, secrets};
use crate::forms::FieldErrors;
use crate::notify::Notifications;
use kabinet_db::Repos;
use kabinet_domain as d;
use kabinet_domain::notify::{PHONE_CODE_TRIES, PHONE_CODE_TTL, PHONE_CODES_PER_DAY};
use time::{Duration, OffsetDateTime};

/// Form field names of phone verification.
pub mod fields {
    /// The code typed.
    pub const CODE: &str = "code";
}

/// A new code: six digits, each equally likely.
fn new_code() -> String {
    let mut out = String::with_capacity(6);
    while out.len() < 6 {
        for b in secrets::random_bytes::<16>() {
            // 250 is the largest multiple of 10 a byte holds.
            if b < 250 && out.len() < 6 {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    out
}

impl Notifications {
    fn code_hash(&self, user: d::UserId, phone: &str, code: &str) -> String {
        hex::encode(self.key.sign(
            "phone-code",
            &[&user.0.to_be_bytes(), phone.as_bytes(), code.as_bytes()],
        ))
    }

    /// Sends a verification code to the resident's phone (the one in their
    /// settings), within the daily limits; audited.
    pub async fn send_phone_code(&self, r: &Resident, client: &Client) -> Result<(), Error> {
        let prefs = self
            .db
            .users()
            .preferences(r.user.id)
            .await?
            .ok_or(Error::NotFound)?;
        // No phone, or one verified already: nothing to send a code to.
        let Some(phone) = prefs.phone else {
            return Err(Error::Conflict(d::Text::new("error-phone-needed")));
        };
        if prefs.phone_verified {
            return Err(Error::Conflict(d::Text::new("error-phone-verified")));
        }
        let now = OffsetDateTime::now_utc();
        let code = new_code();
        let org = crate::site::sender_name(&self.db).await?;
        let text = kabinet_notify::sms::code(kabinet_notify::messages::tr(r.user.language), &org, &code);
        let tx = self.db.begin().await?;
        // Two requests at once count one after the other.
        tx.users().lock(r.user.id).await?;
        let (to_phone, to_user) = tx
            .phone_codes()
            .sent_since(r.user.id, phone.as_str(), now - Duration::days(1))
            .await?;
        if to_phone >= PHONE_CODES_PER_DAY || to_user >= PHONE_CODES_PER_DAY {
            return Err(Error::TooManyRequests(d::Text::new("error-phone-codes-limit")));
        }
        tx.phone_codes()
            .add(
                r.user.id,
                phone.as_str(),
                &self.code_hash(r.user.id, phone.as_str(), &code),
                now,
                now + PHONE_CODE_TTL,
            )
            .await?;
        tx.outbox().queue_sms(&phone, &text, r.user.id, now).await?;
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::PhoneCodeSent,
                    Some(r.user.id),
                    Some(r.account_id()),
                    mask(phone.as_str()),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks the code typed; the right one marks the phone verified
    /// (audited), a wrong one counts against the code.
    pub async fn verify_phone(&self, r: &Resident, typed: &str, client: &Client) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc();
        let wrong = || {
            let mut e = FieldErrors::default();
            e.add(fields::CODE, d::Text::new("error-phone-code-wrong"));
            Error::Invalid(e)
        };
        let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        let Some(live) = self.db.phone_codes().live(r.user.id, now).await? else {
            return Err(wrong());
        };
        let expected = self.code_hash(r.user.id, &live.phone, &typed);
        if typed.len() != 6
            || !bool::from(subtle::ConstantTimeEq::ct_eq(
                expected.as_bytes(),
                live.code_hash.as_bytes(),
            ))
        {
            self.db
                .phone_codes()
                .wrong(live.id, PHONE_CODE_TRIES, now)
                .await?;
            return Err(wrong());
        }
        let tx = self.db.begin().await?;
        if !tx
            .phone_codes()
            .confirm(live.id, r.user.id, &live.phone, now)
            .await?
        {
            return Err(wrong());
        }
        tx.audit()
            .record(
                &client.entry(
                    d::AuditEvent::PhoneVerified,
                    Some(r.user.id),
                    Some(r.account_id()),
                    mask(&live.phone),
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends SMS `id` of the outbox (a verification code) unless it went
    /// already; a provider's refusal is kept on it and returned.
    pub async fn send_outbox_sms(
        &self,
        id: d::OutboxId,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), Error> {
        let Some(m) = self.db.outbox().sms(id).await? else {
            return Ok(());
        };
        if m.status != d::OutboxStatus::Pending {
            return Ok(());
        }
        let now = OffsetDateTime::now_utc();
        match self.sms.send(&m.phone, &m.text, id.0).await {
            Ok(sent) => {
                tracing::info!(
                    provider = self.sms.provider(),
                    parts = d::notify::sms_parts(&m.text),
                    cost = sent.cost,
                    "verification SMS sent"
                );
                self.db
                    .notify()
                    .text_sent(
                        id,
                        None,
                        &m.text,
                        (&sent.provider_ref, d::notify::DeliveryState::Accepted),
                        now,
                    )
                    .await?;
                Ok(())
            }
            Err(e) => {
                let retry = retry_at.filter(|_| e.retryable());
                self.db.outbox().attempt_failed(id, &e.to_string(), retry).await?;
                Err(Error::Internal(format!("SMS {}: {e}", id.0)))
            }
        }
    }
}

/// A phone as audit lines show it: the last four digits.
fn mask(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("phone …{tail}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_have_six_digits_and_vary() {
        let a = super::new_code();
        assert_eq!(a.len(), 6);
        assert!(a.chars().all(|c| c.is_ascii_digit()));
        let many: std::collections::HashSet<String> = (0..50).map(|_| super::new_code()).collect();
        assert!(many.len() > 45, "codes repeat too often");
        assert_eq!(super::mask("+79123456789"), "phone …6789");
    }
}
