//! Why a use case did not go through: one error type for every use case,
//! which the web layer turns into a page or a problem document in one place.

use crate::FieldErrors;
use crate::auth::HashError;
use kabinet_db::DbError;

/// What a use case can fail with. The messages are Russian and meant for
/// the resident (lower-case first letter; the page capitalises).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input has mistakes (shown next to the fields).
    #[error("проверьте заполнение формы")]
    Invalid(FieldErrors),
    /// Wrong account or password, or sign-in refused for now; deliberately
    /// one message for every such case.
    #[error(
        "неверный номер лицевого счёта или пароль. После нескольких неудачных попыток вход временно ограничивается — подождите и попробуйте снова"
    )]
    InvalidCredentials,
    /// The one-time password was right but is past its 72 hours.
    #[error("срок действия временного пароля истёк — восстановите пароль, и мы пришлём ссылку на почту")]
    OneTimePasswordExpired,
    /// A staff member's one-time password was right but is past its 72 hours.
    #[error("срок действия временного пароля истёк — попросите администратора выдать новый")]
    StaffPasswordExpired,
    /// The reset link is unknown, used or expired.
    #[error("ссылка для восстановления пароля недействительна или устарела — запросите новую")]
    InvalidResetToken,
    /// The Rules version accepted is not the one in force.
    #[error("правила изменились — прочитайте действующую редакцию")]
    StaleRules,
    /// The resident signed in with a one-time password and must set their own
    /// before anything else.
    #[error("сначала задайте свой пароль")]
    PasswordNotSet,
    /// Readings were not taken: every value refused or to confirm.
    #[error("показания не приняты — проверьте отмеченные поля")]
    Readings(Vec<crate::readings::Issue>),
    /// There is no such record, or it is not the resident's (the same answer).
    #[error("не найдено")]
    NotFound,
    /// The payment gateway refused the payment.
    #[error("платёжный сервис отклонил платёж — попробуйте другую сумму или повторите позже")]
    PaymentRefused,
    /// The payment gateway did not answer; the outcome is settled later.
    #[error(
        "платёжный сервис сейчас не отвечает — попробуйте через несколько минут. Если деньги всё же списались, платёж зачтётся автоматически"
    )]
    GatewayUnavailable,
    /// Card payments are not set up on this installation.
    #[error(
        "оплата картой в личном кабинете не подключена — оплатите по QR-коду на квитанции в приложении своего банка"
    )]
    CardPaymentsOff,
    /// The resident started too many payments in the last hour.
    #[error("слишком много платежей за последний час — подождите немного и попробуйте снова")]
    TooManyPayments,
    /// A second-factor code was wrong, used already, or came too often.
    #[error("код не подошёл. Введите новый код из приложения или неиспользованный резервный код")]
    InvalidCode,
    /// The resident filed as many requests as a day allows, or the same one twice.
    #[error("{0}")]
    TooManyRequests(&'static str),
    /// Too many photos are being processed right now; try again shortly.
    #[error("сейчас обрабатывается слишком много фотографий — отправьте заявку ещё раз через минуту")]
    Busy,
    /// A photo was refused (type, size, damage).
    #[error("{0}")]
    Photo(String),
    /// The change is not possible in the request's state (or someone changed it first).
    #[error("{0}")]
    Conflict(&'static str),
    /// The request is not allowed from where it came.
    #[error("доступ запрещён")]
    Forbidden,
    /// The database failed; details go to the log.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Password hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Something else inside failed (a receipt template, a worker thread).
    #[error("{0}")]
    Internal(String),
}
