# Texts of the resident portal. Ids are the same in ru.ftl and en.ftl.

## Layout
site-name = Resident portal
to-home = Home
skip-to-content = Skip to content
account = Account
account-switch = Show
sign-out = Sign out
sign-in = Sign in
register = Register
nav-label = Sections of the portal
nav-overview = Overview
nav-invoices = Invoices
nav-charges = Charges
nav-payments = Payments
nav-meters = Meters
nav-requests = Requests
nav-settings = Settings
nav-help = Help
dispatch = Emergency dispatch
phone = Phone
email = E-mail
address = Address
rules-link = Rules of the portal
suspended-title = The portal is closed for a while.
suspended-until = We expect to reopen { $when }.
suspension-announced = The portal will be closed for maintenance from { $when }.
payments-count = { $n ->
    [one] { $n } payment
   *[other] { $n } payments
}
months-count = { $n ->
    [one] { $n } month
   *[other] { $n } months
}
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
month-short-1 = Jan
month-short-2 = Feb
month-short-3 = Mar
month-short-4 = Apr
month-short-5 = May
month-short-6 = Jun
month-short-7 = Jul
month-short-8 = Aug
month-short-9 = Sep
month-short-10 = Oct
month-short-11 = Nov
month-short-12 = Dec

## Sign-in, registration, password
login-title = Sign in
login-heading = Sign in to the portal
account-number = Personal account number
password = Password
login-submit = Sign in
forgot-password = Forgot your password?
register-link = Register
demo-hint = This is a demo database. Sign in as a ready resident: account { $account }, password { $password }.
register-intro = Enter your personal account number and { $hint }. If they match, we will e-mail a one-time password to the address you give.
form-has-errors = Please check the form.
register-accept-rules = I have read and accept the
register-rules-link = Rules of the portal
rules-edition = version { $v }
register-consent = I agree to receive informational messages by e-mail and SMS
register-submit = Register
already-registered = Already registered?
check-amount-label = Amount to pay on the latest receipt, ₽
check-amount-hint = the amount to pay on your latest receipt
check-amount-example = For example: 3 456,78 — as printed in the "Total to pay" line.
check-passport-label = Passport series and number of the account holder
check-passport-hint = the passport series and number of the account holder
check-passport-example = 10 digits, e.g. 28 15 123456. The passport is only compared, never stored.
check-mail = Check your e-mail
register-sent-1 = If the details matched the account, we sent a one-time password to the address you gave. If the account is already registered, its resident is told so at their own address.
register-sent-2 = The e-mail usually arrives within minutes; check the spam folder too. If nothing comes, check the account number and the receipt details and try again. After several wrong attempts registering the account is paused for a while; if it does not work, contact the organization.
password-first-title = Choose a password
password-first-intro = The one-time password from the e-mail no longer works. Choose your own password for the portal.
password-change-title = Change password
password-reset-title = New password
password-reset-intro = Choose a new password. Once saved, all open sessions end.
password-not-saved = The password was not saved — fix the errors below.
current-password = Current password
new-password = New password
password-hint = 8 to 128 characters; 12 or more is better. A phrase of several words works well. Very common passwords are not accepted.
new-password-again = New password again
password-save = Save password
password-changed-title = Password changed
password-changed-text = The new password is saved. Sessions on other devices have ended.
password-reset-done = The new password is saved and all sessions have ended. Sign in with the new password.
to-account = To my account
reset-sent-1 = If the account has a user, a link to set a new password was sent to their e-mail. The link works for one hour.
reset-sent-2 = To keep mailboxes from being flooded, at most three e-mails an hour go out per account. If nothing arrives, wait and check the spam folder.
reset-invalid-title = The link is not valid
reset-invalid-text = The link has been used or has expired. Ask for a new one.
reset-request-title = Reset password
reset-request-intro = Enter your personal account number. If it has a user, a link to set a new password goes to the e-mail given at registration.
reset-request-submit = Send the link
password-change-link = Change password

## Rules and home
rules-title = Rules of the portal
rules-edition-since = Version { $v }, in force since { $date }.
rules-changed = The Rules have changed. To go on using the portal, accept the new version.
rules-accept = I accept the Rules
rules-earlier = Earlier versions
rules-none = The organization has not published the Rules yet.
rules-version-link = Version { $v }: { $title }
home-title = Home
home-no-org = The organization's details have not been loaded yet.
home-intro = Sign in or register with your personal account number.

## Overview
overview-title = Overview
holder-address = { $holder }, { $address }
balance-debt = To pay
balance-advance = Advance (overpaid)
balance-zero = Nothing owed
balance-note = As of the organization's latest data, with payments received since.
current-invoice = Invoice for { $month }
due-date = Due by
to-pay = Amount to pay
invoice-status = Status
status-unpaid = unpaid
status-partly_paid = partly paid
status-paid = paid
status-overdue = overdue
last-payment = Last payment
last-payment-text = { $amount } on { $date }
no-payments = No payments yet.
no-invoices = No invoices yet.
pay = Pay
pay-soon = Card payment in the portal is coming soon. Until then, pay with the QR code on the receipt in your banking app.
readings-window = Meter readings
window-open = Readings are accepted until { $date } inclusive.
window-closed = Readings will be accepted from { $date }.
requests-open = Requests
requests-none = No open requests.
receipts = Receipts
receipt-for = Receipt for { $month }
all-invoices = All invoices

## Invoices
invoices-title = Invoices
th-period = Month
th-charged = Charged
th-paid = Paid
th-total = To pay
th-status = Status
th-receipt = Receipt
receipt-pdf = PDF
invoice-title = Invoice for { $month }
opening-debt = Debt at the start of the month
opening-advance = Advance at the start of the month
penalties = Penalties
paid-in-period = Paid during the month
total-due = Total to pay
due-by = Due by { $date }
th-service = Service
th-volume = Volume
th-unit = Unit
th-tariff = Tariff
th-recalc = Recalculation
th-benefits = Benefits
th-line-total = Total
invoice-payments = Payments towards this month
invoice-no-payments = No payments towards this month yet.
download-receipt = Download the receipt (PDF)
back-to-invoices = All invoices

## Charges
charges-title = Charges by service
range-from = From month
range-to = To month
range-show = Show
range-hint = A month as YYYY-MM, e.g. 2026-01. At most 60 months at once.
charges-empty = There are no charges for the chosen months.
chart-title = Charges by month
chart-alt = Bar chart of charges from { $from } to { $to }, { $total } in all. The same data is in the table below.
total-for-range = Total for the period
month-total = Month total
download-csv = Download CSV
charges-by-month = By month
charges-by-service = By service for the period

## Payments
payments-title = Payments
th-date = Date
th-amount = Amount
th-source = Channel
source-bank = bank
source-cash = cash desk
source-post = post office
source-portal = this portal
source-other = other
payment-credited = credited
page-of = Page { $page } of { $pages }
prev-page = Previous
next-page = Next

## Settings
settings-title = Settings
saved = Changes saved.
contact-heading = Contacts
email-current = E-mail: { $email }
email-change-intro = To change the address, enter the new one and your password. A link goes to the new address — the address changes once you open it. The old address is told.
email-new = New address
email-change-submit = Change address
email-change-sent = A confirmation link was sent to the new address. Until you open it, e-mails go to the old one.
phone-label = Phone
phone-hint = For example: +7 912 345-67-89. May be left empty.
notifications-heading = E-mail notifications
notify-new_invoice = New invoice
notify-payment_received = Payment credited
notify-readings_reminder = Meter readings reminder
notify-request_updates = Request updates
sms-soon = SMS notifications come later.
paperless-label = No paper receipt — get it in the portal
language-label = Language
language-browser = As in the browser
settings-save = Save
linked-heading = My accounts
linked-intro = Add another personal account to see it here. It takes the same check value as registration.
linked-primary = sign-in account
unlink = Remove
link-submit = Add account
linked-added = The account was added.
linked-removed = The account was removed from the list.
my-data-heading = My data
my-data-intro = Everything the portal holds about you: profile, accounts, consents, sign-in history, settings and e-mails sent — as one JSON file.
my-data-download = Download my data
email-confirm-title = Confirm the e-mail address
email-confirm-text = Press the button to receive the portal's e-mails at this address.
email-confirm-submit = Confirm the address
email-confirmed = The e-mail address is now { $email }.

## Help and sections coming soon
help-title = Help
help-contacts = Contacts
help-rules = Rules of the portal
help-rules-current = Version in force
meters-title = Meters
meters-soon = Your meters and meter readings will be here. The section is coming soon; the days readings are accepted are on the Overview page.
requests-title = Requests
requests-soon = Here you will be able to send a request to the emergency dispatch service or the organization. The section is coming soon; in an emergency call the number at the bottom of the page.
