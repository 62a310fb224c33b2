//! Kabinet's value types and rules. Pure: no I/O, no database, no HTTP.
//!
//! Everything that crosses the edge of the system (a form field, a CSV cell, a
//! database row) is parsed into one of these types first, so the rest of the code
//! can trust what it holds.

pub mod account;
pub mod announcements;
pub mod area;
pub mod audit;
pub mod autopay;
pub mod calendar;
pub mod email;
pub mod ids;
pub mod imports;
pub mod jobs;
pub mod meters;
pub mod model;
pub mod money;
pub mod notify;
pub mod notify_texts;
pub mod organization;
pub mod passport;
pub mod password;
pub mod payment_methods;
pub mod payments;
pub mod period;
pub mod profile;
pub mod qr;
pub mod readings;
pub mod records;
pub mod refunds;
pub mod requests;
pub mod residents;
pub mod staff;
pub mod support;
pub mod suspension;
pub mod text;
pub mod throttle;
pub mod volume;
pub mod workdays;

pub use account::{AccountNumber, AccountNumberError, Els, GisIdError, Izhku, LinkedBy};
pub use area::Area;
pub use audit::{Actor, AuditEntry, AuditEvent, AuditRecord};
pub use calendar::{InvoiceStatus, OrgClock, ReadingsWindow, WindowState};
pub use email::{EmailAddress, EmailError};
pub use ids::*;
pub use meters::{Capacity, Consumption, MeterStatus, ReadingError, ReadingValue, Resource};
pub use model::*;
pub use money::{Kopecks, KopecksError};
pub use passport::{Passport, PassportError};
pub use password::{NewPassword, PasswordError};
pub use payments::{CardPaymentStatus, GatewayState};
pub use period::{Period, PeriodError};
pub use profile::{Language, NotificationKind, Phone, PhoneError, Preferences};
pub use residents::*;
pub use suspension::{Suspension, SuspensionPhase};
pub use text::{Describe, Text};
pub use throttle::{AccountThrottle, Counter, MailLimit};
pub use volume::{Volume, VolumeMethod};
